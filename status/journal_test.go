package status

import (
	"testing"

	"comet/journal"
)

// TestReportJournal: /status carries the journal's figures when there is
// one, and leaves them out when there is none.
func TestReportJournal(t *testing.T) {
	src := &Source{Journal: func() journal.Stats {
		return journal.Stats{ID: "ab", First: 3, Last: 9, Events: 7, Bytes: 1234, Segments: 1}
	}}
	if j := src.Report().Journal; j == nil || *j != (Journal{"ab", 3, 9, 7, 1234, 1}) {
		t.Fatalf("journal %+v", j)
	}
	src.Journal = func() journal.Stats { return journal.Stats{} }
	if j := src.Report().Journal; j != nil {
		t.Fatalf("journal %+v without one", j)
	}
}
