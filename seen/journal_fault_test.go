package seen

import (
	"errors"
	"syscall"
	"testing"
	"testing/synctest"
)

func injectJournalFaults(s *Store) *faultyFile {
	j := s.journal
	j.wmu.Lock()
	defer j.wmu.Unlock()
	seg := j.segs[len(j.segs)-1]
	f := &faultyFile{logFile: seg.f}
	seg.f = f
	return f
}

// TestJournalWriteFailure: when the journal cannot be written, an
// author's event is refused (not remembered, so a resend succeeds once
// the disk recovers) and a remote's is still taken as new, with an error
// saying so; a partial write leaves no garbage in the journal, and
// nothing is announced to subscribers for a failed record.
func TestJournalWriteFailure(t *testing.T) {
	for _, partial := range []bool{false, true} {
		dir := t.TempDir()
		announced := 0
		s := openJ(t, dir, Options{}, JournalOptions{OnCommit: func(uint64, any) { announced++ }})
		addEvents(t, s, 0, 2)
		f := injectJournalFaults(s)
		f.set(func(f *faultyFile) { f.writeErr, f.partial = syscall.ENOSPC, partial })
		el, raw := jEvent(10)
		if first, err := s.CheckAndJournal(el, raw, false, nil); first || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("author event on a full disk: first=%v err=%v", first, err)
		}
		el2, raw2 := jEvent(11)
		if first, err := s.CheckAndJournal(el2, raw2, true, nil); !first || err == nil {
			t.Fatalf("remote event on a full disk: first=%v err=%v, want first with an error", first, err)
		}
		f.set(func(f *faultyFile) { f.writeErr = nil })
		if first, err := s.CheckAndJournal(el, raw, false, nil); !first || err != nil {
			t.Fatalf("resend after the disk recovered: first=%v err=%v", first, err)
		}
		if announced != 3 {
			t.Fatalf("%d events announced, want 3 (none of the failed ones)", announced)
		}
		closeT(t, s)
		s = openJ(t, dir, Options{}, JournalOptions{})
		recs := journalAll(t, s)
		if len(recs) != 3 || string(recs[2].Raw) != string(raw) || recs[2].Seq <= recs[1].Seq {
			t.Fatalf("partial=%v: journal holds %d records after the failure", partial, len(recs))
		}
		closeT(t, s)
	}
}

// TestPanickingCommitHookWedgesNothing: a panic in the commit hook, on
// the goroutine of the caller that wrote its own batch, reaches that
// caller; the event is recorded all the same, a copy of it is recognised
// rather than waited on for ever, and the store goes on.
func TestPanickingCommitHookWedgesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		s := openJ(t, t.TempDir(), Options{}, JournalOptions{OnCommit: func(uint64, any) {
			calls++
			if calls == 1 {
				panic("hook bug")
			}
		}})
		el, raw := jEvent(1)
		func() {
			defer func() {
				if r := recover(); r != "hook bug" {
					t.Errorf("recovered %v, want the hook's panic", r)
				}
			}()
			s.CheckAndJournal(el, raw, false, nil)
		}()
		if first, err := s.CheckAndJournal(el, raw, false, nil); first || err != nil {
			t.Fatalf("copy after the panic: first=%v err=%v, want a duplicate", first, err)
		}
		addEvents(t, s, 2, 4)
		if calls != 3 {
			t.Fatalf("hook called %d times, want 3", calls)
		}
		closeT(t, s)
	})
}
