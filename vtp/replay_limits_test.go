package vtp

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"comet/journal"
	"comet/voevent"
)

// wireSub is a hostile or careful replay subscriber driven by the test:
// it answers the authenticate with reply, answers iamalive probes, acks
// events unless told not to, and records everything else it receives.
type wireSub struct {
	c      net.Conn
	msgs   chan *voevent.Event // events and iamalive markers, in order
	eof    chan struct{}       // closed when the broker closed the connection
	noAck  atomic.Bool
	silent atomic.Bool // answer nothing at all
}

func dialWire(t *testing.T, addr string, reply func(origin string) []byte) *wireSub {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	return wireOn(t, c, reply)
}

func wireOn(t *testing.T, c net.Conn, reply func(origin string) []byte) *wireSub {
	t.Helper()
	w := &wireSub{c: c, msgs: make(chan *voevent.Event, 10000), eof: make(chan struct{})}
	t.Cleanup(func() { c.Close(); <-w.eof })
	go func() {
		defer close(w.eof)
		r := bufio.NewReader(c)
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
				if reply != nil {
					WriteFrame(c, reply(ParseTransport(ev).Origin))
				}
			case ev.Role == RoleIAmAlive:
				w.msgs <- ev
				_, _, next, _, _ := ParsePosition(ev)
				if _, refusal := ParseRefusal(ev); !next && !refusal && !w.silent.Load() {
					WriteFrame(c, IAmAliveResponse(ParseTransport(ev).Origin, "ivo://example.org/wire", now))
				}
			case ev.IsVOEvent():
				w.msgs <- ev
				if !w.noAck.Load() && !w.silent.Load() {
					WriteFrame(c, Ack(ev.IVORN, "ivo://example.org/wire", "", now))
				}
			}
		}
	}()
	return w
}

// waitEvents waits until n events have arrived.
func (w *wireSub) waitEvents(t *testing.T, n int) {
	t.Helper()
	for n > 0 {
		select {
		case ev := <-w.msgs:
			if ev.IsVOEvent() {
				n--
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d events missing", n)
		}
	}
}

// refusal waits for a refusal and then for the broker to close the
// connection; it returns the reason and the position it carried.
func (w *wireSub) refusal(t *testing.T) (reason string, seq uint64) {
	t.Helper()
	for {
		select {
		case ev := <-w.msgs:
			if r, ok := ParseRefusal(ev); ok {
				_, seq, _, _, _ := ParsePosition(ev)
				select {
				case <-w.eof:
				case <-time.After(10 * time.Second):
					t.Fatal("connection still open after the refusal")
				}
				return r, seq
			}
		case <-w.eof:
			// The reader queues a message before it sees the close, but
			// select picks at random among ready cases: read what it
			// queued before concluding.
			if len(w.msgs) > 0 {
				continue
			}
			t.Fatal("connection closed without a refusal")
		case <-time.After(10 * time.Second):
			t.Fatal("no refusal")
		}
	}
}

// events collects the IVORNs of the events received until the broker's
// position marker says seq (journal-seq), failing on a refusal.
func (w *wireSub) eventsUpTo(t *testing.T, seq uint64) []string {
	t.Helper()
	var got []string
	for {
		select {
		case ev := <-w.msgs:
			if r, ok := ParseRefusal(ev); ok {
				t.Fatalf("refused (%s) after %v", r, got)
			}
			if ev.IsVOEvent() {
				got = append(got, ev.IVORN)
				continue
			}
			if _, s, next, ok, _ := ParsePosition(ev); ok && !next && s >= seq {
				return got
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no position %d; got %v", seq, got)
		}
	}
}

func journalEvents(t *testing.T, tb *testBroker, n int, prefix string) []string {
	t.Helper()
	var ivorns []string
	for i := range n {
		iv := ivorn(fmt.Sprint(prefix, i))
		mustAck(t, tb.recv, testEvent(iv, "observation", ""))
		ivorns = append(ivorns, iv)
	}
	return ivorns
}

// TestReplayBusyRefusedInBand: with every replay place taken, a further
// request is refused in-band as busy and its connection closed, instead
// of the broker starting another replay; once the place is free the same
// request is served in full.
func TestReplayBusyRefusedInBand(t *testing.T) {
	tb, store := startJournalBroker(t, func(c *Config) { c.Replay.Max = 1 })
	want := journalEvents(t, tb, 3*replayWindow, "busy")
	hog := dialWire(t, tb.bcast, atPosition(store.JournalID(), 0))
	hog.noAck.Store(true) // holds its place: the window fills and it waits
	hog.waitEvents(t, replayWindow)
	w := dialWire(t, tb.bcast, atPosition(store.JournalID(), 0))
	if r, _ := w.refusal(t); r != refusedBusy {
		t.Fatalf("refused as %q, want %q", r, refusedBusy)
	}
	tb.log.waitLog(t, "too many replays running")
	hog.c.Close()
	tb.log.waitLog(t, "it resumes from its position next time")
	w = dialWire(t, tb.bcast, atPosition(store.JournalID(), 0))
	if got := w.eventsUpTo(t, uint64(len(want))); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replayed %v, want %v", got, want)
	}
}

// TestReplayBudgetStopsAtPosition: a subscriber whose filter never
// matches costs the broker reading and filtering without anything sent;
// the budget counts that work, stops the replay where it got, says so
// with the position, and closes. The next connection goes on from there.
func TestReplayBudgetStopsAtPosition(t *testing.T) {
	tb, store := startJournalBroker(t, func(c *Config) { c.Replay.Budget = 1 }) // one event a connection
	journalEvents(t, tb, 4, "budget")
	never := func(pos uint64) func(string) []byte {
		return func(origin string) []byte {
			return AuthenticateResponseAt(origin, "ivo://example.org/wire", []string{`//Param[@name="never"]`}, store.JournalID(), pos, time.Now())
		}
	}
	var pos uint64
	for want := uint64(1); want <= 3; want++ {
		w := dialWire(t, tb.bcast, never(pos))
		r, seq := w.refusal(t)
		if r != refusedBudget || seq != want {
			t.Fatalf("connection %d: %q at %d, want %q at %d", want, r, seq, refusedBudget, want)
		}
		pos = seq
	}
	// The last event: the replay ends with the journal, not the budget.
	w := dialWire(t, tb.bcast, never(pos))
	if got := w.eventsUpTo(t, 4); len(got) != 0 {
		t.Fatalf("filtered replay sent %v", got)
	}
}

// TestReplayNeverAckingDropped: a subscriber that answers every iamalive
// but acknowledges nothing fills the replay window and is dropped within
// an iamalive period or two, as a live one leaving MaxOutstanding events
// unacknowledged is, freeing its replay place.
func TestReplayNeverAckingDropped(t *testing.T) {
	tb, store := startJournalBroker(t, func(c *Config) {
		c.Replay.Max = 1
		c.Timers.IAmAlive = 500 * time.Millisecond
	})
	journalEvents(t, tb, 3*replayWindow, "stall")
	w := dialWire(t, tb.bcast, atPosition(store.JournalID(), 0))
	w.noAck.Store(true)
	select {
	case <-w.eof:
	case <-time.After(10 * time.Second):
		t.Fatal("a subscriber that never acks is kept replaying")
	}
	tb.log.waitLog(t, "replayed events not acknowledged")
	tb.log.waitLog(t, "it resumes from its position next time") // its place is given back
	w = dialWire(t, tb.bcast, atPosition(store.JournalID(), 0))
	if got := w.eventsUpTo(t, 3*replayWindow); len(got) != 3*replayWindow {
		t.Fatalf("the place was not freed: got %d events", len(got))
	}
}

// TestReplayHoldsNoSegmentWhileWaiting: a replay waiting for a
// subscriber's acks holds no journal file open, so a segment trimmed
// meanwhile is closed and its space given back.
func TestReplayHoldsNoSegmentWhileWaiting(t *testing.T) {
	if _, err := os.ReadDir("/proc/self/fd"); err != nil {
		t.Skip("no /proc/self/fd here")
	}
	dir := t.TempDir()
	var tb *testBroker
	store, err := openJournalStore(dir, func(seq uint64, p any) { tb.Journaled(seq, p) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tb = startBroker(t, "ivo://example.org/journal", func(c *Config) { c.Journal = store })
	journalEvents(t, tb, 3*replayWindow, "fd")
	openSegments := func() []string {
		var open []string
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
			if err == nil && strings.HasPrefix(target, dir) && !strings.HasSuffix(target, ".lock") {
				open = append(open, target)
			}
		}
		return open
	}
	before := openSegments()
	w := dialWire(t, tb.bcast, atPosition(store.JournalID(), 0))
	w.noAck.Store(true)
	w.waitEvents(t, replayWindow)
	// The window is full: the replay waits for acks that never come. It
	// closes the segment once it has sent the window's last event, which
	// the subscriber may see first: look until it has, or long after.
	deadline := time.Now().Add(10 * time.Second)
	for extra := len(openSegments()) - len(before); extra > 0; extra = len(openSegments()) - len(before) {
		if time.Now().After(deadline) {
			t.Fatalf("a waiting replay holds %d more files open: %v (before: %v)", extra, openSegments(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReplayLateRequestRefused: a request that comes after live events
// have started is refused in-band as late, so the subscriber knows to ask
// again, rather than only warned about at the broker.
func TestReplayLateRequestRefused(t *testing.T) {
	tb, store := startJournalBroker(t, nil)
	journalEvents(t, tb, 2, "early")
	w := dialWire(t, tb.bcast, nil) // does not answer the authenticate
	live := ivorn("live")
	mustAck(t, tb.recv, testEvent(live, "observation", ""))
	// A live event arrives once the broker stopped waiting for the answer.
	if ev := <-w.msgs; ev.IVORN != live {
		t.Fatalf("got %s, want the live event", ev.IVORN)
	}
	WriteFrame(w.c, AuthenticateResponseAt("ivo://example.org/journal", "ivo://example.org/wire", nil, store.JournalID(), 0, time.Now()))
	if r, _ := w.refusal(t); r != refusedLate {
		t.Fatalf("refused as %q, want %q", r, refusedLate)
	}
}

// TestReplayAppliesCurrentSignaturePolicy: events journaled under one
// signature policy are replayed only if the policy in force accepts them:
// after the trusted key changes, an event signed with the old key is not
// replayed; with --signed-only, an unsigned event is not.
func TestReplayAppliesCurrentSignaturePolicy(t *testing.T) {
	k1, k2 := sigKey(1), sigKey(2)
	var pol atomic.Pointer[voevent.Policy]
	pol.Store(voevent.NewPolicy(trustFor(t, k1), false))
	tb, store := startJournalBroker(t, func(c *Config) {
		c.Signatures = func(ev *voevent.Event) (voevent.SignatureOutcome, error) { return pol.Load().Check(ev) }
	})
	oldKey := signed(t, testEvent(ivorn("old-key"), "observation", ""), k1)
	unsigned := testEvent("ivo://example.org/other#unsigned", "observation", "")
	newIVORN := ivorn("new-key")
	newKey := signed(t, testEvent(newIVORN, "observation", ""), k2)
	mustAck(t, tb.recv, oldKey)
	mustAck(t, tb.recv, unsigned)
	pol.Load().SetTrust(trustFor(t, k2)) // SIGHUP with the key replaced
	mustAck(t, tb.recv, newKey)

	w := dialWire(t, tb.bcast, atPosition(store.JournalID(), 0))
	got := w.eventsUpTo(t, 3)
	if want := []string{"ivo://example.org/other#unsigned", newIVORN}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replayed %v after the key changed, want %v", got, want)
	}
	tb.log.waitLog(t, "the current signature policy refuses it")

	pol.Store(voevent.NewPolicy(trustFor(t, k2), true)) // --signed-only
	w = dialWire(t, tb.bcast, atPosition(store.JournalID(), 0))
	if got := w.eventsUpTo(t, 3); fmt.Sprint(got) != fmt.Sprint([]string{newIVORN}) {
		t.Fatalf("replayed %v with --signed-only, want only the event signed by the trusted key", got)
	}
}

// TestReplayPolicyMTLS: with replay limited to subscribers with a client
// certificate, a plain-TCP subscriber asking for replay is told so in-band
// and gets live events without positions, so its position stays where it
// was; nothing is replayed to it.
func TestReplayPolicyMTLS(t *testing.T) {
	tb, store := startJournalBroker(t, func(c *Config) { c.Replay.Who = ReplayMTLS })
	journalEvents(t, tb, 3, "policy")
	w := dialWire(t, tb.bcast, atPosition(store.JournalID(), 0))
	select {
	case ev := <-w.msgs:
		if r, ok := ParseRefusal(ev); !ok || r != refusedNotAllowed {
			t.Fatalf("first message %s, want a not-allowed refusal", ev.Raw)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no refusal")
	}
	live := ivorn("live")
	mustAck(t, tb.recv, testEvent(live, "observation", ""))
	for ev := range w.msgs {
		if _, _, _, ok, _ := ParsePosition(ev); ok {
			t.Fatalf("position marker %s sent to a subscriber refused replay", ev.Raw)
		}
		if ev.IsVOEvent() {
			if ev.IVORN != live {
				t.Fatalf("got %s, want only the live event", ev.IVORN)
			}
			break
		}
	}
}

// TestReplayPolicyMTLSServesCertified: with replay limited to mTLS
// identities, a subscriber with a verified client certificate is
// replayed to as usual.
func TestReplayPolicyMTLSServesCertified(t *testing.T) {
	var tb *tlsBroker
	store, err := openJournalStore(t.TempDir(), func(seq uint64, p any) { tb.Journaled(seq, p) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ca := newTestCA(t, "Test CA")
	tb = startTLSBroker(t, brokerIVO, ca, true, func(c *Config) {
		c.Journal = store
		c.Replay.Who = ReplayMTLS
	})
	want := journalEvents(t, tb.testBroker, 3, "certified")
	cert := ca.pair(t, certSpec{cn: "x", uris: []string{"ivo://example.org/downstream"}})
	w := wireOn(t, tlsDial(t, tb.tlsBcast, ca, &cert), atPosition(store.JournalID(), 0))
	if got := w.eventsUpTo(t, 3); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("replayed %v, want %v", got, want)
	}
}

// TestRemoteRefusedKeepsPosition: our --remote, refused as busy, says so
// once, keeps its position and reconnects; once the place is free it gets
// every event it missed.
func TestRemoteRefusedKeepsPosition(t *testing.T) {
	up, store := startJournalBroker(t, func(c *Config) { c.Replay.Max = 1 })
	want := journalEvents(t, up, 3*replayWindow, "remote")
	hog := dialWire(t, up.bcast, atPosition(store.JournalID(), 0))
	hog.noAck.Store(true)
	hog.waitEvents(t, replayWindow)
	down, _ := startJournalBroker(t, func(c *Config) {
		c.Timers.BackoffInitial = 10 * time.Millisecond
		c.Timers.BackoffMax = 50 * time.Millisecond
	})
	down.cfg.Journal.SetPosition(up.bcast, journal.Position{ID: store.JournalID()})
	down.Subscribe(up.bcast)
	down.log.waitLog(t, "remote broker refused our replay request: reconnecting later from our position")
	if strings.Contains(down.log.String(), "subscription to remote broker lost") {
		t.Error("a refusal is logged twice")
	}
	if p, _ := down.cfg.Journal.Position(up.bcast); p.Seq != 0 {
		t.Fatalf("position moved to %d on a refusal", p.Seq)
	}
	hog.c.Close()
	for _, iv := range want {
		select {
		case ev := <-down.delivered:
			if ev.IVORN != iv {
				t.Fatalf("delivered %s, want %s", ev.IVORN, iv)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s never delivered", iv)
		}
	}
}

// TestRemoteBudgetResumes: a remote broker whose replay stops at its
// budget on every connection still gets our --remote every event, one
// connection after another, each from where the last stopped.
func TestRemoteBudgetResumes(t *testing.T) {
	up, store := startJournalBroker(t, func(c *Config) { c.Replay.Budget = 1 })
	want := journalEvents(t, up, 4, "resume")
	down, _ := startJournalBroker(t, func(c *Config) {
		c.Timers.BackoffInitial = 10 * time.Millisecond
		c.Timers.BackoffMax = 50 * time.Millisecond
	})
	down.cfg.Journal.SetPosition(up.bcast, journal.Position{ID: store.JournalID()})
	down.Subscribe(up.bcast)
	for _, iv := range want {
		select {
		case ev := <-down.delivered:
			if ev.IVORN != iv {
				t.Fatalf("delivered %s, want %s", ev.IVORN, iv)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s never delivered", iv)
		}
	}
	down.log.waitLog(t, "remote broker paused its replay to us")
	if n := strings.Count(down.log.String(), "duplicate event from remote"); n != 0 {
		t.Fatalf("%d events replayed twice across the stops", n)
	}
}
