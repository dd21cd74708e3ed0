package vtp

import (
	"bufio"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"comet/seen"
	"comet/voevent"
)

// startJournalBroker is startBroker with a real seen store and journal.
func startJournalBroker(t *testing.T, mod func(*Config)) (*testBroker, *journalStore) {
	t.Helper()
	var tb *testBroker
	store, err := openJournalStore(t.TempDir(), func(seq uint64, p any) { tb.Journaled(seq, p) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tb = startBroker(t, "ivo://example.org/journal", func(c *Config) {
		c.Seen = func(el []byte) (bool, error) { return store.CheckAndRecord(seen.KeyOf(el)) }
		c.Journal = store
		if mod != nil {
			mod(c)
		}
	})
	return tb, store
}

// frame is one message a jsub received: an event (ivorn) or a marker.
type frame struct {
	ivorn string // "" for a marker
	seq   uint64
	next  bool
}

// jsub is a subscriber speaking the replay extension: it answers the
// authenticate with reply(origin) and records what it receives.
type jsub struct {
	noAck  atomic.Bool
	c      net.Conn
	frames chan frame
	authed chan struct{}
	closed chan struct{}
}

func dialJSub(t testing.TB, addr string, reply func(origin string) []byte, noAck ...bool) *jsub {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	s := &jsub{c: c, frames: make(chan frame, 100000), authed: make(chan struct{}), closed: make(chan struct{})}
	s.noAck.Store(len(noAck) > 0 && noAck[0])
	t.Cleanup(func() { c.Close(); <-s.closed })
	go func() {
		defer close(s.closed)
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
				WriteFrame(c, reply(ParseTransport(ev).Origin))
				close(s.authed)
			case ev.Role == RoleIAmAlive:
				_, seq, next, ok, err := ParsePosition(ev)
				if err != nil {
					panic(err)
				}
				if ok {
					s.frames <- frame{seq: seq, next: next}
				}
				if !next {
					WriteFrame(c, IAmAliveResponse(ParseTransport(ev).Origin, "ivo://example.org/jsub", now))
				}
			case ev.IsVOEvent():
				s.frames <- frame{ivorn: ev.IVORN}
				if !s.noAck.Load() {
					WriteFrame(c, Ack(ev.IVORN, "ivo://example.org/jsub", "", now))
				}
			}
		}
	}()
	select {
	case <-s.authed:
	case <-time.After(10 * time.Second):
		t.Fatal("no authenticate")
	}
	return s
}

func (s *jsub) next(t *testing.T) frame {
	t.Helper()
	select {
	case f := <-s.frames:
		return f
	case <-time.After(10 * time.Second):
		t.Fatal("jsub received nothing")
		return frame{}
	}
}

// event reads a journal-next marker and the event after it.
func (s *jsub) event(t *testing.T) (uint64, string) {
	t.Helper()
	m := s.next(t)
	if !m.next {
		t.Fatalf("got %+v, want a journal-next marker", m)
	}
	ev := s.next(t)
	if ev.ivorn == "" {
		t.Fatalf("marker %+v followed by %+v, want an event", m, ev)
	}
	return m.seq, ev.ivorn
}

func atPosition(id string, seq uint64) func(string) []byte {
	return func(origin string) []byte {
		return AuthenticateResponseAt(origin, "ivo://example.org/jsub", nil, id, seq, time.Now())
	}
}

// TestReplayFromPosition: a subscriber asking from seq 2 gets events 3..5
// from the journal, each announced by its sequence number, then a
// position saying it is up to date, then live events the same way.
func TestReplayFromPosition(t *testing.T) {
	tb, store := startJournalBroker(t, nil)
	var ivorns []string
	for i := range 5 {
		ivorns = append(ivorns, ivorn(fmt.Sprint("r", i)))
		mustAck(t, tb.recv, testEvent(ivorns[i], "observation", ""))
	}
	s := dialJSub(t, tb.bcast, atPosition(store.JournalID(), 2))
	for i := 2; i < 5; i++ {
		seq, iv := s.event(t)
		if seq != uint64(i+1) || iv != ivorns[i] {
			t.Fatalf("replayed seq %d %s, want %d %s", seq, iv, i+1, ivorns[i])
		}
	}
	if m := s.next(t); m.next || m.seq != 5 {
		t.Fatalf("after the replay %+v, want position 5", m)
	}
	live := ivorn("live")
	mustAck(t, tb.recv, testEvent(live, "observation", ""))
	if seq, iv := s.event(t); seq != 6 || iv != live {
		t.Fatalf("live event seq %d %s, want 6 %s", seq, iv, live)
	}
	// An author's test alert is journaled like an observation: it has
	// its marker and its sequence number.
	test := ivorn("test")
	mustAck(t, tb.recv, testEvent(test, "test", ""))
	if seq, iv := s.event(t); seq != 7 || iv != test {
		t.Fatalf("test event seq %d %s, want 7 %s", seq, iv, test)
	}
}

// TestReplaySeamUnderLoad: events published without pause while a
// subscriber asks for replay arrive exactly once each, in sequence order,
// with no gap between the replayed ones and the live ones.
func TestReplaySeamUnderLoad(t *testing.T) {
	tb, store := startJournalBroker(t, nil)
	const before, total = 50, 400
	for i := range before {
		mustAck(t, tb.recv, testEvent(fmt.Sprintf("ivo://example.org/seam#%d", i), "observation", ""))
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		c, err := net.Dial("tcp", tb.recv)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		r := bufio.NewReader(c)
		for i := before; i < total; i++ {
			WriteFrame(c, testEvent(fmt.Sprintf("ivo://example.org/seam#%d", i), "observation", ""))
			if _, err := ReadFrame(r, DefaultMaxFrame); err != nil {
				t.Error(err)
				return
			}
		}
	})
	time.Sleep(5 * time.Millisecond) // let the publisher start: the seam then falls inside the burst
	s := dialJSub(t, tb.bcast, atPosition(store.JournalID(), 10))
	want := uint64(11)
	for want <= total {
		f := s.next(t)
		if !f.next {
			continue // a position, not an event
		}
		if f.seq != want {
			t.Fatalf("event seq %d, want %d (gap or duplicate at the seam)", f.seq, want)
		}
		ev := s.next(t)
		if w := fmt.Sprintf("ivo://example.org/seam#%d", want-1); ev.ivorn != w {
			t.Fatalf("seq %d is %s, want %s", want, ev.ivorn, w)
		}
		want++
	}
	wg.Wait()
	select {
	case f := <-s.frames:
		if f.next || f.ivorn != "" {
			t.Fatalf("extra frame %+v after the last event", f)
		}
	case <-time.After(100 * time.Millisecond):
	}
}

var stampRE = regexp.MustCompile(`<TimeStamp>[^<]*</TimeStamp>`)

// TestReplayPlainSubscriberUnchanged: a subscriber that does not ask for
// replay receives from a journaling broker exactly the bytes a broker
// without a journal sends: the same authenticate, the events, nothing else.
func TestReplayPlainSubscriberUnchanged(t *testing.T) {
	record := func(tb *testBroker) []string {
		c, err := net.Dial("tcp", tb.bcast)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		var got []string
		for len(got) < 3 {
			raw, err := ReadFrame(r, DefaultMaxFrame)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, stampRE.ReplaceAllString(string(raw), "<TimeStamp/>"))
			ev, _ := voevent.Parse(raw)
			switch {
			case ev.Role == RoleAuthenticate:
				WriteFrame(c, AuthenticateResponse(ParseTransport(ev).Origin, "ivo://example.org/plain", nil, time.Now()))
				waitAuthenticated(t, tb.Broker, c)
				mustAck(t, tb.recv, testEvent("ivo://example.org/plain#1", "observation", ""))
				mustAck(t, tb.recv, testEvent("ivo://example.org/plain#2", "observation", ""))
			case ev.IsVOEvent():
				WriteFrame(c, Ack(ev.IVORN, "ivo://example.org/plain", "", time.Now()))
			}
		}
		return got
	}
	withJournal, _ := startJournalBroker(t, nil)
	without := startBroker(t, "ivo://example.org/journal", nil)
	a, b := record(withJournal), record(without)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("frame %d differs with a journal:\n%s\nwithout:\n%s", i, a[i], b[i])
		}
	}
	if !strings.Contains(a[0], `role="authenticate"`) || strings.Contains(a[0], "<Meta>") {
		t.Fatalf("authenticate %s", a[0])
	}
}

// TestReplayHostileRequests: malformed or impossible positions are
// refused with a one-line reason and the subscriber gets live events
// from then on; a position in an unknown journal replays everything.
func TestReplayHostileRequests(t *testing.T) {
	tb, store := startJournalBroker(t, nil)
	first := ivorn("held")
	mustAck(t, tb.recv, testEvent(first, "observation", ""))
	raw := func(meta string) func(string) []byte {
		return func(origin string) []byte {
			return message(RoleAuthenticate, origin, "ivo://example.org/jsub", time.Now(), meta)
		}
	}
	cases := []struct {
		name   string
		reply  func(string) []byte
		reason string
		replay bool
	}{
		{"future", atPosition(store.JournalID(), 1<<60), "position is ahead of this journal", false},
		{"garbage seq", raw(`<Param name="journal" value="` + store.JournalID() + `"/><Param name="journal-seq" value="-1; DROP"/>`), "is not a decimal number", false},
		{"huge seq", raw(`<Param name="journal" value="` + store.JournalID() + `"/><Param name="journal-seq" value="99999999999999999999"/>`), "out of range", false},
		{"garbage id", raw(`<Param name="journal" value="` + strings.Repeat("Z", 5000) + `"/>`), "journal identity of 5000 characters", false},
		{"twice", raw(`<Param name="journal" value=""/><Param name="journal" value=""/>`), "journal given twice", false},
		{"unknown journal", atPosition(strings.Repeat("ab", 16), 7), "another journal: replaying everything", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := dialJSub(t, tb.bcast, c.reply)
			tb.log.waitLog(t, c.reason)
			if c.replay {
				// Everything held, from the first event on.
				if seq, iv := s.event(t); iv != first || seq != 1 {
					t.Fatalf("replayed %d %s, want 1 %s", seq, iv, first)
				}
				for m := s.next(t); m.next; m = s.next(t) {
					s.next(t)
				}
			} else if m := s.next(t); m.next {
				t.Fatalf("got %+v, want the position after the replay", m)
			}
			live := ivorn("live")
			mustAck(t, tb.recv, testEvent(live, "observation", ""))
			if _, iv := s.event(t); iv != live {
				t.Fatalf("live event %s, want %s", iv, live)
			}
		})
	}
	for _, line := range strings.Split(tb.log.String(), "\n") {
		if strings.Contains(line, "replay request refused") && len(line) > 2000 {
			t.Fatalf("reason not clipped: %d bytes", len(line))
		}
	}
}

// TestReplayObeysQueueLimits: a subscriber that does not acknowledge
// gets no more than the replay window; live events queued meanwhile hit
// the queue limit and drop it, as they would any slow subscriber; on the
// next connection it resumes from the last event it received, losing
// nothing.
func TestReplayObeysQueueLimits(t *testing.T) {
	tb, store := startJournalBroker(t, func(c *Config) { c.QueueLen = 4 })
	var ivorns []string
	for i := range 20 {
		ivorns = append(ivorns, ivorn(fmt.Sprint("q", i)))
		mustAck(t, tb.recv, testEvent(ivorns[i], "observation", ""))
	}
	s := dialJSub(t, tb.bcast, atPosition(store.JournalID(), 0), true)
	var pos uint64
	for range replayWindow {
		pos, _ = s.event(t)
	}
	if pos != replayWindow {
		t.Fatalf("got up to %d, want the window of %d", pos, replayWindow)
	}
	for i := range 5 { // over the queue limit of 4
		mustAck(t, tb.recv, testEvent(ivorn(fmt.Sprint("over", i)), "observation", ""))
	}
	tb.log.waitLog(t, "too slow")
	tb.log.waitLog(t, "it resumes from its position next time")
	select {
	case f := <-s.frames:
		if f.ivorn != "" || f.next {
			t.Fatalf("more than the window before the drop: %+v", f)
		}
	default:
	}
	s2 := dialJSub(t, tb.bcast, atPosition(store.JournalID(), pos))
	for i := int(pos); i < 25; i++ {
		seq, _ := s2.event(t)
		if seq != uint64(i+1) {
			t.Fatalf("resumed at seq %d, want %d", seq, i+1)
		}
	}
}

// TestReplayFilters: a replay sends only the events that pass the
// subscriber's filters, and its position still covers the others.
func TestReplayFilters(t *testing.T) {
	tb, store := startJournalBroker(t, nil)
	var want []string
	for i := range 6 {
		extra := ""
		if i%2 == 0 {
			extra = `<Param name="keep" value="1"/>`
		}
		iv := ivorn(fmt.Sprint("f", i))
		if extra != "" {
			want = append(want, iv)
		}
		mustAck(t, tb.recv, testEvent(iv, "observation", extra))
	}
	s := dialJSub(t, tb.bcast, func(origin string) []byte {
		return AuthenticateResponseAt(origin, "ivo://example.org/jsub", []string{`//Param[@name="keep"]`}, store.JournalID(), 0, time.Now())
	})
	for i, w := range want {
		seq, iv := s.event(t)
		if iv != w || seq != uint64(2*i+1) {
			t.Fatalf("replayed %d %s, want %d %s", seq, iv, 2*i+1, w)
		}
	}
	if m := s.next(t); m.next || m.seq != 6 {
		t.Fatalf("position after the replay %+v, want 6 (filtered events covered)", m)
	}
}
