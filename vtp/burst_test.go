package vtp

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"comet/journal"
	"comet/seen"
	"comet/voevent"
)

// TestBurstReachesEverySubscriber: bursts of authors submitting at once,
// each on a TCP connection of its own, to a broker with a journal, whose
// group commit then hands subscribers many events in one go. Every kind
// of subscriber receives every event meant for it exactly once and in
// journal order, and none is dropped: one using the replay extension
// (each event after its position marker), a plain one, a filtered one
// and one over TLS. In one burst the replay subscriber's writer is kept
// busy, as a slow write keeps it, so that the whole burst waits in its
// queue and is written in full batches: the most a batch can hold, on
// any machine, however the group commits fall.
func TestBurstReachesEverySubscriber(t *testing.T) {
	const bursts, authors = 3, 120
	const held = 1 // the burst during which the replay subscriber's writer is busy
	const keep = `<Param name="keep" value="1"/>`

	var tb *tlsBroker
	var replaySub atomic.Pointer[subscriber]
	var deepest atomic.Int64 // the most messages the replay subscriber's queue held in a burst
	var depths []int64
	// The journal's hook, set again once the broker has set its own:
	// the broker's, then a note of how deep the replay subscriber's
	// queue is.
	hook := func(seq uint64, p any) {
		tb.Journaled(seq, p)
		if s := replaySub.Load(); s != nil {
			s.q.mu.Lock()
			n := int64(len(s.q.items))
			s.q.mu.Unlock()
			for d := deepest.Load(); n > d && !deepest.CompareAndSwap(d, n); d = deepest.Load() {
			}
		}
	}
	store, err := openJournalStore(t.TempDir(), hook)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ca := newTestCA(t, "Burst CA")
	tb = startTLSBroker(t, "ivo://example.org/burst", ca, false, func(c *Config) {
		c.Seen = func(el []byte) (bool, error) { return store.CheckAndRecord(seen.KeyOf(el)) }
		c.Journal = store
		c.MaxConnsPerAddr = (bursts + 1) * authors // closed authors may not be counted out yet
	})
	store.OnCommit(hook)

	js := dialJSub(t, tb.bcast, atPosition(store.JournalID(), 0))
	if m := js.next(t); m.next || m.seq != 0 {
		t.Fatalf("after an empty replay %+v, want position 0", m)
	}
	rs := onlySubscriber(t, tb.Broker)
	replaySub.Store(rs)
	plain := dialSub(t, tb.testBroker, subOpts{})
	filtered := dialSub(t, tb.testBroker, subOpts{filters: []string{`//Param[@name="keep"]`}})
	overTLS := tlsSub(t, tb.testBroker, tlsDial(t, tb.tlsBcast, ca, nil))

	// publishAll submits events at once, one author connection each, and
	// waits for every ack.
	publishAll := func(events [][]byte) {
		conns := make([]net.Conn, len(events))
		for i := range conns {
			c, err := net.Dial("tcp", tb.recv)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(30 * time.Second))
			conns[i] = c
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i, c := range conns {
			wg.Go(func() {
				<-start
				if err := WriteFrame(c, events[i]); err != nil {
					t.Errorf("author %d: %v", i, err)
					return
				}
				raw, err := ReadFrame(bufio.NewReader(c), DefaultMaxFrame)
				if err != nil {
					t.Errorf("author %d: no answer: %v", i, err)
					return
				}
				if ev, err := voevent.Parse(raw); err != nil || ev.Role != RoleAck {
					t.Errorf("author %d: answer %.300s, want an ack", i, raw)
				}
			})
		}
		close(start)
		wg.Wait()
	}

	for b := range bursts {
		if b == held {
			for !rs.writing.CompareAndSwap(false, true) {
				select {
				case <-rs.idle:
				case <-rs.done: // a dropped subscriber's token is never given back
					t.Fatalf("replay subscriber dropped before burst %d:\n%s", b, droppedLines(tb.log.String()))
				}
			}
		}
		events := make([][]byte, authors)
		for i := range events {
			extra := ""
			if i%3 == 0 {
				extra = keep
			}
			events[i] = testEvent(fmt.Sprintf("ivo://example.org/burst#%d-%d", b, i), "observation", extra)
		}
		publishAll(events)
		if b == held {
			rs.writing.Store(false)
			rs.signalIdle()
			rs.kick()
		}
		if t.Failed() {
			t.FailNow()
		}
		depths = append(depths, deepest.Swap(0))
	}
	// One more event, last: each subscriber's next event after the
	// bursts must be this one, so none got any twice.
	last := "ivo://example.org/burst#last"
	mustAck(t, tb.recv, testEvent(last, "observation", keep))

	// The journal's order is the order everyone must see.
	var journaled, kept []string
	var seqs []uint64
	err = store.ReadJournal(0, store.JournalLast(), func(r journal.Record) error {
		ev, err := voevent.Parse(r.Raw)
		if err != nil {
			return err
		}
		journaled = append(journaled, ev.IVORN)
		seqs = append(seqs, r.Seq)
		if strings.Contains(string(r.Raw), keep) {
			kept = append(kept, ev.IVORN)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(journaled) != bursts*authors+1 || journaled[len(journaled)-1] != last {
		t.Fatalf("journal holds %d events ending %q, want %d ending %q", len(journaled), journaled[len(journaled)-1], bursts*authors+1, last)
	}

	for i, want := range journaled {
		m := burstFrame(t, js, "replay", i)
		for !m.next { // a position between events, not a marker before one
			m = burstFrame(t, js, "replay", i)
		}
		ev := burstFrame(t, js, "replay", i)
		if m.seq != seqs[i] || ev.ivorn != want {
			t.Fatalf("replay subscriber: event %d is seq %d %q, want seq %d %q", i, m.seq, ev.ivorn, seqs[i], want)
		}
	}
	for _, c := range []struct {
		name string
		sub  *testSub
		want []string
	}{{"plain", plain, journaled}, {"filtered", filtered, kept}, {"TLS", overTLS, journaled}} {
		for i, want := range c.want {
			if got := burstEvent(t, c.sub, c.name, i); got != want {
				t.Fatalf("%s subscriber: event %d is %q, want %q", c.name, i, got, want)
			}
		}
	}

	if n := tb.Subscribers(); n != 4 {
		t.Errorf("%d subscribers connected after the bursts, want 4", n)
	}
	if d := tb.Snapshot().Counters.DeliveriesDropped; d != 0 {
		t.Errorf("%d deliveries dropped", d)
	}
	if l := droppedLines(tb.log.String()); l != "" {
		t.Fatalf("subscribers dropped or disconnected:\n%s", l)
	}
	t.Logf("%d events in %d bursts of %d authors; received: replay %d (each after its marker), plain %d, filtered %d, TLS %d; "+
		"the replay subscriber's queue held up to %v messages in each burst (its writer busy in burst %d)",
		len(journaled), bursts, authors, len(journaled), len(journaled), len(kept), len(journaled), depths, held)
}

// droppedLines are the lines of a broker's log that say a subscriber was
// dropped or disconnected, or that a connection met an internal error,
// each clipped before the stack trace.
func droppedLines(log string) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, "subscriber dropped") || strings.Contains(l, "subscriber disconnected") || strings.Contains(l, "internal error") {
			out = append(out, l[:min(len(l), 400)])
		}
	}
	return strings.Join(out, "\n")
}

// burstFrame is js's next frame, the i-th event's or the marker before
// it; it fails at once, naming the subscriber, if the broker closed the
// connection.
func burstFrame(t *testing.T, js *jsub, name string, i int) frame {
	t.Helper()
	select {
	case f := <-js.frames:
		return f
	case <-js.closed:
		select {
		case f := <-js.frames:
			return f
		default:
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s subscriber: nothing received at event %d", name, i)
	}
	t.Fatalf("%s subscriber disconnected at event %d", name, i)
	return frame{}
}

// burstEvent is s's next event's IVORN, failing at once if the broker
// closed the connection.
func burstEvent(t *testing.T, s *testSub, name string, i int) string {
	t.Helper()
	var raw []byte
	select {
	case raw = <-s.events:
	case <-s.closed:
		select {
		case raw = <-s.events:
		default:
			t.Fatalf("%s subscriber disconnected at event %d", name, i)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s subscriber: nothing received at event %d", name, i)
	}
	ev, err := voevent.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return ev.IVORN
}
