package seen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// announcer counts OnCommit calls per sequence number.
type announcer struct {
	mu   sync.Mutex
	seqs []uint64
}

func (a *announcer) onCommit(seq uint64, _ any) {
	a.mu.Lock()
	a.seqs = append(a.seqs, seq)
	a.mu.Unlock()
}

func (a *announcer) got() []uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]uint64(nil), a.seqs...)
}

// keysOnce checks that the journal holds each key at most once and
// returns how many records it holds per event element.
func keysOnce(t *testing.T, recs []walRecord) map[Key]int {
	t.Helper()
	n := map[Key]int{}
	for _, r := range recs {
		n[r.Key]++
		if n[r.Key] > 1 {
			t.Fatalf("the journal holds seq %d's event twice: %v", r.Seq, seqsOf(recs))
		}
	}
	return n
}

func seqsOf(recs []walRecord) []uint64 {
	var out []uint64
	for _, r := range recs {
		out = append(out, r.Seq)
	}
	return out
}

// TestJournaledEventAcceptedWhenSeenWriteFails: once an event's journal
// record is durable the event is accepted, even if the seen log then
// cannot take its record (a full disk): the caller gets first=true with
// no error, subscribers are told of it once, a resend is a duplicate and
// is not journaled again (even once the seen log works again, before the
// owed record is written), whether the store keeps running or restarts
// before the disk recovers. While the seen log fails, the next event is
// refused before it is journaled, and a resend of it after the disk
// recovers is journaled once.
func TestJournaledEventAcceptedWhenSeenWriteFails(t *testing.T) {
	for _, tc := range []struct {
		partial, keep, restart bool
	}{
		{}, {partial: true}, {keep: true}, {restart: true}, {partial: true, restart: true},
	} {
		t.Run(fmt.Sprintf("partial=%v,keep=%v,restart=%v", tc.partial, tc.keep, tc.restart), func(t *testing.T) {
			dir := t.TempDir()
			ann := &announcer{}
			s := openJ(t, dir, Options{}, walOptions{OnCommit: ann.onCommit})
			addEvents(t, s, 0, 3)
			seenLog := injectFaults(s)
			seenLog.set(func(f *faultyFile) { f.writeErr, f.partial = syscall.ENOSPC, tc.partial })

			el, raw := jEvent(3)
			if first, err := s.CheckAndJournal(el, raw, tc.keep, nil); !first || err != nil {
				t.Errorf("event journaled before the seen log failed: first=%v err=%v, want accepted", first, err)
			}
			if got := ann.got(); len(got) != 4 || got[3] != 4 {
				t.Errorf("announced %v, want seq 4 announced once", got)
			}
			if s.Err() == nil {
				t.Error("Err() is nil while the seen log owes a record")
			}
			seenLog.set(healthy)
			for range 2 {
				if first, err := s.CheckAndJournal(el, raw, tc.keep, nil); first || err != nil {
					t.Errorf("resend: first=%v err=%v, want a duplicate", first, err)
				}
			}
			if n := keysOnce(t, journalAll(t, s)); len(n) != 4 {
				t.Fatalf("journal holds %d events, want 4", len(n))
			}
			// The seen log fails again: the next event is refused before
			// anything is journaled.
			seenLog.set(func(f *faultyFile) { f.writeErr, f.partial = syscall.ENOSPC, tc.partial })
			el2, raw2 := jEvent(4)
			if first, err := s.CheckAndJournal(el2, raw2, false, nil); first || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("event while the seen log still fails: first=%v err=%v, want refused", first, err)
			}
			if n := len(journalAll(t, s)); n != 4 {
				t.Fatalf("journal holds %d records, want 4 (the refused event is not in it)", n)
			}
			if tc.restart {
				s.Close() // fails: the owed record cannot be written
				seenLog.set(healthy)
				s = openJ(t, dir, Options{}, walOptions{OnCommit: ann.onCommit})
			} else {
				seenLog.set(healthy)
			}
			if first, err := s.CheckAndJournal(el, raw, false, nil); first || err != nil {
				t.Fatalf("resend after the disk recovered: first=%v err=%v, want a duplicate", first, err)
			}
			if first, err := s.CheckAndJournal(el2, raw2, false, nil); !first || err != nil {
				t.Fatalf("resend of the refused event: first=%v err=%v, want accepted", first, err)
			}
			if err := s.Err(); err != nil {
				t.Fatalf("Err() after the disk recovered: %v", err)
			}
			closeT(t, s)

			s = openJ(t, dir, Options{}, walOptions{})
			defer closeT(t, s)
			recs := journalAll(t, s)
			if n := keysOnce(t, recs); len(n) != 5 {
				t.Fatalf("journal holds %v, want the 5 events", seqsOf(recs))
			}
			for i := range 5 {
				el, raw := jEvent(i)
				if first, err := s.CheckAndJournal(el, raw, false, nil); first || err != nil {
					t.Fatalf("event %d after reopening: first=%v err=%v, want a duplicate", i, first, err)
				}
			}
		})
	}
}

// TestOwedSeenRecordWrittenWithinASecond: the seen record of an event
// accepted through its journal record alone is written and fsync'd
// within a second even if no other event comes, and Err is nil again.
func TestOwedSeenRecordWrittenWithinASecond(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openJ(t, dir, Options{}, walOptions{})
		addEvents(t, s, 0, 2)
		time.Sleep(lazySync) // their seen records are fsync'd: no sync is due
		synctest.Wait()
		before := fileSize(t, logPath(dir))
		sh := &shots{writeIn: 1}
		s.fileMu.Lock()
		s.file = shotFile{s.file, sh}
		s.fileMu.Unlock()
		addEvents(t, s, 2, 3) // accepted: its journal record is durable
		if s.Err() == nil {
			t.Fatal("Err() is nil while the seen log owes a record")
		}
		time.Sleep(lazySync)
		synctest.Wait()
		if err := s.Err(); err != nil {
			t.Fatalf("Err() a second later: %v", err)
		}
		if got := fileSize(t, logPath(dir)); got != before+recordSize {
			t.Fatalf("seen log is %d bytes, want %d: the owed record written", got, before+recordSize)
		}
		closeT(t, s)
	})
}

// TestNoWALReadsNoPositions: without a write-ahead log the store reads
// no file but its own: a stray "positions" entry (the journal's file of
// upstream positions), even one that is not a regular file, does not
// keep it from opening.
func TestNoWALReadsNoPositions(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "positions"), 0o700); err != nil {
		t.Fatal(err)
	}
	s := openT(t, dir, Options{})
	record(t, s, keyN(1), true)
	closeT(t, s)
}
