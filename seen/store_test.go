package seen

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

func TestFirstThenDuplicate(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	a, b := keyN(1), keyN(2)
	record(t, s, a, true)
	record(t, s, a, false)
	record(t, s, b, true)
	record(t, s, a, false)
	if n := s.Len(); n != 2 {
		t.Fatalf("Len = %d, want 2", n)
	}
}

// TestConcurrentOneWinnerPerKey: many goroutines offer overlapping keys in
// different orders; each key has exactly one winner.
func TestConcurrentOneWinnerPerKey(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	const keys, workers = 400, 32
	var wins [keys]atomic.Int32
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 0))
			for _, i := range rng.Perm(keys) {
				first, err := s.CheckAndRecord(keyN(i))
				if err != nil {
					t.Error(err)
					return
				}
				if first {
					wins[i].Add(1)
				}
			}
		})
	}
	wg.Wait()
	for i := range wins {
		if n := wins[i].Load(); n != 1 {
			t.Errorf("key %d won %d times", i, n)
		}
	}
	if n := s.Len(); n != keys {
		t.Fatalf("Len = %d, want %d", n, keys)
	}
}

func TestRestartKeepsKeys(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	const n = 300
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { record(t, s, keyN(i), true) })
	}
	wg.Wait()
	closeT(t, s)
	if got, want := len(readLog(t, dir)), headerSize+n*recordSize; got != want {
		t.Fatalf("log is %d bytes, want %d", got, want)
	}
	logger, sink := newLog()
	s = openT(t, dir, Options{Logger: logger})
	if s.Len() != n {
		t.Fatalf("Len after restart = %d, want %d", s.Len(), n)
	}
	for i := range n {
		record(t, s, keyN(i), false)
	}
	record(t, s, keyN(n), true)
	if sink.Has("level=WARN") || sink.Has("level=ERROR") {
		t.Fatalf("clean restart logged problems:\n%s", sink)
	}
}

func TestSecondOpenFails(t *testing.T) {
	dir := t.TempDir()
	s := openT(t, dir, Options{})
	_, err := Open(dir, Options{Logger: quiet})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	wantLockedErr(t, err, dir)
	record(t, s, keyN(1), true) // the first is unharmed
	closeT(t, s)
	s = openT(t, dir, Options{})
	record(t, s, keyN(1), false)
}

// wantLockedErr checks the error of Open on a locked store: it names the
// directory and the lock file, and says what to do.
func wantLockedErr(t *testing.T, err error, dir string) {
	t.Helper()
	want := "seen: " + dir + " is in use by another comet process (lock held on " +
		filepath.Join(dir, lockName) + "); stop it or give this broker its own --eventdb"
	if err == nil || err.Error() != want {
		t.Fatalf("Open of a locked store: %v\nwant: %s", err, want)
	}
}

func TestOpenErrors(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("regular file", func(t *testing.T) {
		_, err := Open(file, Options{Logger: quiet})
		if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), "not a directory") {
			t.Fatalf("Open(regular file) = %v", err)
		}
	})
	t.Run("under a regular file", func(t *testing.T) {
		// Cannot be created whoever runs the test, root included.
		p := filepath.Join(file, "db")
		_, err := Open(p, Options{Logger: quiet})
		if err == nil || !strings.Contains(err.Error(), p) {
			t.Fatalf("Open(%s) = %v", p, err)
		}
	})
	t.Run("not writable", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root can write to a read-only directory")
		}
		ro := filepath.Join(base, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		_, err := Open(ro, Options{Logger: quiet})
		if err == nil || !strings.Contains(err.Error(), ro+" is not writable") || !errors.Is(err, os.ErrPermission) {
			t.Fatalf("Open(read-only dir) = %v", err)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		if _, err := Open(t.TempDir(), Options{Expiry: time.Millisecond}); err == nil {
			t.Fatal("Open accepted a 1 ms expiry")
		}
	})
	t.Run("created", func(t *testing.T) {
		p := filepath.Join(base, "new", "db")
		closeT(t, openT(t, p, Options{}))
		if _, err := os.Stat(logPath(p)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestClosed(t *testing.T) {
	s := openT(t, t.TempDir(), Options{})
	closeT(t, s)
	closeT(t, s)
	if _, err := s.CheckAndRecord(keyN(1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("CheckAndRecord after Close: %v", err)
	}
	if err := s.Compact(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Compact after Close: %v", err)
	}
}

// faultyFile fails like a full or broken disk on demand. With hold set,
// WriteAt waits for a value on hold first (use inside a synctest bubble).
type faultyFile struct {
	logFile
	mu                sync.Mutex
	writeErr, syncErr error
	truncErr          error
	partial           bool // write half the bytes before failing
	hold              chan struct{}
	writes, truncates int
	syncs             int // successful ones
}

func (f *faultyFile) set(fn func(f *faultyFile)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *faultyFile) WriteAt(b []byte, off int64) (int, error) {
	f.mu.Lock()
	hold, err, partial := f.hold, f.writeErr, f.partial
	f.writes++
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	if err != nil {
		n := 0
		if partial {
			n, _ = f.logFile.WriteAt(b[:len(b)/2], off)
		}
		return n, &os.PathError{Op: "write", Path: "seen.log", Err: err}
	}
	return f.logFile.WriteAt(b, off)
}

func (f *faultyFile) Sync() error {
	f.mu.Lock()
	err := f.syncErr
	f.mu.Unlock()
	if err != nil {
		return &os.PathError{Op: "sync", Path: "seen.log", Err: err}
	}
	if err := f.logFile.Sync(); err != nil {
		return err
	}
	f.mu.Lock()
	f.syncs++
	f.mu.Unlock()
	return nil
}

func (f *faultyFile) counts() (writes, syncs int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes, f.syncs
}

func (f *faultyFile) Truncate(n int64) error {
	f.mu.Lock()
	err := f.truncErr
	f.truncates++
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return f.logFile.Truncate(n)
}

func injectFaults(s *Store) *faultyFile {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	f := &faultyFile{logFile: s.file}
	s.file = f
	return f
}

// TestWriteFailure: a failed write or fsync is reported, leaves the key
// unrecorded, and a resend succeeds once the disk recovers; the log stays
// clean.
func TestWriteFailure(t *testing.T) {
	cases := []struct {
		name string
		set  func(f *faultyFile)
		want error
	}{
		{"full disk", func(f *faultyFile) { f.writeErr = syscall.ENOSPC }, syscall.ENOSPC},
		{"partial write", func(f *faultyFile) { f.writeErr, f.partial = syscall.ENOSPC, true }, syscall.ENOSPC},
		{"partial write, truncate fails", func(f *faultyFile) {
			f.writeErr, f.partial, f.truncErr = syscall.ENOSPC, true, syscall.EIO
		}, syscall.ENOSPC},
		{"fsync fails", func(f *faultyFile) { f.syncErr = syscall.EIO }, syscall.EIO},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			logger, sink := newLog()
			s := openT(t, dir, Options{Logger: logger})
			record(t, s, keyN(0), true)
			f := injectFaults(s)
			f.set(tc.set)
			first, err := s.CheckAndRecord(keyN(1))
			if first || !errors.Is(err, tc.want) || !strings.HasPrefix(err.Error(), "seen: ") {
				t.Fatalf("CheckAndRecord on a failing disk = %v, %v", first, err)
			}
			if n := s.Len(); n != 1 {
				t.Fatalf("Len = %d after a failed record, want 1", n)
			}
			f.set(func(f *faultyFile) { f.writeErr, f.syncErr, f.truncErr, f.partial = nil, nil, nil, false })
			record(t, s, keyN(1), true) // the resend
			record(t, s, keyN(2), true)
			closeT(t, s)
			s = openT(t, dir, Options{Logger: logger})
			for i := range 3 {
				record(t, s, keyN(i), false)
			}
			if s.Len() != 3 {
				t.Fatalf("Len after restart = %d, want 3", s.Len())
			}
			if sink.Has("seen: cutting") || sink.Has("level=ERROR", "unreadable") {
				t.Fatalf("reopen found damage:\n%s", sink)
			}
		})
	}
}

// TestWaiterGetsWriterError: a caller that finds its key being written by
// another waits and shares that write's fate.
func TestWaiterGetsWriterError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir(), Options{})
		f := injectFaults(s)
		hold := make(chan struct{})
		f.set(func(f *faultyFile) { f.hold, f.writeErr = hold, syscall.ENOSPC })
		type result struct {
			first bool
			err   error
		}
		res := make(chan result, 2)
		k := keyN(5)
		call := func() {
			first, err := s.CheckAndRecord(k)
			res <- result{first, err}
		}
		go call()
		synctest.Wait() // the committer is inside WriteAt
		go call()
		synctest.Wait() // the second caller waits for the first's record
		close(hold)
		for range 2 {
			r := <-res
			if r.first || !errors.Is(r.err, syscall.ENOSPC) {
				t.Fatalf("caller got %v, %v; want false, ENOSPC", r.first, r.err)
			}
		}
		f.set(func(f *faultyFile) { f.hold, f.writeErr = nil, nil })
		record(t, s, k, true)
		closeT(t, s)
	})
}

// TestGroupCommit: callers that arrive while an fsync is in progress share
// the next one.
func TestGroupCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := openT(t, t.TempDir(), Options{})
		f := injectFaults(s)
		hold := make(chan struct{})
		f.set(func(f *faultyFile) { f.hold = hold })
		var wg sync.WaitGroup
		wg.Go(func() { record(t, s, keyN(0), true) })
		synctest.Wait() // first batch in WriteAt
		for i := 1; i <= 50; i++ {
			wg.Go(func() { record(t, s, keyN(i), true) })
		}
		synctest.Wait() // 50 callers queued behind it
		close(hold)
		wg.Wait()
		f.mu.Lock()
		writes := f.writes
		f.mu.Unlock()
		if writes != 2 {
			t.Fatalf("51 records took %d writes, want 2", writes)
		}
		closeT(t, s)
	})
}
