package vtp

import (
	"bufio"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"comet/voevent"
)

// TestConcurrentBroadcastsAllArrive: many goroutines broadcasting at once
// to subscribers whose writers start and stop as their queues fill and
// empty. Every subscriber receives every event exactly once, and each
// broadcaster's events in the order it sent them: no wake-up is lost
// between a writer finding its queue empty and a new event arriving.
func TestConcurrentBroadcastsAllArrive(t *testing.T) {
	const senders, each, subs = 8, 300, 4
	tb := startBroker(t, brokerIVO, func(c *Config) { c.Validate = nil })
	var ss []*testSub
	for range subs {
		ss = append(ss, dialSub(t, tb, subOpts{}))
	}
	evs := make([][]*voevent.Event, senders)
	for g := range senders {
		for i := range each {
			ev, err := voevent.Parse(testEvent(fmt.Sprintf("ivo://example.org/s%d#%d", g, i), "observation", ""))
			if err != nil {
				t.Fatal(err)
			}
			evs[g] = append(evs[g], ev)
		}
	}
	var wg sync.WaitGroup
	for g := range senders {
		wg.Go(func() {
			for _, ev := range evs[g] {
				tb.Broadcast(ev)
				if len(ev.IVORN)%3 == 0 {
					runtime.Gosched() // vary the interleaving
				}
			}
		})
	}
	wg.Wait()
	for n, s := range ss {
		next := make([]int, senders)
		for range senders * each {
			ev, err := voevent.Parse(s.next(t))
			if err != nil {
				t.Fatal(err)
			}
			var g, i int
			if _, err := fmt.Sscanf(ev.IVORN, "ivo://example.org/s%d#%d", &g, &i); err != nil {
				t.Fatalf("subscriber %d: unexpected event %q", n, ev.IVORN)
			}
			if i != next[g] {
				t.Fatalf("subscriber %d: sender %d's event %d arrived when %d was due", n, g, i, next[g])
			}
			next[g]++
		}
		select {
		case raw := <-s.events:
			t.Fatalf("subscriber %d: an extra event: %.80s", n, raw)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestEventAfterEmptyQueueNotStranded: an event queued just after the
// writer found its queue empty, while it still holds the token, starts no
// writer of its own; the finishing writer must send it all the same,
// though no later event comes.
func TestEventAfterEmptyQueueNotStranded(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) { c.Validate = nil })
	s := dialSub(t, tb, subOpts{})
	late, err := voevent.Parse(testEvent(ivorn("late"), "observation", ""))
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	hook := func(*subscriber) { once.Do(func() { tb.Broadcast(late) }) }
	drainedHook.Store(&hook)
	defer drainedHook.Store(nil)
	first, _ := voevent.Parse(testEvent(ivorn("first"), "observation", ""))
	tb.Broadcast(first)
	for _, want := range []string{first.IVORN, late.IVORN} {
		if got := s.nextIVORN(t); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
}

// TestIdleSubscriberHasOneGoroutine: an authenticated subscriber with
// nothing to send holds only its reading goroutine, which is what lets
// ten thousand of them fit in a small machine's memory; a writer comes
// and goes with the events.
func TestIdleSubscriberHasOneGoroutine(t *testing.T) {
	const k = 2*kickChunk + 22 // more than one goroutine's share of the writes
	b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger(), MaxConnsPerAddr: k})
	defer shutdown(t, b)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go b.ServeSubscribers(l)
	waitGoroutines := func(want int) int {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		return runtime.NumGoroutine()
	}
	base := runtime.NumGoroutine() // goroutines of earlier tests that end later only help
	var rs []*bufio.Reader
	for range k {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r := bufio.NewReader(c)
		if _, err := ReadFrame(r, DefaultMaxFrame); err != nil {
			t.Fatal(err)
		}
		WriteFrame(c, AuthenticateResponse(brokerIVO, "ivo://example.org/sub", nil, time.Now()))
		rs = append(rs, r)
	}
	for authenticatedSubscribers(b) < k {
		time.Sleep(time.Millisecond)
	}
	// One reader per subscriber, and the broker's one iamalive clock.
	if n := waitGoroutines(base + k + 1); n > base+k+1 {
		t.Errorf("%d idle subscribers hold %d goroutines, want %d", k, n-base, k+1)
	}
	ev, _ := voevent.Parse(testEvent(ivorn("idle"), "observation", ""))
	b.Broadcast(ev)
	for i, r := range rs {
		if raw, err := ReadFrame(r, DefaultMaxFrame); err != nil || string(raw) != string(ev.Raw) {
			t.Fatalf("subscriber %d: %v", i, err)
		}
	}
	if n := waitGoroutines(base + k + 1); n > base+k+1 {
		t.Errorf("after an event, %d subscribers hold %d goroutines, want %d", k, n-base, k+1)
	}
}
