package vtp

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// waitSubscribed waits until n of b's subscribers have authenticated.
func waitSubscribed(t *testing.T, b *testBroker, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for authenticatedSubscribers(b.Broker) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d subscriptions, want %d", b.cfg.LocalIVO, authenticatedSubscribers(b.Broker), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitDelivered waits until b's handlers have been given n events and
// reports how many they were given. An event reaches subscribers before
// the handlers, so a test that has seen it at a subscriber must wait for
// the handlers' count to catch up.
func waitDelivered(t *testing.T, b *testBroker, n int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(b.delivered) < n && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	return len(b.delivered)
}

// verdicts reads n seen-store verdicts of b and counts the first sightings.
func verdicts(t *testing.T, b *testBroker, n int) (firsts int) {
	t.Helper()
	for range n {
		select {
		case first := <-b.seen.calls:
			if first {
				firsts++
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: fewer than %d seen checks", b.cfg.LocalIVO, n)
		}
	}
	return firsts
}

func TestRemoteSubscription(t *testing.T) {
	up := startBroker(t, "ivo://example.org/up", nil)
	down := startBroker(t, "ivo://example.org/down", func(c *Config) {
		c.Filters = []string{`//Param[@name="x" and @value>5]`}
	})
	down.Subscribe(up.bcast)
	waitSubscribed(t, up, 1)
	sub := dialSub(t, down, subOpts{})

	match := testEvent(ivorn("remote"), "observation", "")
	mustAck(t, up.recv, bytes.Replace(testEvent(ivorn("filtered"), "observation", ""), []byte(`value="7"`), []byte(`value="3"`), 1))
	mustAck(t, up.recv, match)
	if got := sub.next(t); !bytes.Equal(got, match) {
		t.Errorf("downstream subscriber got\n%s\nwant the matching event byte for byte", got)
	}
	// The downstream broker acknowledged both events it received.
	up.log.waitLog(t, "subscriber acknowledged")
	if down.log.String() == "" || !bytes.Contains([]byte(down.log.String()), []byte("authenticating to remote broker")) {
		t.Error("downstream broker did not log its authentication")
	}
}

func TestTwoBrokerLoop(t *testing.T) {
	a := startBroker(t, "ivo://example.org/a", nil)
	b := startBroker(t, "ivo://example.org/b", nil)
	a.Subscribe(b.bcast)
	b.Subscribe(a.bcast)
	waitSubscribed(t, a, 1)
	waitSubscribed(t, b, 1)
	subA, subB := dialSub(t, a, subOpts{}), dialSub(t, b, subOpts{})

	e1 := ivorn("loop")
	mustAck(t, a.recv, testEvent(e1, "test", ""))
	// a: from the author (new), then back from b (seen); b: from a (new).
	if f := verdicts(t, a, 2); f != 1 {
		t.Errorf("a saw the event as new %d times, want 1", f)
	}
	if f := verdicts(t, b, 1); f != 1 {
		t.Errorf("b saw the event as new %d times, want 1", f)
	}
	// The loop is closed. A second event shows nothing else was queued
	// for the subscribers in between.
	e2 := ivorn("loop")
	mustAck(t, b.recv, testEvent(e2, "test", ""))
	for _, s := range []*testSub{subA, subB} {
		if got := []string{s.nextIVORN(t), s.nextIVORN(t)}; got[0] != e1 || got[1] != e2 {
			t.Errorf("subscriber got %v, want [%s %s]", got, e1, e2)
		}
	}
	verdicts(t, b, 2)
	verdicts(t, a, 1)
	if na, nb := waitDelivered(t, a, 2), waitDelivered(t, b, 2); na != 2 || nb != 2 {
		t.Errorf("deliveries: a %d, b %d; want 2 each", na, nb)
	}
}

func TestThreeBrokerMesh(t *testing.T) {
	var bs []*testBroker
	for i := range 3 {
		bs = append(bs, startBroker(t, fmt.Sprintf("ivo://example.org/mesh%d", i), nil))
	}
	for i, b := range bs {
		for j, other := range bs {
			if i != j {
				b.Subscribe(other.bcast)
			}
		}
	}
	var subs []*testSub
	for _, b := range bs {
		waitSubscribed(t, b, 2)
		subs = append(subs, dialSub(t, b, subOpts{}))
	}
	for round, origin := range bs {
		id := ivorn(fmt.Sprintf("mesh%d", round))
		mustAck(t, origin.recv, testEvent(id, "test", ""))
		// The origin checks the author's copy and one from each peer;
		// each peer checks one copy from each of its two remotes.
		for _, b := range bs {
			n := 2
			if b == origin {
				n = 3
			}
			if f := verdicts(t, b, n); f != 1 {
				t.Errorf("round %d: %s saw the event as new %d times, want 1", round, b.cfg.LocalIVO, f)
			}
		}
		for i, s := range subs {
			if got := s.nextIVORN(t); got != id {
				t.Errorf("round %d: subscriber of broker %d got %s, want %s", round, i, got, id)
			}
		}
	}
	for i, b := range bs {
		if n := waitDelivered(t, b, 3); n != 3 {
			t.Errorf("broker %d delivered %d events, want 3 (one per round)", i, n)
		}
	}
}
