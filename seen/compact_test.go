package seen

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

const day = 24 * time.Hour

// Compact runs a compaction now, as the store does every
// Options.CompactEvery, for the tests to observe one: it forgets expired
// keys and rewrites the log without them and without superseded records.
func (s *Store) Compact() error {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrClosed
	}
	return s.compact(false)
}

// TestExpiry drives expiry with an injected clock.
func TestExpiry(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := openT(t, dir, Options{Now: c.Now})
	a, b := keyN(1), keyN(2)
	record(t, s, a, true)
	c.Add(20 * day)
	record(t, s, a, false)
	record(t, s, b, true)
	c.Add(10*day - time.Second)
	record(t, s, a, false) // 30 days less a second
	c.Add(time.Second)
	record(t, s, a, true) // 30 days: forgotten, recorded again
	record(t, s, a, false)
	record(t, s, b, false)

	c.Add(25 * day) // b is 35 days old, a 25
	if !s.LastCompaction().IsZero() {
		t.Fatal("LastCompaction set before any compaction")
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if got := s.LastCompaction(); !got.Equal(c.Now()) {
		t.Errorf("LastCompaction = %v, want %v", got, c.Now())
	}
	if n := s.Len(); n != 1 {
		t.Fatalf("Len after compaction = %d, want 1", n)
	}
	closeT(t, s)
	if got := len(readLog(t, dir)); got != headerSize+recordSize {
		t.Fatalf("compacted log is %d bytes, want one record", got)
	}
	s = openT(t, dir, Options{Now: c.Now})
	record(t, s, a, false)
	record(t, s, b, true)
	closeT(t, s)

	c.Add(31 * day) // everything expired while the broker was down
	s = openT(t, dir, Options{Now: c.Now})
	if n := s.Len(); n != 0 {
		t.Fatalf("Len after 31 days down = %d, want 0", n)
	}
	record(t, s, a, true)
}

// TestCompactKeepsEveryLiveKey: superseded and expired records go, live
// ones stay, and a restart agrees.
func TestCompactKeepsEveryLiveKey(t *testing.T) {
	dir := t.TempDir()
	c := newClock()
	s := openT(t, dir, Options{Now: c.Now, Expiry: 10 * day})
	for i := range 100 {
		record(t, s, keyN(i), true)
	}
	c.Add(6 * day)
	for i := 50; i < 150; i++ { // 50..99 are duplicates
		record(t, s, keyN(i), i >= 100)
	}
	c.Add(5 * day) // 0..99 expired, 100..149 live
	for i := range 50 {
		record(t, s, keyN(i), true) // re-recorded: their old records are superseded
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if n := s.Len(); n != 100 {
		t.Fatalf("Len = %d, want 100", n)
	}
	if got := len(readLog(t, dir)); got != headerSize+100*recordSize {
		t.Fatalf("compacted log holds %d records, want 100", (got-headerSize)/recordSize)
	}
	closeT(t, s)
	s = openT(t, dir, Options{Now: c.Now, Expiry: 10 * day})
	for i := range 150 {
		record(t, s, keyN(i), i >= 50 && i < 100)
	}
}

// TestCompactRacingWriters compacts over and over while writers record
// new keys: no acknowledged key is lost, before or after a restart, and
// the log ends with exactly one record per key.
func TestCompactRacingWriters(t *testing.T) {
	dir := t.TempDir()
	const preload = 100000 // something to copy while writers write
	writeLogFile(t, logPath(dir), preload, time.Now().Unix())
	s := openT(t, dir, Options{})
	defer func(old int64) { catchUpBytes = old }(catchUpBytes)
	catchUpBytes = recordSize // take the unlocked catch-up path whenever possible
	const workers, per = 8, 150
	var next atomic.Int64
	next.Store(preload - 1)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range workers {
		wg.Go(func() {
			for range per {
				i := int(next.Add(1))
				record(t, s, keyN(i), true)
				record(t, s, keyN(i), false)
			}
		})
	}
	compactions := 0
	go func() { wg.Wait(); close(stop) }()
	for done := false; !done; {
		select {
		case <-stop:
			done = true
		default:
			if err := s.Compact(); err != nil {
				t.Fatal(err)
			}
			compactions++
		}
	}
	n := int(next.Load()) // keys 0..n are recorded
	for i := range n + 1 {
		record(t, s, keyN(i), false)
	}
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	closeT(t, s)
	if got := len(readLog(t, dir)); got != headerSize+(n+1)*recordSize {
		t.Fatalf("log holds %d records, want %d", (got-headerSize)/recordSize, n+1)
	}
	s = openT(t, dir, Options{})
	for i := range n + 1 {
		record(t, s, keyN(i), false)
	}
	t.Logf("%d keys recorded during %d compactions", n+1-preload, compactions)
}

// TestPeriodicCompaction: the timer compacts every CompactEvery, observed
// with synctest's fake clock (Options.Now defaults to time.Now, which is
// fake in the bubble too).
func TestPeriodicCompaction(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openT(t, dir, Options{Expiry: 2 * time.Hour, CompactEvery: time.Hour})
		record(t, s, keyN(1), true)
		time.Sleep(30 * time.Minute)
		record(t, s, keyN(2), true)
		time.Sleep(time.Hour) // a compaction at 1h: nothing expired
		synctest.Wait()
		if n := s.Len(); n != 2 {
			t.Fatalf("Len at 1h30 = %d, want 2", n)
		}
		time.Sleep(time.Hour) // at 2h key 1 is 2h old: expired
		synctest.Wait()
		if n := s.Len(); n != 1 {
			t.Fatalf("Len at 2h30 = %d, want 1", n)
		}
		if got := len(readLog(t, dir)); got != headerSize+recordSize {
			t.Fatalf("log is %d bytes after the 2h compaction", got)
		}
		time.Sleep(time.Hour) // at 3h key 2 is 2h30 old
		synctest.Wait()
		if n := s.Len(); n != 0 {
			t.Fatalf("Len at 3h30 = %d, want 0", n)
		}
		closeT(t, s)
	})
}

// TestCompactAtOpen: a log more than half dead is compacted in the
// background right after Open.
func TestCompactAtOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		now := time.Now().Unix()
		log := makeLog(3000, now-40*24*3600) // expired
		k := keyN(99999)
		log = appendRecord(log, &k, now)
		writeLog(t, dir, log)
		s := openT(t, dir, Options{})
		synctest.Wait() // the compaction ran and the loop waits for its timer
		if got := len(readLog(t, dir)); got != headerSize+recordSize {
			t.Fatalf("log is %d bytes, want one record", got)
		}
		record(t, s, k, false)
		closeT(t, s)
	})
}

// TestCloseAbandonsCompaction: Close during a compaction leaves a log
// that reopens with every key, and no compaction file.
func TestCloseDuringCompaction(t *testing.T) {
	dir := t.TempDir()
	writeLogFile(t, logPath(dir), 200000, time.Now().Unix())
	s := openT(t, dir, Options{})
	done := make(chan error)
	go func() { done <- s.Compact() }()
	closeT(t, s)
	if err := <-done; err != nil && err != ErrClosed {
		t.Fatalf("Compact racing Close: %v", err)
	}
	if _, err := os.Stat(tmpPathOf(dir)); !os.IsNotExist(err) {
		t.Fatalf("compaction file left behind: %v", err)
	}
	s = openT(t, dir, Options{})
	if n := s.Len(); n != 200000 {
		t.Fatalf("Len = %d, want 200000", n)
	}
}

// TestCompactFindsDamage: a record damaged on disk while the store runs is
// reported by the next compaction with its offset, a copy is kept, and
// every other key survives.
func TestCompactFindsDamage(t *testing.T) {
	dir := t.TempDir()
	logger, sink := newLog()
	s := openT(t, dir, Options{Logger: logger})
	for i := range 10 {
		record(t, s, keyN(i), true)
	}
	f, err := os.OpenFile(logPath(dir), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(headerSize + 4*recordSize)
	if _, err := f.WriteAt([]byte{0xde, 0xad}, off+10); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := s.Compact(); err != nil {
		t.Fatal(err)
	}
	if !sink.Has("level=ERROR", fmt.Sprintf("offset=%d", off)) {
		t.Fatalf("damage not reported:\n%s", sink)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, corruptName+"*")); len(m) != 1 {
		t.Fatalf("%d copies of the damaged log", len(m))
	}
	closeT(t, s)
	s = openT(t, dir, Options{})
	for i := range 10 {
		record(t, s, keyN(i), i == 4)
	}
}
