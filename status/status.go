package status

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"comet/handlers"
	"comet/kafka"
	"comet/vtp"
)

// Source is where the pages take their figures from. Each function is
// called once per request; nil ones are left out.
type Source struct {
	Version  string
	LocalIVO string
	Start    time.Time
	Broker   func() vtp.Snapshot
	Handlers func() []handlers.HandlerStats
	// StoreErr says why the seen store cannot write, or nil; StoreLen is
	// how many keys it holds; StoreFile, if set, is its log file, whose
	// size is reported.
	StoreErr       func() error
	StoreLen       func() int
	StoreCompacted func() time.Time // when the log was last compacted; zero if never
	StoreFile      string
	// Journal describes the event journal (nil, or an empty ID: none).
	Journal journalSource
	// Kafka returns the state of each Kafka source (nil: none).
	Kafka func() []kafka.Status
	// Now is the clock (time.Now if nil).
	Now func() time.Time
}

// Report is the JSON object /status serves.
type Report struct {
	Version     string               `json:"version"`
	LocalIVO    string               `json:"local_ivo"`
	Start       time.Time            `json:"start_time"`
	Now         time.Time            `json:"time"`
	Healthy     bool                 `json:"healthy"`
	Problems    []string             `json:"problems"`
	Listeners   []vtp.ListenerInfo   `json:"listeners"`
	Counters    vtp.Counters         `json:"counters"`
	Subscribers []vtp.SubscriberInfo `json:"subscribers"`
	Remotes     []vtp.RemoteInfo     `json:"remotes"`
	Handlers    []Handler            `json:"handlers"`
	Store       Store                `json:"seen_store"`
	LastEvent   *vtp.LastEvent       `json:"last_event"`
	Spools      []vtp.SpoolInfo      `json:"spools,omitempty"`
	Journal     *Journal             `json:"journal,omitempty"`
	Kafka       []kafka.Status       `json:"kafka_sources,omitempty"`
}

// Handler is one handler's counters.
type Handler struct {
	Name    string `json:"name"`
	Queued  int    `json:"queued"`
	Done    int64  `json:"done"`
	Failed  int64  `json:"failed"`
	Skipped int64  `json:"skipped"`
}

// Store is the seen-events store's state.
type Store struct {
	Keys      int        `json:"keys"`
	FileBytes int64      `json:"file_bytes"`
	Compacted *time.Time `json:"last_compaction"` // null before the first since start
	Error     string     `json:"error,omitempty"`
}

// Report gathers the figures now.
func (src *Source) Report() Report {
	now := time.Now
	if src.Now != nil {
		now = src.Now
	}
	r := Report{Version: src.Version, LocalIVO: src.LocalIVO, Start: src.Start, Now: now(), Problems: []string{}}
	if src.Broker != nil {
		s := src.Broker()
		r.Listeners, r.Counters, r.Subscribers, r.Remotes, r.LastEvent = s.Listeners, s.Counters, s.Subscribers, s.Remotes, s.LastEvent
		r.Spools = s.Spools
		r.Problems = append(r.Problems, s.Problems(r.Now)...)
	}
	if src.StoreErr != nil {
		if err := src.StoreErr(); err != nil {
			r.Store.Error = err.Error()
			r.Problems = append(r.Problems, "the seen-events store cannot write: "+err.Error())
		}
	}
	if src.StoreLen != nil {
		r.Store.Keys = src.StoreLen()
	}
	if src.StoreCompacted != nil {
		if t := src.StoreCompacted(); !t.IsZero() {
			r.Store.Compacted = &t
		}
	}
	if src.StoreFile != "" {
		if fi, err := os.Stat(src.StoreFile); err == nil {
			r.Store.FileBytes = fi.Size()
		}
	}
	r.Journal = src.journalReport()
	src.kafkaReport(&r)
	if src.Handlers != nil {
		for _, h := range src.Handlers() {
			r.Handlers = append(r.Handlers, Handler{h.Name, h.Queued, h.Done, h.Failed, h.Skipped})
		}
	}
	if r.Listeners == nil {
		r.Listeners = []vtp.ListenerInfo{}
	}
	if r.Subscribers == nil {
		r.Subscribers = []vtp.SubscriberInfo{}
	}
	if r.Remotes == nil {
		r.Remotes = []vtp.RemoteInfo{}
	}
	if r.Handlers == nil {
		r.Handlers = []Handler{}
	}
	r.Healthy = len(r.Problems) == 0
	return r
}

// Handler returns the HTTP handler for the four pages.
func (src *Source) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, req *http.Request) {
		r := src.Report()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if r.Healthy {
			w.Write([]byte("ok\n"))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(strings.Join(r.Problems, "\n") + "\n"))
	})
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.Encode(src.Report())
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		r := src.Report()
		writeMetrics(w, &r)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		r := src.Report()
		if err := page.Execute(w, &r); err != nil {
			http.Error(w, "cannot render the page", http.StatusInternalServerError)
		}
	})
	return mux
}

// MaxConns bounds the status connections open at once. When a new one
// comes and MaxConns are open, the one idle longest (connected but silent,
// or a keep-alive between requests) is closed to make room; only when
// every one has a request in progress, each bounded by the timeouts, does
// the new one wait in the kernel's backlog.
const MaxConns = 16

// Serve serves the pages on l until Close. The server has timeouts for
// every phase of a request, at most MaxConns connections open at once
// (idle ones giving way to new ones), and answers only requests that name
// it in their Host header (see hostGuard).
func Serve(l net.Listener, src *Source) *Server {
	limited := newConnLimiter(l, MaxConns)
	s := &Server{http: &http.Server{
		Handler:           hostGuard(l.Addr(), src.Handler()),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
		ConnState:         limited.connState,
	}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := s.http.Serve(limited); !errors.Is(err, http.ErrServerClosed) {
			s.err = err
		}
	}()
	return s
}

// Server is a running status server.
type Server struct {
	http *http.Server
	done chan struct{}
	err  error
}

// Close stops the server and its connections, and returns why it had
// stopped serving, if it had.
func (s *Server) Close() error {
	s.http.Close()
	<-s.done
	return s.err
}
