package vtp

import (
	"comet/journal"
	"comet/seen"
)

// journalStore is a seen store with a journal as its write-ahead log,
// as the broker runs them: the journal's methods, and the store's
// CheckAndRecord and Close.
type journalStore struct {
	*journal.Journal
	store *seen.Store
}

func (s *journalStore) CheckAndRecord(k seen.Key) (bool, error) { return s.store.CheckAndRecord(k) }
func (s *journalStore) Close() error                            { return s.store.Close() }

// openJournalStore opens the store in dir with a journal whose commit
// hook is onCommit.
func openJournalStore(dir string, onCommit func(seq uint64, p any)) (*journalStore, error) {
	j := journal.New(journal.Options{Logger: discardLogger()})
	j.OnCommit(onCommit)
	s, err := seen.Open(dir, seen.Options{Logger: discardLogger(), WAL: j.OpenWAL})
	if err != nil {
		return nil, err
	}
	return &journalStore{Journal: j, store: s}, nil
}
