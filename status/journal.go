package status

import "comet/journal"

// Journal is the event journal's state in /status: what replay and
// "comet journal" can still reach.
type Journal struct {
	ID       string `json:"id"`
	First    uint64 `json:"first_seq"` // 0 when empty
	Last     uint64 `json:"last_seq"`
	Events   int    `json:"events"`
	Bytes    int64  `json:"bytes"`
	Segments int    `json:"segments"`
}

// journalReport is the journal's part of the report, nil without one.
func (src *Source) journalReport() *Journal {
	if src.Journal == nil {
		return nil
	}
	st := src.Journal()
	if st.ID == "" {
		return nil
	}
	return &Journal{st.ID, st.First, st.Last, st.Events, st.Bytes, st.Segments}
}

// journalSource is what Source.Journal returns.
type journalSource = func() journal.Stats
