package vtp

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"comet/voevent"
)

// rawSub connects to tb's broadcast port and answers the authenticate,
// and returns the connection and its reader; it then reads nothing more
// until the test does.
func rawSub(t *testing.T, tb *testBroker) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", tb.bcast)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	r := bufio.NewReader(c)
	if _, err := ReadFrame(r, DefaultMaxFrame); err != nil {
		t.Fatal(err)
	}
	WriteFrame(c, AuthenticateResponse(brokerIVO, "ivo://example.org/sub", nil, time.Now()))
	waitAuthenticated(t, tb.Broker, c)
	return c, r
}

// onlySubscriber is the broker's one subscriber.
func onlySubscriber(t *testing.T, b *Broker) *subscriber {
	t.Helper()
	l := b.subscribers()
	if len(l) != 1 {
		t.Fatal("want exactly one subscriber")
	}
	return l[0]
}

// TestSlowReaderGetsEveryByte: events are written to a subscriber at once
// by whoever broadcasts them, and a subscriber that stops reading fills
// its socket part-way through an event. The broadcaster must not wait for
// it, and what the socket did not take must follow, before the next
// event: the subscriber, reading again, gets every event whole and in
// order.
func TestSlowReaderGetsEveryByte(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) { c.Validate = nil })
	c, r := rawSub(t, tb)
	if runtime.GOOS == "linux" && onlySubscriber(t, tb.Broker).raw == nil {
		t.Fatal("a TCP subscriber is not written to at once")
	}
	// 60 events of 100 KB: several times what loopback socket buffers
	// hold, so writes end part-way through events and find no room at all.
	const n = 60
	var evs []*voevent.Event
	for i := range n {
		pad := "<Description>" + strings.Repeat(string(rune('a'+i%26)), 100_000+i) + "</Description>"
		ev, err := voevent.Parse(testEvent(fmt.Sprintf("ivo://example.org/slow#%d", i), "observation", pad))
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, ev)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, ev := range evs {
			tb.Broadcast(ev)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Broadcast waited for a subscriber that does not read")
	}
	for i, ev := range evs {
		raw, err := ReadFrame(r, DefaultMaxFrame)
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if string(raw) != string(ev.Raw) {
			t.Fatalf("event %d arrived damaged or out of order: %d bytes, want %d", i, len(raw), len(ev.Raw))
		}
		WriteFrame(c, Ack(ev.IVORN, "ivo://example.org/sub", "", time.Now()))
	}
	if strings.Contains(tb.log.String(), "subscriber dropped") {
		t.Errorf("the slow subscriber was dropped:\n%s", tb.log.String())
	}
}

// TestWriteAfterIdleDeadline: a subscriber idle for longer than the write
// deadline a writer last set still gets the next event. A write made at
// once must move the deadline as a writer does, or it fails at once with
// a timeout and drops a healthy subscriber.
func TestWriteAfterIdleDeadline(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) { c.Validate = nil })
	_, r := rawSub(t, tb)
	s := onlySubscriber(t, tb.Broker)
	// Take the writer's token, as a writer would, and leave behind a
	// deadline that passed while the subscriber was idle.
	for !s.writing.CompareAndSwap(false, true) {
		<-s.idle
	}
	s.deadline = time.Now().Add(-time.Second)
	s.c.SetWriteDeadline(s.deadline)
	s.writing.Store(false)
	ev, err := voevent.Parse(testEvent(ivorn("after-idle"), "observation", ""))
	if err != nil {
		t.Fatal(err)
	}
	tb.Broadcast(ev)
	raw, err := ReadFrame(r, DefaultMaxFrame)
	if err != nil || string(raw) != string(ev.Raw) {
		t.Fatalf("event after an idle spell: %q, %v\n%s", voevent.ClipBytes(raw), err, tb.log.String())
	}
	if strings.Contains(tb.log.String(), "subscriber dropped") {
		t.Errorf("subscriber dropped:\n%s", tb.log.String())
	}
}

// TestFiltersNeverDelayTheBroadcaster: the goroutine that broadcasts an
// event, typically an author's waiting for its ack, writes it itself only
// to subscribers without filters. A subscriber's filters, which it
// chooses and which may be costly, are evaluated on another goroutine.
//
// Which goroutine wrote to a subscriber is seen when that writer finds
// the queue empty, after the write; so the test waits for that moment
// for both subscribers rather than for the event to arrive, which the
// other goroutine's writer may not yet have reached. No iamalive tick and
// no writer left over from the authenticate may write to them meanwhile.
func TestFiltersNeverDelayTheBroadcaster(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) {
		c.Validate = nil
		c.Timers.IAmAlive = time.Hour
	})
	plain := dialSub(t, tb, subOpts{})
	filtered := dialSub(t, tb, subOpts{filters: []string{"//Who"}})
	subs := tb.subscribers()
	if len(subs) != 2 {
		t.Fatalf("%d subscribers, want 2", len(subs))
	}
	for _, s := range subs {
		// Wait for the writer of the authenticate to end: with the queue
		// empty, only a kick starts the next one.
		for !s.writing.CompareAndSwap(false, true) {
			<-s.idle
		}
		s.writing.Store(false)
		s.signalIdle()
	}
	var mu sync.Mutex
	wrote := map[*subscriber]uint64{} // the goroutine that wrote to it first
	both := make(chan struct{})
	hook := func(s *subscriber) {
		mu.Lock()
		defer mu.Unlock()
		if _, ok := wrote[s]; !ok {
			wrote[s] = goroutineID()
			if len(wrote) == len(subs) {
				close(both)
			}
		}
	}
	drainedHook.Store(&hook)
	defer drainedHook.Store(nil)
	ev, err := voevent.Parse(testEvent(ivorn("filtered"), "observation", ""))
	if err != nil {
		t.Fatal(err)
	}
	tb.Broadcast(ev)
	me := goroutineID()
	for _, s := range []*testSub{plain, filtered} {
		if got := s.nextIVORN(t); got != ev.IVORN {
			t.Fatalf("got %s, want %s", got, ev.IVORN)
		}
	}
	select {
	case <-both:
	case <-time.After(10 * time.Second):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("%d subscribers written to, want 2", len(wrote))
	}
	mu.Lock()
	defer mu.Unlock()
	for s, g := range wrote {
		switch hasFilters := s.filters.Load() != nil; {
		case hasFilters && g == me:
			t.Error("the broadcaster evaluated a subscriber's filters itself")
		case !hasFilters && runtime.GOOS == "linux" && g != me:
			t.Error("a subscriber without filters was not written to by the broadcaster")
		}
	}
}

// goroutineID is the running goroutine's number, as its stack trace
// gives it.
func goroutineID() uint64 {
	var buf [64]byte
	line := string(buf[:runtime.Stack(buf[:], false)])
	var id uint64
	fmt.Sscanf(strings.TrimPrefix(line, "goroutine "), "%d", &id)
	return id
}

// TestLeftOverSharesMessages: what a full socket did not take keeps
// referring to the queued messages, which every subscriber shares, so a
// slow subscriber holds no copy of an event; only the length headers,
// which the writer's scratch space reuses, are copied.
func TestLeftOverSharesMessages(t *testing.T) {
	one, two := []byte("first message"), []byte("second")
	var hdrs [8]byte
	fill := func() {
		binary.BigEndian.PutUint32(hdrs[:4], uint32(len(one)))
		binary.BigEndian.PutUint32(hdrs[4:], uint32(len(two)))
	}
	fill()
	bufs := net.Buffers{hdrs[:4], one, hdrs[4:], two}
	var all []byte
	for _, b := range bufs {
		all = append(all, b...)
	}
	within := func(b, in []byte) bool {
		return len(b) > 0 && &b[len(b)-1] == &in[len(in)-1]
	}
	for n := range len(all) + 1 {
		rest := leftOver(bufs, n)
		clear(hdrs[:]) // the scratch space is reused for the next batch
		var got []byte
		for _, b := range rest {
			got = append(got, b...)
			if !within(b, one) && !within(b, two) && (len(b) > 4 || within(b, hdrs[:4]) || within(b, hdrs[:])) {
				t.Fatalf("after %d bytes: %q is neither a shared message nor a copied header", n, b)
			}
		}
		fill()
		if string(got) != string(all[n:]) {
			t.Fatalf("after %d bytes: rest %q, want %q", n, got, all[n:])
		}
		if (rest == nil) != (n == len(all)) {
			t.Fatalf("after %d of %d bytes: rest %q", n, len(all), got)
		}
	}
}

// TestChurningSubscribersAreNotKept: subscribers connecting and leaving
// again and again, with no event to rebuild the broadcast list, are not
// kept in memory by the record of those added since it was built.
func TestChurningSubscribersAreNotKept(t *testing.T) {
	b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger()})
	defer shutdown(t, b)
	stay := &subscriber{b: b, q: newQueue(1, 1)}
	b.addSubscriber(stay)
	for range 10_000 {
		s := &subscriber{b: b, q: newQueue(1, 1)}
		b.addSubscriber(s)
		b.removeSubscriber(s)
	}
	b.mu.Lock()
	kept := len(b.subsAdded)
	b.mu.Unlock()
	if kept > 128 {
		t.Errorf("%d subscribers that left are still referred to", kept)
	}
	if l := b.subscribers(); len(l) != 1 || l[0] != stay {
		t.Errorf("subscribers: %d, want only the one that stayed", len(l))
	}
	b.removeSubscriber(stay) // these have no connection for Shutdown to close
}

// TestJournaledBatchToReplaySubscriber: a burst of journaled events taken
// as one batch reaches a subscriber using the replay extension whole and
// in order, each event after its position marker: four buffers per event,
// twice what the same batch takes for a plain subscriber. A batch of
// maxWriteBatch events is what a writer takes from a burst; a longer one,
// mixed with events that are not journaled and with iamalive probes
// (position markers of their own), shows that no batch, however framed,
// runs past the writer's fixed working space. Both ways of writing are
// tried: at once, and by a writer that may wait.
func TestJournaledBatchToReplaySubscriber(t *testing.T) {
	tb, store := startJournalBroker(t, func(c *Config) { c.Validate = nil })
	js := dialJSub(t, tb.bcast, atPosition(store.JournalID(), 0))
	if m := js.next(t); m.next || m.seq != 0 {
		t.Fatalf("after an empty replay %+v, want position 0", m)
	}
	s := onlySubscriber(t, tb.Broker)
	if runtime.GOOS == "linux" && s.raw == nil {
		t.Fatal("a TCP subscriber is not written to at once")
	}
	var seq uint64
	for _, atOnce := range []bool{true, false} {
		for _, n := range []int{maxWriteBatch, 3*maxWriteBatch + 5} {
			mixed := n != maxWriteBatch
			var batch []item
			var want []frame
			for i := range n {
				switch {
				case mixed && i%7 == 3:
					batch = append(batch, item{msg: IAmAlive(brokerIVO, time.Now()), ext: probeMark})
					want = append(want, frame{seq: seq})
				case mixed && i%5 == 1:
					ev := parseEvent(t, testEvent(ivorn("unjournaled"), "test", ""))
					batch = append(batch, item{ev: ev, msg: ev.Raw})
					want = append(want, frame{ivorn: ev.IVORN})
				default:
					seq++
					ev := parseEvent(t, testEvent(ivorn("burst"), "observation", ""))
					batch = append(batch, journaledItem(ev, seq))
					want = append(want, frame{seq: seq, next: true}, frame{ivorn: ev.IVORN})
				}
			}
			// Hold the writer's token, as a writer does, and write the
			// batch as a writer would.
			for !s.writing.CompareAndSwap(false, true) {
				<-s.idle
			}
			var ok bool
			if atOnce && s.raw != nil {
				var full bool
				if ok, full = s.writeNow(batch, new(scratch)); ok && full {
					ok = s.writeRest()
				}
			} else {
				ok = s.write(batch, new(scratch))
			}
			s.writing.Store(false)
			s.signalIdle()
			if !ok {
				t.Fatalf("at once %v, %d messages: the subscriber was dropped\n%s", atOnce, n, tb.log.String())
			}
			for i, w := range want {
				if got := js.next(t); got != w {
					t.Fatalf("at once %v, %d messages: frame %d is %+v, want %+v", atOnce, n, i, got, w)
				}
			}
		}
	}
	if l := tb.log.String(); strings.Contains(l, "subscriber dropped") || strings.Contains(l, "internal error") {
		t.Errorf("subscriber dropped:\n%s", l)
	}
}

// parseEvent parses raw, failing the test if it does not parse.
func parseEvent(t testing.TB, raw []byte) *voevent.Event {
	t.Helper()
	ev, err := voevent.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}
