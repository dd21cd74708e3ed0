package seen

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"comet/internal/storetest"
)

// TestJournaledEventsCostOneSync: with the journal, an acknowledged
// event costs one fsync, the journal's; its seen record is fsync'd within
// a second, together with the others written meanwhile. A record the
// journal does not hold (a test event's) is fsync'd before its caller
// returns, and takes the owed ones with it.
func TestJournaledEventsCostOneSync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openJ(t, t.TempDir(), Options{}, walOptions{})
		seenLog, jseg := injectFaults(s), injectJournalFaults(s)
		addEvents(t, s, 0, 5)
		if _, n := jseg.counts(); n != 5 {
			t.Fatalf("%d journal fsyncs for 5 events, want 5", n)
		}
		if w, n := seenLog.counts(); w != 5 || n != 0 {
			t.Fatalf("seen log: %d writes and %d fsyncs before the delay, want 5 and 0", w, n)
		}
		time.Sleep(lazySync)
		synctest.Wait()
		if _, n := seenLog.counts(); n != 1 {
			t.Fatalf("seen log: %d fsyncs a second later, want 1", n)
		}
		addEvents(t, s, 5, 6)
		record(t, s, keyN(1), true) // not journaled
		if _, n := seenLog.counts(); n != 2 {
			t.Fatalf("seen log: %d fsyncs after a record the journal does not hold, want 2", n)
		}
		time.Sleep(10 * lazySync)
		synctest.Wait()
		if _, n := seenLog.counts(); n != 2 {
			t.Fatalf("seen log: %d fsyncs with nothing owed, want still 2", n)
		}
		closeT(t, s)
	})
}

// TestUnsyncedSeenRecordsSurvivePowerLoss: a power loss that takes the
// seen records written without an fsync, whole or with holes, loses no
// acknowledged event: Open restores them from the journal, so copies of
// those events are recognised and nothing is journaled twice.
func TestUnsyncedSeenRecordsSurvivePowerLoss(t *testing.T) {
	for _, loss := range []string{"all", "holes"} {
		t.Run(loss, func(t *testing.T) {
			dir := t.TempDir()
			s := openJ(t, dir, Options{}, walOptions{})
			addEvents(t, s, 0, 3)
			if err := s.Sync(); err != nil {
				t.Fatal(err)
			}
			synced := fileSize(t, logPath(dir))
			addEvents(t, s, 3, 40) // acknowledged, seen records not fsync'd
			after := filepath.Join(t.TempDir(), "db")
			storetest.CopyAsAfterPowerLoss(t, dir, after)
			logAfter := logPath(after)
			switch loss {
			case "all":
				if err := os.Truncate(logAfter, synced); err != nil {
					t.Fatal(err)
				}
			case "holes": // later records reached the disk, earlier ones did not
				b := readLog(t, after)
				for i := synced + 2*recordSize; i < synced+10*recordSize; i++ {
					b[i] = 0
				}
				writeLog(t, after, b)
			}
			closeT(t, s)
			log, sink := newLog()
			s = openJ(t, after, Options{Logger: log}, walOptions{})
			if !sink.Has("restored the seen records") {
				t.Errorf("no warning about restored records:\n%s", sink)
			}
			for i := range 40 {
				el, raw := jEvent(i)
				if first, err := s.CheckAndJournal(el, raw, false, nil); first || err != nil {
					t.Fatalf("event %d after the power loss: first=%v err=%v, want a duplicate", i, first, err)
				}
			}
			if n := len(journalAll(t, s)); n != 40 {
				t.Fatalf("journal holds %d records, want 40", n)
			}
			closeT(t, s)
		})
	}
}

// TestFailedLazySyncIsRepaired: when the delayed fsync fails, the records
// are written again and fsync'd with the next event, and an event is not
// acknowledged while the disk still fails.
func TestFailedLazySyncIsRepaired(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log, sink := newLog()
		s := openJ(t, t.TempDir(), Options{Logger: log}, walOptions{})
		seenLog := injectFaults(s)
		addEvents(t, s, 0, 2)
		seenLog.set(func(f *faultyFile) { f.syncErr = syscall.EIO })
		time.Sleep(lazySync)
		synctest.Wait()
		if !strings.Contains(sink.String(), "cannot fsync the newest seen records") {
			t.Fatalf("failed fsync not logged:\n%s", sink)
		}
		el, raw := jEvent(2)
		if first, err := s.CheckAndJournal(el, raw, false, nil); first || err == nil {
			t.Fatalf("event while the seen log cannot sync: first=%v err=%v, want refused", first, err)
		}
		seenLog.set(func(f *faultyFile) { f.syncErr = nil })
		w0, _ := seenLog.counts()
		addEvents(t, s, 2, 3)
		if w, n := seenLog.counts(); n != 1 || w != w0+2 {
			t.Fatalf("after the disk recovered: %d more writes and %d fsyncs, want 2 (the batch, the owed records again) and 1", w-w0, n)
		}
		closeT(t, s)
	})
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
