package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Tuning of a source. A fetch waits up to fetchWait at the broker for a
// record (a long poll: it is answered as soon as one arrives), so an idle
// source sends a few requests a minute per broker it reads from.
const (
	fetchWait = 20 * time.Second
	// relistEvery is how often topics given as PREFIX* are listed again,
	// so that new ones are taken up.
	relistEvery = 5 * time.Minute
	// retryMissing is how soon a topic that was not there, or not
	// readable, or a partition without a leader, is looked for again.
	retryMissing = time.Minute
	// retryPartition is how long a partition waits after a record could
	// not be made durable, or after a batch that cannot be trusted.
	retryPartition = 5 * time.Second
	// fetchMaxBytes bounds one fetch's answer, all partitions together.
	fetchMaxBytes = 16 << 20
)

// Source is one running Kafka source. Its partitions are read by one
// goroutine per broker that leads any of them, each long-polling its
// partitions; records are handed to Config.Submit one at a time, in
// offset order within each partition.
type Source struct {
	cfg         Config
	log         *slog.Logger
	auth        *authenticator // nil: no SASL
	maxResponse int32
	partMax     int32 // partition_max_bytes of a fetch
	budget      int   // decompressed bytes one partition's answer may make

	// Timings, fixed in New; tests shorten them.
	wait, relist, retryMissing, retryPart time.Duration

	submitMu sync.Mutex // one Submit at a time
	saveMu   sync.Mutex // one offsets write at a time
	warn     limiter    // refused records and batches

	mu     sync.Mutex
	parts  map[topicPart]*partState
	stored map[topicPart]int64 // the next offset of every partition ever read
	dirty  bool                // stored changed since it was last written
	// started is set once the first layout is assigned: a partition found
	// after that (a topic created, or readable, later) starts at its
	// earliest offset, not at From, so that none of its records is missed.
	started bool
	missing map[string]string // topics reported unavailable, and why
	pool    map[string]*conn  // idle connections by broker address
	known   []string          // the brokers the last metadata named, but the bootstrap
	// backoff is the last wait before trying a broker again, by address,
	// while its connections fail.
	backoff   map[string]time.Duration
	state     string
	fetchers  int
	since     time.Time
	lastFetch time.Time
	lastErr   string
	records   [Failed + 1]int64
	batchErrs int64
	progress  bool // a record was taken since the last failure
}

// partState is one topic-partition's position; guarded by Source.mu.
type partState struct {
	next      int64 // -1 until known
	start     int64 // where to begin when next is unknown: a time in ms, offsetEarliest or offsetLatest
	hw        int64
	last      time.Time
	retryAt   time.Time
	excluded  bool // not readable this round
	codecSaid bool // the unsupported-codec error was logged
	// damagedAt is where a batch failed its checksum, damagedTries how
	// many times in a row.
	damagedAt    int64
	damagedTries int
}

// New checks cfg and reads the stored offsets.
func New(cfg Config) (*Source, error) {
	if cfg.Addr == "" || len(cfg.Topics) == 0 || cfg.Submit == nil {
		return nil, errors.New("kafka: a source needs an address, topics and a Submit function")
	}
	for _, t := range cfg.Topics {
		if name := strings.TrimSuffix(t, "*"); name != "" && !validTopic(name) {
			return nil, fmt.Errorf("kafka: %q is not a topic name (letters, digits, '.', '_', '-'; up to 249)", t)
		}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = time.Minute
	}
	auth, err := newAuthenticator(cfg)
	if err != nil {
		return nil, err
	}
	stored, err := loadOffsets(cfg.OffsetsFile)
	if err != nil {
		return nil, err
	}
	maxRec := min(max(cfg.MaxRecord, 1<<20), 64<<20)
	return &Source{
		cfg: cfg, log: cfg.Log.With("kafka", cfg.Name), auth: auth,
		maxResponse: int32(fetchMaxBytes + 2*maxRec + 1<<20),
		partMax:     int32(maxRec + 64<<10),
		budget:      max(8<<20, 2*maxRec),
		wait:        fetchWait, relist: relistEvery, retryMissing: retryMissing, retryPart: retryPartition,
		parts: map[topicPart]*partState{}, stored: stored, missing: map[string]string{},
		pool: map[string]*conn{}, backoff: map[string]time.Duration{}, state: "connecting", since: time.Now(),
	}, nil
}

func newAuthenticator(cfg Config) (*authenticator, error) {
	if cfg.Creds == nil {
		return nil, nil
	}
	a := &authenticator{creds: cfg.Creds}
	if cfg.Creds.Mechanism == MechOAuthBearer {
		ts, err := newTokenSource(cfg.Creds, cfg.TokenRoots, requestTimeout)
		if err != nil {
			return nil, err
		}
		a.tokens = newTokenRefresher(ts.fetch, nil)
	}
	return a, nil
}

// maxResponseFor bounds a response for ListTopics, which fetches nothing.
func maxResponseFor(Config) int32 { return fetchMaxBytes }

// Run consumes until ctx is done. Every failure is logged and retried,
// after a wait that doubles up to Config.BackoffMax and starts again
// from a second once records flow: for the whole source when no broker
// answers for metadata, for one broker when its connection fails.
func (s *Source) Run(ctx context.Context) {
	s.log.Info("kafka source starting", "cluster", s.cfg.Addr, "topics", strings.Join(s.cfg.Topics, ","))
	var delay time.Duration
	for ctx.Err() == nil {
		err := s.round(ctx)
		if ctx.Err() != nil {
			break
		}
		var again *roundAgain
		if err == nil || errors.As(err, &again) {
			continue
		}
		s.mu.Lock()
		if s.progress {
			delay = 0
		}
		s.progress = false
		s.state, s.lastErr = "waiting", err.Error()
		s.mu.Unlock()
		delay = nextBackoff(delay, s.cfg.BackoffMax)
		s.log.Warn("kafka: "+strings.TrimPrefix(err.Error(), "kafka: "), "retry_in", delay.Round(time.Millisecond))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	s.mu.Lock()
	for addr, c := range s.pool {
		c.close()
		delete(s.pool, addr)
	}
	s.state = "stopped"
	s.mu.Unlock()
	s.save()
}

// nextBackoff doubles the wait, from a second up to limit, with 12%
// jitter so that sources cut off together do not return together.
func nextBackoff(prev, limit time.Duration) time.Duration {
	d := 2 * prev
	if prev == 0 {
		d = time.Second
	}
	d = min(d, limit)
	return time.Duration(float64(d) * (1 + 0.12*(2*rand.Float64()-1)))
}

// staleError says the source's picture of the cluster is out of date (a
// leader moved): the round ends and metadata is asked for again.
type staleError struct {
	tp   topicPart
	code ErrorCode
}

func (e *staleError) Error() string {
	return fmt.Sprintf("kafka: %s: %s", e.tp, e.code)
}

// roundState is what the fetchers of one round share.
type roundState struct {
	relist atomic.Bool // end the round after the current fetches
	retry  sync.Once   // a relist was scheduled for an excluded partition
}

// round asks for metadata, reads every partition from its leader until a
// failure or a relist, and returns the failure (nil for a relist).
func (s *Source) round(ctx context.Context) error {
	s.setState("connecting")
	l, err := s.layout(ctx)
	if err != nil {
		return err
	}
	s.noteMissing(l.missing)
	groups := s.assign(l)
	rs := &roundState{}
	every := time.Duration(0)
	if hasWildcard(s.cfg.Topics) {
		every = s.relist
	}
	if len(l.missing) > 0 || l.leaderless > 0 || len(groups) == 0 {
		every = min(every, s.retryMissing)
		if every == 0 {
			every = s.retryMissing
		}
	}
	if len(groups) == 0 {
		s.setState("waiting")
		s.mu.Lock()
		s.lastErr = "no partition to read: " + strings.Join(s.cfg.Topics, ",")
		s.mu.Unlock()
		t := time.NewTimer(every)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		return nil
	}
	if every > 0 {
		t := time.AfterFunc(every, func() { rs.relist.Store(true) })
		defer t.Stop()
	}
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(groups))
	for addr, tps := range groups {
		go func() { errs <- s.fetchLoop(rctx, addr, tps, rs) }()
	}
	var first error
	for range groups {
		if err := <-errs; err != nil && first == nil {
			first = err
			cancel() // the others stop at once; their connections are closed
		}
	}
	return first
}

// layout asks the bootstrap broker for metadata, or, if it cannot be
// had, each broker the last answer named, so that a bootstrap address
// down does not stop a source whose brokers serve.
func (s *Source) layout(ctx context.Context) (*layout, error) {
	s.mu.Lock()
	addrs := append([]string{s.cfg.Addr}, s.known...)
	s.mu.Unlock()
	var first error
	for _, addr := range addrs {
		c, err := dialBroker(ctx, addr, s.cfg.TLS, s.auth, s.maxResponse)
		if err == nil {
			var l *layout
			l, err = metadata(ctx, c, s.cfg.Topics)
			c.close()
			if err == nil {
				s.mu.Lock()
				s.known = s.known[:0]
				for _, a := range l.brokers {
					if a != s.cfg.Addr && !slices.Contains(s.known, a) {
						s.known = append(s.known, a)
					}
				}
				s.mu.Unlock()
				return l, nil
			}
		}
		if first == nil {
			first = err
		}
		if ctx.Err() != nil {
			break
		}
	}
	return nil, first
}

// assign makes sure every partition of l has its state and groups them
// by their leader's address. Idle connections to brokers that lead none
// of them are closed.
func (s *Source) assign(l *layout) map[string][]topicPart {
	s.mu.Lock()
	defer s.mu.Unlock()
	groups := map[string][]topicPart{}
	for tp, leader := range l.leaders {
		st := s.parts[tp]
		if st == nil {
			st = &partState{next: -1, hw: -1, start: offsetEarliest}
			if o, ok := s.stored[tp]; ok {
				st.next = o
			} else if !s.started {
				st.start = s.cfg.From.timestamp()
			}
			s.parts[tp] = st
		}
		st.excluded = false
		addr := l.brokers[leader]
		groups[addr] = append(groups[addr], tp)
	}
	s.started = true
	for addr, c := range s.pool {
		if groups[addr] == nil {
			c.close()
			delete(s.pool, addr)
		}
	}
	return groups
}

// timestamp is the ListOffsets timestamp that finds where f begins.
func (f From) timestamp() int64 {
	switch {
	case f.Start:
		return offsetEarliest
	case !f.Time.IsZero():
		return max(f.Time.UnixMilli(), 0)
	}
	return offsetLatest
}

// noteMissing logs each topic that became unavailable, once, and each
// that came back.
func (s *Source) noteMissing(now map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, why := range now {
		if s.missing[t] != why {
			s.log.Warn("kafka: topic not available: looking again in a while", "topic", t, "reason", why)
			s.missing[t] = why
		}
	}
	for t := range s.missing {
		if _, ok := now[t]; !ok {
			s.log.Info("kafka: topic available again", "topic", t)
			delete(s.missing, t)
		}
	}
}

func (s *Source) setState(st string) {
	s.mu.Lock()
	s.state = st
	s.mu.Unlock()
}

// getConn takes the idle connection to addr, or makes one.
func (s *Source) getConn(ctx context.Context, addr string) (*conn, error) {
	s.mu.Lock()
	c := s.pool[addr]
	delete(s.pool, addr)
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	return dialBroker(ctx, addr, s.cfg.TLS, s.auth, s.maxResponse)
}

// putConn keeps c for the next round.
func (s *Source) putConn(addr string, c *conn) {
	s.mu.Lock()
	if old := s.pool[addr]; old != nil {
		old.close()
	}
	s.pool[addr] = c
	s.mu.Unlock()
}

// limiter lets through the first limitBurst lines in each minute and
// counts the rest, so that a stream of bad records cannot flood the log.
type limiter struct {
	mu      sync.Mutex
	window  time.Time
	n       int
	dropped int
}

const limitBurst = 10

// allow reports whether a line may be logged now, and how many were left
// out before it.
func (l *limiter) allow() (ok bool, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.window) >= time.Minute {
		l.window, l.n = now, 0
	}
	l.n++
	if l.n > limitBurst {
		l.dropped++
		return false, 0
	}
	dropped, l.dropped = l.dropped, 0
	return true, dropped
}
