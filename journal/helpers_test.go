package journal

import (
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"comet/internal/storedir"
	"comet/internal/storetest"
	"comet/seen"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 && leakedGoroutines() {
		code = 1
	}
	os.Exit(code)
}

// leakedGoroutines reports goroutines still running journal or store
// code after all tests, as net/http's main_test.go does for its own.
func leakedGoroutines() bool {
	var stacks []string
	for range 1000 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		stacks = stacks[:0]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "journal.(*Journal)") || strings.Contains(g, "seen.(*Store)") {
				stacks = append(stacks, g)
			}
		}
		if len(stacks) == 0 {
			return false
		}
		runtime.Gosched() // a goroutine past wg.Done may not have exited yet
	}
	fmt.Fprintf(os.Stderr, "journal: goroutines leaked by tests:\n%s\n", strings.Join(stacks, "\n\n"))
	return true
}

// Store is a seen store opened with a journal as its write-ahead log:
// the journal's methods, and the store's Close and Err.
type Store struct {
	*Journal
	store *seen.Store
}

func (s *Store) Close() error { return s.store.Close() }
func (s *Store) Err() error   { return s.store.Err() }
func (s *Store) CheckAndRecord(k seen.Key) (bool, error) {
	return s.store.CheckAndRecord(k)
}

// openJ opens the store in dir with a journal, closed at cleanup (a
// second Close is harmless). The journal takes the store's logger and
// clock.
// openJ opens a store with a journal in dir; hook, if given, is the
// journal's OnCommit hook.
func openJ(t testing.TB, dir string, opts seen.Options, j Options, hook ...func(seq uint64, payload any)) *Store {
	t.Helper()
	s, err := openStore(dir, opts, j, hook...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func openStore(dir string, opts seen.Options, j Options, hook ...func(seq uint64, payload any)) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	j.Logger, j.Now = opts.Logger, opts.Now
	jr := New(j)
	for _, h := range hook {
		jr.OnCommit(h)
	}
	opts.WAL = jr.OpenWAL
	st, err := seen.Open(dir, opts)
	if err != nil {
		return nil, err
	}
	return &Store{Journal: jr, store: st}, nil
}

func closeT(t testing.TB, s interface{ Close() error }) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// logSink and newLog: a logger whose output a test can search.
type logSink = storetest.LogSink

func newLog() (*slog.Logger, *logSink) { return storetest.NewLog() }

var quiet = slog.New(slog.DiscardHandler)

// clock is an injectable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// faultyFile fails writes, syncs or truncations of a segment as told, and
// counts them.
type faultyFile struct {
	storedir.File
	mu                sync.Mutex
	writeErr, syncErr error
	truncErr          error
	partial           bool // write half the bytes before failing
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
	err, partial := f.writeErr, f.partial
	f.writes++
	f.mu.Unlock()
	if err != nil {
		n := 0
		if partial {
			n, _ = f.File.WriteAt(b[:len(b)/2], off)
		}
		return n, &os.PathError{Op: "write", Path: "journal", Err: err}
	}
	return f.File.WriteAt(b, off)
}

func (f *faultyFile) Sync() error {
	f.mu.Lock()
	err := f.syncErr
	f.mu.Unlock()
	if err != nil {
		return &os.PathError{Op: "sync", Path: "journal", Err: err}
	}
	if err := f.File.Sync(); err != nil {
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
	return f.File.Truncate(n)
}

func seqsOf(recs []Record) []uint64 {
	var out []uint64
	for _, r := range recs {
		out = append(out, r.Seq)
	}
	return out
}
