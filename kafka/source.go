package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"sort"
	"time"
)

// Verdict is what the broker made of one record's value, as Config.Submit
// reports it; it decides whether the source may move past the record.
type Verdict uint8

const (
	// Accepted: a new event, durably recorded and passed on.
	Accepted Verdict = iota + 1
	// Duplicate: an event recorded before, durably.
	Duplicate
	// Refused: the value failed a check and would fail it again; it is
	// passed over.
	Refused
	// Failed: the event could not be made durable; the source fetches
	// the record again later and does not move past it.
	Failed
)

// String is the verdict's name as /metrics labels it.
func (v Verdict) String() string {
	switch v {
	case Accepted:
		return "accepted"
	case Duplicate:
		return "duplicate"
	case Refused:
		return "refused"
	case Failed:
		return "failed"
	}
	return "unknown"
}

// Verdicts lists every verdict, in the order /metrics shows them.
var Verdicts = []Verdict{Accepted, Duplicate, Refused, Failed}

// Config is one Kafka source: a cluster, its topics, and what to do with
// each record.
type Config struct {
	// Name names the source in logs, /status and /metrics: the URL the
	// operator gave, without its options (which may name a file).
	Name string
	// Addr is the bootstrap broker, HOST:PORT.
	Addr string
	// Topics are topic names; one ending in '*' stands for every topic
	// whose name starts with what precedes it, re-listed every few
	// minutes.
	Topics []string
	// TLS, if set, is used for every broker connection; nil means plain
	// TCP. ServerName is replaced by each broker's host.
	TLS *tls.Config
	// Creds authenticate every connection; nil means none.
	Creds *Creds
	// TokenRoots verify an oauthbearer token endpoint (nil: the system's).
	TokenRoots *x509.CertPool
	// From is where a topic-partition with no stored offset begins.
	From From
	// OffsetsFile keeps the next offset of every topic-partition; "" keeps
	// them in memory only.
	OffsetsFile string
	// MaxRecord is the largest value the broker takes (its maximum frame
	// size); it sizes how much one fetch may ask for and decompress.
	MaxRecord int
	// BackoffMax bounds the wait between reconnection attempts.
	BackoffMax time.Duration
	// Submit hands one record's value to the broker; reason says why it
	// was refused or failed. log carries the record's topic, partition
	// and offset. It is called from one goroutine at a time, in offset
	// order within each partition.
	Submit func(value []byte, log *slog.Logger) (v Verdict, reason string)
	// Log receives the source's lines.
	Log *slog.Logger
}

// From is where a topic-partition with no stored offset starts: its end
// (the zero value: only records produced from now on), its start (every
// record the cluster still keeps), or the first record at or after Time.
type From struct {
	Start bool
	Time  time.Time
}

// ParseFrom reads the from= option: "end", "start" or an RFC 3339 time.
func ParseFrom(s string) (From, error) {
	switch s {
	case "", "end":
		return From{}, nil
	case "start":
		return From{Start: true}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return From{}, fmt.Errorf("from=%q: want end, start or an RFC 3339 time", s)
	}
	return From{Time: t}, nil
}

// Outage is how long a source may be unable to fetch before /healthz
// reports it, as for remote brokers.
const Outage = 2 * time.Minute

// Status is a source's state for /status and /metrics. It holds no
// secret.
type Status struct {
	Name    string `json:"name"`
	Cluster string `json:"cluster"`
	// State is "connecting", "fetching", "waiting" (between attempts
	// after a failure) or "stopped" (once Run has returned).
	State     string   `json:"state"`
	Connected bool     `json:"connected"`
	Topics    []string `json:"topics"`
	// Partitions is every topic-partition assigned, by topic and
	// partition.
	Partitions []PartitionStatus `json:"partitions"`
	// TokenExpires is when the oauthbearer token in use expires.
	TokenExpires *time.Time `json:"token_expires,omitempty"`
	// Since is when the source started; LastFetch when a fetch was last
	// answered (zero: never).
	Since     time.Time `json:"since"`
	LastFetch time.Time `json:"last_fetch"`
	// Records counts records by verdict name; BatchErrors counts record
	// batches refused (damaged, unsupported codec, too large).
	Records     map[string]int64 `json:"records"`
	BatchErrors int64            `json:"batch_errors"`
	LastError   string           `json:"last_error,omitempty"`
}

// PartitionStatus is one topic-partition's position.
type PartitionStatus struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Next is the offset of the next record to take; -1 until known.
	Next int64 `json:"next_offset"`
	// HighWatermark is the offset the next record produced will get, as
	// of the last fetch; -1 until known. Lag is HighWatermark - Next.
	HighWatermark int64      `json:"high_watermark"`
	Lag           int64      `json:"lag"`
	LastRecord    *time.Time `json:"last_record_time,omitempty"`
}

// Problem says why the source is unhealthy at now, or "" if it is not:
// it has not fetched for longer than Outage.
func (s Status) Problem(now time.Time) string {
	last := s.LastFetch
	if last.IsZero() {
		last = s.Since
	}
	if now.Sub(last) <= Outage {
		return ""
	}
	why := ""
	if s.LastError != "" {
		why = ": " + s.LastError
	}
	return fmt.Sprintf("Kafka source %s has been unable to fetch for over %v%s", s.Name, Outage, why)
}

// TopicInfo is one topic a credential can see.
type TopicInfo struct {
	Name       string
	Partitions int
}

// sortPartitions orders partitions by topic, then partition.
func sortPartitions(p []PartitionStatus) {
	sort.Slice(p, func(i, j int) bool {
		if p[i].Topic != p[j].Topic {
			return p[i].Topic < p[j].Topic
		}
		return p[i].Partition < p[j].Partition
	})
}
