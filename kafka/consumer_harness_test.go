package kafka

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"log/slog"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// What the consumer tests share: a log handler that keeps every line and
// lets Submit read the record's topic, partition and offset from the
// logger it is given; a recorder of submissions with verdicts the test
// chooses; a running source that stops when the test ends.
//
// The source dials its brokers itself (Config takes no dialer), so these
// tests run over real sockets on 127.0.0.1 against the fake cluster and
// cannot use a testing/synctest bubble; the timings the source keeps in
// its fields (long poll, relist, retries) are shortened instead, and
// every wait for an outcome gives up only after a minute.

// logSink keeps the lines a source logs.
type logSink struct {
	mu    sync.Mutex
	lines []logLine
}

type logLine struct {
	level slog.Level
	text  string // level, message and every attribute, key=value
}

// sinkHandler is a slog.Handler writing to a logSink. The attributes
// given to WithAttrs are kept, so Submit can read them back.
type sinkHandler struct {
	sink   *logSink
	attrs  []slog.Attr
	prefix string
}

func (h *sinkHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *sinkHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	for _, a := range h.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s%s=%v", h.prefix, a.Key, a.Value)
		return true
	})
	h.sink.mu.Lock()
	h.sink.lines = append(h.sink.lines, logLine{r.Level, b.String()})
	h.sink.mu.Unlock()
	return nil
}

func (h *sinkHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	n.attrs = slices.Clone(h.attrs)
	for _, a := range as {
		a.Key = h.prefix + a.Key
		n.attrs = append(n.attrs, a)
	}
	return &n
}

func (h *sinkHandler) WithGroup(g string) slog.Handler {
	n := *h
	n.prefix = h.prefix + g + "."
	return &n
}

// attr returns the last attribute whose key is key or ends in "."+key.
func (h *sinkHandler) attr(key string) (slog.Value, bool) {
	for i := len(h.attrs) - 1; i >= 0; i-- {
		if k := h.attrs[i].Key; k == key || strings.HasSuffix(k, "."+key) {
			return h.attrs[i].Value.Resolve(), true
		}
	}
	return slog.Value{}, false
}

func (s *logSink) all() []logLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.lines)
}

// matching returns the lines at level or above that contain every one of
// words.
func (s *logSink) matching(level slog.Level, words ...string) []string {
	var out []string
	for _, l := range s.all() {
		if l.level < level {
			continue
		}
		ok := true
		for _, w := range words {
			ok = ok && strings.Contains(l.text, w)
		}
		if ok {
			out = append(out, l.text)
		}
	}
	return out
}

// tpo names one record.
type tpo struct {
	topic  string
	part   int32
	offset int64
}

func (r tpo) String() string { return fmt.Sprintf("%s/%d@%d", r.topic, r.part, r.offset) }

type submission struct {
	tpo
	value string
}

// recorder is a Config.Submit that records what it is given and answers
// the verdict its verdict func chooses (Accepted when nil); n is how
// many times the same record was submitted before.
type recorder struct {
	t       *testing.T
	mu      sync.Mutex
	subs    []submission
	verdict func(s submission, n int) (Verdict, string)
	bad     string // why a submission could not be read, the first time
	// inflight counts calls under way: Submit is called from one
	// goroutine at a time.
	inflight atomic.Int32
}

func (r *recorder) submit(value []byte, log *slog.Logger) (Verdict, string) {
	if r.inflight.Add(1) != 1 {
		r.mu.Lock()
		if r.bad == "" {
			r.bad = "Submit called from two goroutines at once"
		}
		r.mu.Unlock()
	}
	defer r.inflight.Add(-1)
	s := submission{tpo: tpo{offset: -1, part: -1}, value: string(value)}
	h, ok := log.Handler().(*sinkHandler)
	why := ""
	if !ok {
		why = fmt.Sprintf("Submit's logger has handler %T, not the one in Config.Log", log.Handler())
	} else {
		t, ok1 := h.attr("topic")
		p, ok2 := h.attr("partition")
		o, ok3 := h.attr("offset")
		pi, err1 := strconv.ParseInt(p.String(), 10, 32)
		oi, err2 := strconv.ParseInt(o.String(), 10, 64)
		if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil {
			why = fmt.Sprintf("Submit's logger lacks topic, partition and offset: %v", h.attrs)
		}
		s.topic, s.part, s.offset = t.String(), int32(pi), oi
	}
	r.mu.Lock()
	if why != "" && r.bad == "" {
		r.bad = why
	}
	n := 0
	for _, o := range r.subs {
		if o.tpo == s.tpo {
			n++
		}
	}
	r.subs = append(r.subs, s)
	verdict := r.verdict
	r.mu.Unlock()
	if verdict == nil {
		return Accepted, ""
	}
	return verdict(s, n)
}

func (r *recorder) setVerdict(f func(s submission, n int) (Verdict, string)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.verdict = f
}

func (r *recorder) all() []submission {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bad != "" {
		r.t.Fatal(r.bad)
	}
	return slices.Clone(r.subs)
}

// of returns the offsets submitted for one partition, in order.
func (r *recorder) of(topic string, part int32) []int64 {
	var out []int64
	for _, s := range r.all() {
		if s.topic == topic && s.part == part {
			out = append(out, s.offset)
		}
	}
	return out
}

// has reports whether every one of want was submitted at least once.
func (r *recorder) has(want []submission) bool {
	seen := map[tpo]bool{}
	for _, s := range r.all() {
		seen[s.tpo] = true
	}
	for _, w := range want {
		if !seen[w.tpo] {
			return false
		}
	}
	return true
}

// checkOnce fails t unless every record of want was submitted exactly
// once, with its value, and each partition's in offset order; records
// of other partitions are not looked at.
func (r *recorder) checkOnce(t *testing.T, want []submission) {
	t.Helper()
	got := map[[2]any][]submission{}
	for _, s := range r.all() {
		k := [2]any{s.topic, s.part}
		got[k] = append(got[k], s)
	}
	wantBy := map[[2]any][]submission{}
	for _, w := range want {
		k := [2]any{w.topic, w.part}
		wantBy[k] = append(wantBy[k], w)
	}
	for k, ws := range wantBy {
		gs := got[k]
		var gotOffs, wantOffs []int64
		for _, g := range gs {
			gotOffs = append(gotOffs, g.offset)
		}
		for _, w := range ws {
			wantOffs = append(wantOffs, w.offset)
		}
		if !slices.Equal(gotOffs, wantOffs) {
			t.Errorf("%s/%d: offsets submitted %v, want each of %v once, in order", k[0], k[1], gotOffs, wantOffs)
			continue
		}
		for i, w := range ws {
			if gs[i].value != w.value {
				t.Errorf("%v: value %.60q, want %.60q", w.tpo, gs[i].value, w.value)
			}
		}
	}
}

// waitFor polls cond until it holds; after a minute (far beyond what
// any of these tests needs on a loaded machine) it fails t, saying what
// was awaited.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// consumerEnv is one test's source and what it needs.
type consumerEnv struct {
	t   *testing.T
	c   *fakeCluster
	rec *recorder
	log *logSink
	cfg Config
	// tune, if set, changes the source's timings before it runs.
	tune func(*Source)
}

func newConsumerEnv(t *testing.T, c *fakeCluster, topics ...string) *consumerEnv {
	e := &consumerEnv{t: t, c: c, rec: &recorder{t: t}, log: &logSink{}}
	e.cfg = Config{
		Name:        "kafka://" + c.bootstrap() + "/" + strings.Join(topics, ","),
		Addr:        c.bootstrap(),
		Topics:      topics,
		From:        From{Start: true},
		OffsetsFile: filepath.Join(t.TempDir(), "offsets"),
		MaxRecord:   1 << 20,
		BackoffMax:  200 * time.Millisecond,
		Submit:      e.rec.submit,
		Log:         slog.New(&sinkHandler{sink: e.log}),
	}
	t.Cleanup(func() {
		if t.Failed() {
			lines := e.log.all()
			for _, l := range lines[max(0, len(lines)-60):] {
				t.Log(l.text)
			}
			t.Logf("fake cluster: %+v", c.Stats())
		}
	})
	return e
}

// runningSource is a source whose Run is going.
type runningSource struct {
	*Source
	cancel context.CancelFunc
	done   chan struct{}
}

// start runs a new Source with e.cfg until stop or the end of the test.
func (e *consumerEnv) start() *runningSource {
	e.t.Helper()
	src, err := New(e.cfg)
	if err != nil {
		e.t.Fatalf("New: %v", err)
	}
	// The source's timings, shortened so that retries come within a
	// test's patience; the long poll keeps its own unless a test says.
	src.relist, src.retryMissing, src.retryPart = 300*time.Millisecond, 300*time.Millisecond, 200*time.Millisecond
	if e.tune != nil {
		e.tune(src)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rs := &runningSource{Source: src, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(rs.done)
		src.Run(ctx)
	}()
	e.t.Cleanup(func() { rs.stop(e.t) })
	return rs
}

// stop ends Run and waits for it to return.
func (rs *runningSource) stop(t *testing.T) {
	t.Helper()
	rs.cancel()
	select {
	case <-rs.done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return 30 s after its context was cancelled")
	}
}

// partition returns the status of one partition, and whether it is
// listed.
func (rs *runningSource) partition(topic string, p int32) (PartitionStatus, bool) {
	for _, ps := range rs.Status().Partitions {
		if ps.Topic == topic && ps.Partition == p {
			return ps, true
		}
	}
	return PartitionStatus{}, false
}

// next is the partition's next offset in Status, -2 if not listed.
func (rs *runningSource) next(topic string, p int32) int64 {
	ps, ok := rs.partition(topic, p)
	if !ok {
		return -2
	}
	return ps.Next
}

// appendFixture appends a fixture's batches to a partition and returns
// the records a consumer must hand on, at the offsets they took.
func appendFixture(t *testing.T, c *fakeCluster, topic string, p int32, name string) []submission {
	t.Helper()
	return appendRaw(t, c, topic, p, readFixture(t, name))
}

// appendRaw appends record batches and returns their data records at the
// offsets they took.
func appendRaw(t *testing.T, c *fakeCluster, topic string, p int32, raw []byte) []submission {
	t.Helper()
	res, err := decodeRecords(raw, 0, 64<<20)
	if err != nil {
		t.Fatal(err)
	}
	base := int64(binary.BigEndian.Uint64(raw))
	first, _ := c.appendBatches(topic, p, raw)
	var out []submission
	for _, r := range res.records {
		out = append(out, submission{tpo{topic, p, first + r.Offset - base}, string(r.Value)})
	}
	return out
}

// testEvent is a small VOEvent naming id in its IVORN.
func testEvent(id string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://nasa.gsfc.gcn/TEST#` + id +
		`" role="test" version="2.0"><Who><Date>2026-12-07T05:00:00</Date></Who></voe:VOEvent>` + "\n")
}

// events returns n test events named prefix0, prefix1, ...
func events(prefix string, n int) [][]byte {
	var out [][]byte
	for i := range n {
		out = append(out, testEvent(prefix+strconv.Itoa(i)))
	}
	return out
}

// timedBatch builds one batch of values, all with timestamp ts, in the
// codec given (none or gzip).
func timedBatch(t *testing.T, ts time.Time, c codec, values ...[]byte) []byte {
	t.Helper()
	var payload []byte
	for i, v := range values {
		payload = append(payload, makeRecord(int64(i), nil, v)...)
	}
	if c == codecGzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(payload)
		zw.Close()
		payload = buf.Bytes()
	}
	b := makeBatch(0, uint16(c), int32(len(values)-1), int32(len(values)), payload)
	ms := uint64(ts.UnixMilli())
	binary.BigEndian.PutUint64(b[12+15:], ms)
	binary.BigEndian.PutUint64(b[12+23:], ms)
	binary.BigEndian.PutUint32(b[12+5:], crc32.Checksum(b[12+9:], castagnoli))
	return b
}

// appendValues appends one batch per value, at time ts, and returns them
// as the submissions expected.
func appendValues(t *testing.T, c *fakeCluster, topic string, p int32, ts time.Time, values ...[]byte) []submission {
	t.Helper()
	var out []submission
	for _, v := range values {
		out = append(out, appendRaw(t, c, topic, p, timedBatch(t, ts, codecNone, v))...)
	}
	return out
}
