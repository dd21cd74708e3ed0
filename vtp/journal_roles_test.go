package vtp

import (
	"testing"
	"time"

	"comet/journal"
	"comet/voevent"
)

// TestTestAlertsAreReplayed: an author's test alerts, sent while a
// downstream subscriber is away, are replayed to it when it comes back,
// in journal order among the observations: operators check a link end
// to end with them, so they must survive an outage as observations do.
func TestTestAlertsAreReplayed(t *testing.T) {
	tb, store := startJournalBroker(t, nil)
	want := []string{
		"ivo://example.org/roles#obs-1",
		"ivo://example.org/roles#test-1",
		"ivo://example.org/roles#obs-2",
		"ivo://example.org/roles#test-2",
	}
	for i, iv := range want {
		role := "observation"
		if i%2 == 1 {
			role = "test"
		}
		mustAck(t, tb.recv, testEvent(iv, role, ""))
	}
	s := dialJSub(t, tb.bcast, atPosition(store.JournalID(), 0))
	for i, iv := range want {
		if seq, got := s.event(t); seq != uint64(i+1) || got != iv {
			t.Fatalf("replayed seq %d %s, want %d %s", seq, got, i+1, iv)
		}
	}
	if m := s.next(t); m.next || m.seq != uint64(len(want)) {
		t.Fatalf("after the replay %+v, want position %d", m, len(want))
	}
}

// TestOwnTestEventNotJournaled: the broker's own periodic test event is
// relayed without a position marker and leaves the journal as it was;
// it is generated anew every hour and needs no replay.
func TestOwnTestEventNotJournaled(t *testing.T) {
	tb, store := startJournalBroker(t, nil)
	mustAck(t, tb.recv, testEvent("ivo://example.org/roles#obs", "observation", ""))
	s := dialJSub(t, tb.bcast, atPosition(store.JournalID(), 0))
	if seq, _ := s.event(t); seq != 1 {
		t.Fatalf("replayed seq %d, want 1", seq)
	}
	if m := s.next(t); m.next || m.seq != 1 {
		t.Fatalf("after the replay %+v, want position 1", m)
	}
	tb.SendTestEvents(time.Hour, func(now time.Time) []byte {
		return voevent.TestEvent("ivo://example.org/journal", now, "comet (Go) test")
	})
	f := s.next(t)
	if f.ivorn == "" || f.next {
		t.Fatalf("the broker's test event came as %+v, want an event without a marker", f)
	}
	if last := store.JournalLast(); last != 1 {
		t.Fatalf("journal's last seq %d after the broker's own test event, want 1", last)
	}
	n := 0
	if err := store.ReadJournal(0, 10, func(journal.Record) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("journal holds %d records (err %v), want 1", n, err)
	}
}
