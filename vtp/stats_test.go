package vtp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"comet/voevent"
)

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestSnapshotCounters(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) { c.MaxFrame = 2048 })
	sub := dialSub(t, tb, subOpts{})
	const n = 7
	var last string
	for range n {
		last = ivorn("count")
		mustAck(t, tb.recv, testEvent(last, "test", ""))
	}
	for range n {
		sub.next(t)
	}
	last = ivorn("dup")
	dup := testEvent(last, "test", "")
	mustAck(t, tb.recv, dup)
	sub.next(t)
	mustAck(t, tb.recv, dup)
	answers := publish(t, tb.recv,
		[]byte("<voe:VOEvent"), // not well-formed
		[]byte(`<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" role="test" ivorn="nonsense" version="2.0"/>`),
		testEvent(ivorn("big"), "test", strings.Repeat(" ", 3000)))
	for _, a := range answers {
		if a.Role != RoleNak {
			t.Fatalf("answer %q, want nak", a.Role)
		}
	}
	tb.seen.fail.Store(true)
	if a := publish(t, tb.recv, testEvent(ivorn("fail"), "test", ""))[0]; a.Role != RoleNak {
		t.Fatalf("answer %q with the store failing, want nak", a.Role)
	}
	waitFor(t, "the subscriber's acks", func() bool {
		s := tb.Snapshot().Subscribers
		return len(s) == 1 && s[0].Acks == n+1
	})

	s := tb.Snapshot()
	want := Counters{AcceptedFromAuthors: n + 1, Duplicates: 1, RefusedNotWellFormed: 1, RefusedInvalid: 1,
		RefusedOversized: 1, RefusedStorageFailure: 1, Deliveries: n + 1}
	if s.Counters != want {
		t.Errorf("counters\n got %+v\nwant %+v", s.Counters, want)
	}
	sub0 := s.Subscribers[0]
	if sub0.Sent != n+1 || sub0.Naks != 0 || sub0.Queued != 0 || !sub0.Authenticated || sub0.LastAck.IsZero() ||
		sub0.Addr != sub.c.LocalAddr().String() {
		t.Errorf("subscriber %+v", sub0)
	}
	if len(s.Listeners) != 2 || s.Listeners[0].Role != "broadcast" || s.Listeners[1].Addr != "tcp:"+tb.recv {
		t.Errorf("listeners %+v", s.Listeners)
	}
	if s.LastEvent == nil || !strings.HasPrefix(s.LastEvent.Source, "author 127.0.0.1:") ||
		s.LastEvent.IVORN != voevent.Clip(last) {
		t.Errorf("last event %+v", s.LastEvent)
	}
	if p := s.Problems(time.Now()); p != nil {
		t.Errorf("problems %q, want none", p)
	}
}

func TestSnapshotDropsAndRefusals(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) { c.MaxConnsPerAddr = 1 })
	dialSub(t, tb, subOpts{filters: []string{"//Param"}})
	c, err := net.Dial("tcp", tb.bcast) // a second one from the same address
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "the refusal", func() bool { return tb.Snapshot().Counters.ConnsRefusedLimit == 1 })
	if f := tb.Snapshot().Subscribers[0].Filters; f != 1 {
		t.Errorf("filters %d, want 1", f)
	}
}

// flakyListener fails its accepts while failing is set.
type flakyListener struct {
	net.Listener
	failing atomic.Bool
}

func (l *flakyListener) Accept() (net.Conn, error) {
	for {
		if l.failing.Load() {
			time.Sleep(time.Millisecond)
			return nil, errors.New("accept: too many open files")
		}
		return l.Listener.Accept()
	}
}

func TestListenerFailureIsAProblem(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &flakyListener{Listener: inner}
	l.failing.Store(true)
	b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger()})
	var wg sync.WaitGroup
	wg.Go(func() { b.ServeAuthors(l) })
	defer wg.Wait()
	defer shutdown(t, b)
	waitFor(t, "the failure to show", func() bool { return len(b.Snapshot().Problems(time.Now())) == 1 })
	if p := b.Snapshot().Problems(time.Now())[0]; !strings.Contains(p, "too many open files") || !strings.Contains(p, "receive") {
		t.Errorf("problem %q", p)
	}
	l.failing.Store(false)
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	waitFor(t, "the recovery", func() bool { return b.Snapshot().Problems(time.Now()) == nil })
}

// TestRemoteOutage follows one remote through a subscription, an outage
// and the recovery, on fake time.
func TestRemoteOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var up atomic.Bool
		up.Store(true)
		conns := make(chan net.Conn, 10) // the remote ends, for the test to hang up
		log := &logBuf{}
		b := New(Config{LocalIVO: brokerIVO, Logger: slog.New(slog.NewTextHandler(log, nil)),
			Timers: Timers{BackoffMax: 60 * time.Second}})
		b.dial = func(ctx context.Context, addr string) (net.Conn, error) {
			if !up.Load() {
				return nil, errors.New("connection refused")
			}
			remote, local := net.Pipe()
			go io.Copy(io.Discard, remote)
			go WriteFrame(remote, Authenticate("ivo://example.org/remote", time.Now()))
			conns <- remote
			return local, nil
		}
		defer shutdown(t, b)
		b.Subscribe("remote.example.org:8099")
		synctest.Wait()
		state := func() RemoteInfo { return b.Snapshot().Remotes[0] }
		if r := state(); r.State != RemoteAuthenticated || !r.DownSince.IsZero() || r.LastMessage.IsZero() {
			t.Fatalf("after connecting: %+v", r)
		}
		if !strings.Contains(log.String(), `msg="subscribed to remote broker"`) {
			t.Errorf("no subscription line in\n%s", log)
		}

		time.Sleep(10 * time.Second)
		up.Store(false)
		(<-conns).Close()
		lost := time.Now()
		synctest.Wait()
		if r := state(); r.State != RemoteBackingOff || r.Next.Before(time.Now()) || !r.DownSince.Equal(lost) {
			t.Errorf("after hanging up: %+v", r)
		}
		if !strings.Contains(log.String(), "subscription to remote broker lost") {
			t.Errorf("no warning for the outage in\n%s", log)
		}
		time.Sleep(RemoteOutage - time.Second)
		if p := b.Snapshot().Problems(time.Now()); p != nil {
			t.Errorf("problems %q after %v, want none yet", p, time.Since(lost))
		}
		time.Sleep(2 * time.Second)
		if p := b.Snapshot().Problems(time.Now()); len(p) != 1 || !strings.Contains(p[0], "every remote broker") {
			t.Errorf("problems %q after %v, want the outage", p, time.Since(lost))
		}

		up.Store(true)
		time.Sleep(61 * time.Second) // the longest backoff
		synctest.Wait()
		if r := state(); r.State != RemoteAuthenticated || r.Reconnects < 2 {
			t.Errorf("after the outage: %+v", r)
		}
		if p := b.Snapshot().Problems(time.Now()); p != nil {
			t.Errorf("problems %q after recovering", p)
		}
		if !strings.Contains(log.String(), `msg="subscribed to remote broker again"`) || !strings.Contains(log.String(), "outage=") {
			t.Errorf("no recovery line in\n%s", log)
		}
		(<-conns).Close()
	})
}

func TestRemoteThatIsNoBroker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &logBuf{}
		b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger()})
		defer shutdown(t, b)
		l := slog.New(slog.NewTextHandler(log, nil))

		// A silent peer, like an author port waiting for an event.
		remote, local := net.Pipe()
		start := time.Now()
		b.serveRemote(local, l)
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("silent peer closed after %v, want 5s", d)
		}
		remote.Close()
		if !strings.Contains(log.String(), "no authenticate after connecting") || !strings.Contains(log.String(), "sent=nothing") {
			t.Errorf("log:\n%s", log)
		}

		// A peer that answers like an author port.
		remote, local = net.Pipe()
		go WriteFrame(remote, Nak("", "ivo://example.org/other", "not a VOEvent", time.Now()))
		b.serveRemote(local, l)
		remote.Close()
		if !strings.Contains(log.String(), "answers like an author port") || !strings.Contains(log.String(), `sent="<?xml`) {
			t.Errorf("log:\n%s", log)
		}
		if strings.Contains(log.String(), "subscribed to remote broker") {
			t.Errorf("a peer that never authenticated was logged as subscribed:\n%s", log)
		}
	})
}

func TestBackoffJitteredAtTheCap(t *testing.T) {
	bo := backoff{t: Timers{BackoffInitial: time.Second, BackoffFactor: math.E, BackoffMax: time.Minute}}
	seen := map[time.Duration]bool{}
	for range 200 {
		d := bo.next()
		if d > time.Minute || d < time.Second {
			t.Fatalf("delay %v out of [1s, 60s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 150 {
		t.Errorf("only %d different delays in 200 at the cap", len(seen))
	}
}

func TestSnapshotCountsDroppedDeliveries(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) { c.QueueLen = 2 })
	// A subscriber that authenticates, then never reads again.
	c, err := net.Dial("tcp", tb.bcast)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := ReadFrame(bufio.NewReader(c), DefaultMaxFrame); err != nil {
		t.Fatal(err)
	}
	WriteFrame(c, AuthenticateResponse(brokerIVO, "ivo://example.org/sub", nil, time.Now()))
	waitAuthenticated(t, tb.Broker, c)
	pad := strings.Repeat(" ", 200<<10)
	for range 100 {
		mustAck(t, tb.recv, testEvent(ivorn("stall"), "test", pad))
		if tb.Snapshot().Counters.DeliveriesDropped > 0 {
			break
		}
	}
	waitFor(t, "the subscriber to be dropped", func() bool { return len(tb.Snapshot().Subscribers) == 0 })
	s := tb.Snapshot().Counters
	if s.DeliveriesDropped == 0 || s.Deliveries+s.DeliveriesDropped > s.AcceptedFromAuthors {
		t.Errorf("counters %+v", s)
	}
}
