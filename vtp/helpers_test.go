package vtp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"comet/voevent"
)

// testEvent returns a schema-valid VOEvent 2.0 packet; extra goes into What.
func testEvent(ivorn, role, extra string) []byte {
	roleAttr := ""
	if role != "" {
		roleAttr = ` role="` + role + `"`
	}
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ivorn="` + ivorn + `"` + roleAttr + ` version="2.0">
  <Who>
    <AuthorIVORN>ivo://example.org/author</AuthorIVORN>
    <Date>2026-11-24T12:00:00</Date>
  </Who>
  <What>
    <Param name="x" value="7" dataType="int"/>` + extra + `
  </What>
</voe:VOEvent>
`)
}

// memSeen is an in-memory seen store that can be told to fail.
type memSeen struct {
	mu    sync.Mutex
	keys  map[[32]byte]bool
	fail  atomic.Bool
	calls chan bool // receives each verdict (true = first) while it has room
}

func newMemSeen() *memSeen { return &memSeen{keys: map[[32]byte]bool{}, calls: make(chan bool, 10000)} }

func (s *memSeen) check(el []byte) (bool, error) {
	if s.fail.Load() {
		return false, errors.New("disk on fire")
	}
	k := sha256.Sum256(el)
	s.mu.Lock()
	first := !s.keys[k]
	s.keys[k] = true
	s.mu.Unlock()
	select {
	case s.calls <- first:
	default:
	}
	return first, nil
}

// logBuf collects a broker's log for assertions.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog waits until the log contains s, failing the test after 10 s.
func (l *logBuf) waitLog(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(l.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("log never said %q; log:\n%s", s, l.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type testBroker struct {
	*Broker
	recv, bcast string
	seen        *memSeen
	log         *logBuf
	delivered   chan *voevent.Event
}

// startBroker runs a broker on loopback ports chosen by the kernel, with
// an in-memory seen store; accepted events are relayed by the broker and
// handed to delivered (buffered) as the handlers' Deliver for tests to count.
func startBroker(t *testing.T, ivo string, mod func(*Config)) *testBroker {
	t.Helper()
	tb := &testBroker{seen: newMemSeen(), log: &logBuf{}, delivered: make(chan *voevent.Event, 1000)}
	cfg := Config{
		LocalIVO: ivo,
		Validate: voevent.Validate,
		Seen:     tb.seen.check,
		Logger:   slog.New(slog.NewTextHandler(tb.log, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mod != nil {
		mod(&cfg)
	}
	tb.Broker = New(cfg)
	tb.Broker.cfg.Deliver = func(ev *voevent.Event) { tb.delivered <- ev }
	lr, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lb, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tb.recv, tb.bcast = lr.Addr().String(), lb.Addr().String()
	var serving sync.WaitGroup
	serving.Go(func() { tb.ServeAuthors(lr) })
	serving.Go(func() { tb.ServeSubscribers(lb) })
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tb.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		serving.Wait()
	})
	return tb
}

// publish sends raw frames as an author on one connection and returns
// the answers, one per frame.
func publish(t *testing.T, addr string, events ...[]byte) []Transport {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return exchange(t, c, events...)
}

// exchange sends each frame on c and reads one answer to each.
func exchange(t *testing.T, c net.Conn, events ...[]byte) []Transport {
	t.Helper()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	var answers []Transport
	for _, ev := range events {
		if err := WriteFrame(c, ev); err != nil {
			t.Fatal(err)
		}
		raw, err := ReadFrame(r, DefaultMaxFrame)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		e, err := voevent.Parse(raw)
		if err != nil {
			t.Fatalf("unparsable answer %q: %v", raw, err)
		}
		answers = append(answers, ParseTransport(e))
	}
	return answers
}

// mustAck publishes one event and fails unless it is acknowledged.
func mustAck(t *testing.T, addr string, ev []byte) Transport {
	t.Helper()
	a := publish(t, addr, ev)[0]
	if a.Role != RoleAck {
		t.Fatalf("answer %q %v, want ack", a.Role, a.Results)
	}
	return a
}

// testSub is a subscriber client.
type testSub struct {
	c      net.Conn
	events chan []byte
	authed chan struct{}
	closed chan struct{}
	alives atomic.Int32
}

type subOpts struct {
	filters []string
	noAck   bool
	nak     bool
	noAlive bool
}

// dialSub subscribes to a broker and waits until the broker has taken its
// authenticate response (filters) into account.
func dialSub(t *testing.T, tb *testBroker, opts subOpts) *testSub {
	t.Helper()
	c, err := net.Dial("tcp", tb.bcast)
	if err != nil {
		t.Fatal(err)
	}
	return subscribeOn(t, tb, c, opts)
}

// subscribeOn plays a subscriber on c, a connection to tb's broadcast
// port (plain or TLS), and returns once the broker has taken its
// authenticate response into account.
func subscribeOn(t *testing.T, tb *testBroker, c net.Conn, opts subOpts) *testSub {
	t.Helper()
	s := &testSub{c: c, events: make(chan []byte, 1000), authed: make(chan struct{}), closed: make(chan struct{})}
	t.Cleanup(func() { c.Close(); <-s.closed })
	go s.run(opts)
	select {
	case <-s.authed:
	case <-time.After(10 * time.Second):
		t.Fatal("no authenticate from broker")
	}
	waitAuthenticated(t, tb.Broker, c)
	return s
}

// waitAuthenticated waits until b has taken into account the
// authenticate response sent on c, a client's connection to its
// broadcast port: b's Snapshot shows the subscriber at c's far end as
// authenticated.
func waitAuthenticated(t testing.TB, b *Broker, c net.Conn) {
	t.Helper()
	addr := c.LocalAddr().String()
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, s := range b.Snapshot().Subscribers {
			if s.Addr == addr && s.Authenticated {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("broker never took the authenticate response from %s into account", addr)
		}
		time.Sleep(time.Millisecond)
	}
}

// authenticatedSubscribers counts b's subscribers whose authenticate
// response it has taken into account: those its Snapshot shows as
// authenticated, counted without building a Snapshot, so that waiting
// for thousands of them costs little.
func authenticatedSubscribers(b *Broker) int {
	n := 0
	for _, s := range b.subscribers() {
		if s.authed.Load() {
			n++
		}
	}
	return n
}

func (s *testSub) run(o subOpts) {
	defer close(s.closed)
	r := bufio.NewReader(s.c)
	var once sync.Once
	for {
		raw, err := ReadFrame(r, DefaultMaxFrame)
		if err != nil {
			return
		}
		ev, err := voevent.Parse(raw)
		if err != nil {
			continue
		}
		now := time.Now()
		switch {
		case ev.Role == RoleAuthenticate:
			t := ParseTransport(ev)
			WriteFrame(s.c, AuthenticateResponse(t.Origin, "ivo://example.org/sub", o.filters, now))
			once.Do(func() { close(s.authed) })
		case ev.Role == RoleIAmAlive:
			s.alives.Add(1)
			if !o.noAlive {
				WriteFrame(s.c, IAmAliveResponse(ParseTransport(ev).Origin, "ivo://example.org/sub", now))
			}
		case ev.IsVOEvent():
			s.events <- raw
			switch {
			case o.nak:
				WriteFrame(s.c, Nak(ev.IVORN, "ivo://example.org/sub", "not today", now))
			case !o.noAck:
				WriteFrame(s.c, Ack(ev.IVORN, "ivo://example.org/sub", "", now))
			}
		}
	}
}

// next returns the next event received, failing after 10 s.
func (s *testSub) next(t *testing.T) []byte {
	t.Helper()
	select {
	case raw := <-s.events:
		return raw
	case <-time.After(10 * time.Second):
		t.Fatal("subscriber received nothing")
		return nil
	}
}

// nextIVORN is next, returning just the ivorn.
func (s *testSub) nextIVORN(t *testing.T) string {
	t.Helper()
	ev, err := voevent.Parse(s.next(t))
	if err != nil {
		t.Fatal(err)
	}
	return ev.IVORN
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// shutdown stops a broker, failing the test if it takes over 5 s.
func shutdown(t testing.TB, b *Broker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

var seq atomic.Int64

// ivorn returns a fresh event identifier.
func ivorn(name string) string {
	return fmt.Sprintf("ivo://example.org/test#%s-%d", name, seq.Add(1))
}

// remoteAnswer is fromRemote on raw bytes, for a remote known to no
// Snapshot: the answer, and the event if it was accepted.
func (b *Broker) remoteAnswer(raw []byte, log *slog.Logger, w *warnings) ([]byte, *voevent.Event) {
	ev, err := voevent.Parse(raw)
	src := &source{kind: remoteSource, name: "remote remote.example.org:8099", warn: w}
	reply, v := b.fromRemote(ev, err, log, src, newRemoteState("remote.example.org:8099"))
	return reply, v.ev
}

// serveRemote is handleRemote for a remote known to no Snapshot.
func (b *Broker) serveRemote(c net.Conn, log *slog.Logger) {
	b.handleRemote(c, log, newRemoteState(c.RemoteAddr().String()))
}
