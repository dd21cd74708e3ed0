package seen

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

func keep(t testing.TB, s *Store, k Key, wantFirst bool, wantErr error) {
	t.Helper()
	first, err := s.CheckAndKeep(k)
	if first != wantFirst || !errors.Is(err, wantErr) || (wantErr == nil) != (err == nil) {
		t.Fatalf("CheckAndKeep(%x) = %v, %v; want %v, %v", k[:4], first, err, wantFirst, wantErr)
	}
}

func writesOf(f *faultyFile) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

func healthy(f *faultyFile) { f.writeErr, f.syncErr, f.hold = nil, nil, nil }

// TestKeepFailureThenRecovery: a key whose write fails is still reported
// first, stays known, and is written by the retries (1 s, then 2 s, ...)
// once the disk recovers; Err reports it until then; a reopened store
// knows it.
func TestKeepFailureThenRecovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openT(t, dir, Options{})
		record(t, s, keyN(0), true)
		if err := s.Err(); err != nil {
			t.Fatalf("Err on a healthy store: %v", err)
		}
		f := injectFaults(s)
		f.set(func(f *faultyFile) { f.writeErr = syscall.ENOSPC })
		k := keyN(1)
		first, err := s.CheckAndKeep(k)
		if !first || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "in memory") {
			t.Fatalf("CheckAndKeep on a full disk = %v, %v; want true and a not-durable error", first, err)
		}
		keep(t, s, k, false, nil) // a second copy is a duplicate
		record(t, s, k, false)    // for the author path too
		if err := s.Err(); err == nil || !errors.Is(err, syscall.ENOSPC) ||
			!strings.Contains(err.Error(), "1 event(s) recorded in memory only") {
			t.Fatalf("Err with a key pending = %v", err)
		}

		w := writesOf(f)
		time.Sleep(minRetry - time.Millisecond)
		synctest.Wait()
		if writesOf(f) != w {
			t.Fatal("retried before the first delay")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if writesOf(f) != w+1 {
			t.Fatalf("%d writes at the first retry, want 1", writesOf(f)-w)
		}
		time.Sleep(2*minRetry - time.Millisecond) // the delay doubles
		synctest.Wait()
		if writesOf(f) != w+1 {
			t.Fatal("second retry came before twice the first delay")
		}
		f.set(healthy)
		if s.Err() == nil {
			t.Fatal("Err is nil before the key is written")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if err := s.Err(); err != nil {
			t.Fatalf("Err after the retry succeeded: %v", err)
		}
		if got := len(readLog(t, dir)); got != headerSize+2*recordSize {
			t.Fatalf("log is %d bytes, want 2 records", got)
		}
		closeT(t, s)
		s = openT(t, dir, Options{})
		record(t, s, k, false)
		closeT(t, s)
	})
}

// TestKeepBackoffCap: the retry delay stops growing at maxRetry.
func TestKeepBackoffCap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir(), Options{})
		f := injectFaults(s)
		f.set(func(f *faultyFile) { f.writeErr = syscall.EIO })
		keep(t, s, keyN(1), true, syscall.EIO)
		time.Sleep(time.Hour)
		w := writesOf(f)
		time.Sleep(4 * maxRetry)
		synctest.Wait()
		if n := writesOf(f) - w; n != 4 {
			t.Fatalf("%d retries in %v after an hour of failures, want 4", n, 4*maxRetry)
		}
		f.set(healthy)
		closeT(t, s)
	})
}

// TestKeepRetriesAfterNextWrite: once any write succeeds the kept keys are
// written at once, without waiting for the retry delay; a failed
// CheckAndRecord makes Err non-nil until the next write succeeds.
func TestKeepRetriesAfterNextWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openT(t, dir, Options{})
		f := injectFaults(s)
		f.set(func(f *faultyFile) { f.writeErr = syscall.ENOSPC })
		keep(t, s, keyN(1), true, syscall.ENOSPC)
		keep(t, s, keyN(2), true, syscall.ENOSPC)
		if _, err := s.CheckAndRecord(keyN(3)); !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("CheckAndRecord on a full disk: %v", err)
		}
		if err := s.Err(); err == nil || !strings.Contains(err.Error(), "2 event(s)") {
			t.Fatalf("Err = %v, want 2 events pending", err)
		}
		f.set(healthy)
		record(t, s, keyN(3), true)
		synctest.Wait() // no time passes
		if err := s.Err(); err != nil {
			t.Fatalf("Err after a successful write: %v", err)
		}
		closeT(t, s)
		s = openT(t, dir, Options{})
		for i := 1; i <= 3; i++ {
			record(t, s, keyN(i), false)
		}

		// A failed CheckAndRecord alone: nothing pending, but unhealthy.
		f = injectFaults(s)
		f.set(func(f *faultyFile) { f.syncErr = syscall.EIO })
		if _, err := s.CheckAndRecord(keyN(4)); !errors.Is(err, syscall.EIO) {
			t.Fatalf("CheckAndRecord on a failing disk: %v", err)
		}
		if err := s.Err(); err == nil || !errors.Is(err, syscall.EIO) || !strings.Contains(err.Error(), "last write") {
			t.Fatalf("Err after a failed write = %v", err)
		}
		f.set(healthy)
		record(t, s, keyN(4), true)
		if err := s.Err(); err != nil {
			t.Fatalf("Err after recovery: %v", err)
		}
		closeT(t, s)
	})
}

// TestKeepClose: Close tries the kept keys once more: they are durable if
// the disk has recovered, and Close reports them if not.
func TestKeepClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openT(t, dir, Options{})
		f := injectFaults(s)
		f.set(func(f *faultyFile) { f.writeErr = syscall.ENOSPC })
		keep(t, s, keyN(1), true, syscall.ENOSPC)
		f.set(healthy) // before the retry delay
		closeT(t, s)
		s = openT(t, dir, Options{})
		record(t, s, keyN(1), false)

		f = injectFaults(s)
		f.set(func(f *faultyFile) { f.writeErr = syscall.ENOSPC })
		keep(t, s, keyN(2), true, syscall.ENOSPC)
		keep(t, s, keyN(3), true, syscall.ENOSPC)
		w := writesOf(f)
		err := s.Close()
		if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "2 event(s)") {
			t.Fatalf("Close with 2 keys unwritable = %v", err)
		}
		if writesOf(f) != w+1 {
			t.Fatalf("Close made %d tries, want 1", writesOf(f)-w)
		}
		s = openT(t, dir, Options{})
		record(t, s, keyN(1), false)
		record(t, s, keyN(2), true) // lost, as Close said
		closeT(t, s)
	})
}

// TestKeepManyRetriedInBatches: more kept keys than one batch holds are
// written back in batches no larger than maxBatch, so a crash during a
// retry leaves no more than a torn tail.
func TestKeepManyRetriedInBatches(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openT(t, dir, Options{})
		f := injectFaults(s)
		f.set(func(f *faultyFile) { f.writeErr = syscall.ENOSPC })
		const n = 2*maxBatch + 10
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { keep(t, s, keyN(i), true, syscall.ENOSPC) })
		}
		wg.Wait()
		sizes := &writeSizes{logFile: f}
		s.fileMu.Lock()
		s.file = sizes
		s.fileMu.Unlock()
		f.set(healthy)
		time.Sleep(minRetry)
		synctest.Wait()
		if err := s.Err(); err != nil {
			t.Fatalf("Err after the retries: %v", err)
		}
		if got := sizes.get(); len(got) != 3 || max(got[0], got[1], got[2]) > maxBatch*recordSize {
			t.Fatalf("retry writes of %v bytes, want 3 of at most %d", got, maxBatch*recordSize)
		}
		closeT(t, s)
		s = openT(t, dir, Options{})
		if s.Len() != n {
			t.Fatalf("Len after reopen = %d, want %d", s.Len(), n)
		}
		closeT(t, s)
	})
}

// writeSizes records the size of each write.
type writeSizes struct {
	logFile
	mu    sync.Mutex
	sizes []int
}

func (w *writeSizes) WriteAt(b []byte, off int64) (int, error) {
	w.mu.Lock()
	w.sizes = append(w.sizes, len(b))
	w.mu.Unlock()
	return w.logFile.WriteAt(b, off)
}

func (w *writeSizes) get() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.sizes...)
}

// TestKeepConcurrentOneFirst: concurrent CheckAndKeep and CheckAndRecord
// calls on overlapping keys give each key exactly one first, on a working
// disk and on a failing one; on the failing one every first comes with an
// error and every key is written once the disk recovers.
func TestKeepConcurrentOneFirst(t *testing.T) {
	for _, failing := range []bool{false, true} {
		dir := t.TempDir()
		s := openT(t, dir, Options{})
		f := injectFaults(s)
		if failing {
			f.set(func(f *faultyFile) { f.writeErr = syscall.ENOSPC })
		}
		const keys, workers = 200, 16
		var wins [keys]atomic.Int32
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for i := range keys {
					k := keyN((i + w*7) % keys)
					first, err := s.CheckAndKeep(k)
					if first {
						wins[(i+w*7)%keys].Add(1)
					}
					if wantErr := failing && first; (err != nil) != wantErr {
						t.Errorf("failing=%v: CheckAndKeep = %v, %v", failing, first, err)
					}
				}
			})
		}
		wg.Wait()
		for i := range wins {
			if n := wins[i].Load(); n != 1 {
				t.Fatalf("failing=%v: key %d first %d times", failing, i, n)
			}
		}
		f.set(healthy)
		closeT(t, s) // writes what is pending
		s = openT(t, dir, Options{})
		if s.Len() != keys {
			t.Fatalf("failing=%v: Len after reopen = %d, want %d", failing, s.Len(), keys)
		}
		closeT(t, s)
	}
}

// TestKeepWaitsForRecord: CheckAndKeep of a key whose record another call
// is writing waits for it: if that was CheckAndKeep's, or a
// CheckAndRecord's that succeeded, it is a duplicate; if it was a failed
// CheckAndRecord's, whose key is forgotten, it takes the key over.
func TestKeepWaitsForRecord(t *testing.T) {
	type result struct {
		first bool
		err   error
	}
	run := func(s *Store, f *faultyFile, firstCall func(Key) (bool, error), writeErr error) (a, b result) {
		hold := make(chan struct{})
		f.set(func(f *faultyFile) { f.hold, f.writeErr = hold, writeErr })
		ra, rb := make(chan result), make(chan result)
		k := keyN(7)
		go func() { first, err := firstCall(k); ra <- result{first, err} }()
		synctest.Wait() // the first call's write is in WriteAt
		f.set(healthy)  // the next write succeeds
		go func() { first, err := s.CheckAndKeep(k); rb <- result{first, err} }()
		synctest.Wait() // the second waits for the first's record
		close(hold)
		return <-ra, <-rb
	}
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir(), Options{})
		f := injectFaults(s)
		a, b := run(s, f, s.CheckAndRecord, syscall.ENOSPC)
		if a.first || !errors.Is(a.err, syscall.ENOSPC) || !b.first || b.err != nil {
			t.Fatalf("failed CheckAndRecord then CheckAndKeep: %v then %v; want false, ENOSPC then true, nil", a, b)
		}
		closeT(t, s)
	})
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir(), Options{})
		f := injectFaults(s)
		a, b := run(s, f, s.CheckAndKeep, syscall.ENOSPC)
		if !a.first || !errors.Is(a.err, syscall.ENOSPC) || b.first || b.err != nil {
			t.Fatalf("failed CheckAndKeep then CheckAndKeep: %v then %v; want true, ENOSPC then false, nil", a, b)
		}
		closeT(t, s)
	})
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir(), Options{})
		f := injectFaults(s)
		a, b := run(s, f, s.CheckAndRecord, nil)
		if !a.first || a.err != nil || b.first || b.err != nil {
			t.Fatalf("CheckAndRecord then CheckAndKeep: %v then %v; want true then false", a, b)
		}
		closeT(t, s)
	})
}
