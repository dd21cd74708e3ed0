package vtp

import (
	"slices"
	"testing"

	"comet/seen"
)

// TestJournalAloneRecordsAuthors: one rule decides where every source's
// events are recorded. A broker given a Journal and no Seen journals an
// author's event, as it does a remote's, so the same event sent again is
// a duplicate, acknowledged and not relayed, and a restart's replay has
// it.
func TestJournalAloneRecordsAuthors(t *testing.T) {
	var tb *testBroker
	store, err := seen.Open(t.TempDir(), seen.Options{Logger: discardLogger(),
		Journal: &seen.JournalOptions{OnCommit: func(seq uint64, p any) { tb.Journaled(seq, p) }}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tb = startBroker(t, "ivo://example.org/journal-only", func(c *Config) {
		c.Seen = nil
		c.Journal = store
	})
	ev := testEvent(ivorn("journal-only"), "observation", "")
	if a := mustAck(t, tb.recv, ev); len(a.Results) != 0 {
		t.Fatalf("first copy answered %v, want a plain ack", a.Results)
	}
	if a := mustAck(t, tb.recv, ev); !slices.Contains(a.Results, ReasonDuplicate) {
		t.Fatalf("second copy answered %v, want the duplicate ack: the author's event was not recorded", a.Results)
	}
	if n := store.JournalLast(); n != 1 {
		t.Fatalf("journal holds %d events, want the author's one", n)
	}
}
