package seen

import (
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"comet/internal/storetest"
)

func TestMain(m *testing.M) {
	// Child processes of the crash and lock tests (crash_test.go).
	switch os.Getenv(childModeEnv) {
	case "record":
		crashChild()
		return
	case "hold":
		holdChild()
		return
	}
	code := m.Run()
	if code == 0 && leakedGoroutines() {
		code = 1
	}
	os.Exit(code)
}

// leakedGoroutines reports goroutines still running Store code after all
// tests, as net/http's main_test.go does for its own.
func leakedGoroutines() bool {
	var stacks []string
	for range 1000 {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		stacks = stacks[:0]
		for _, g := range strings.Split(string(buf), "\n\n") {
			if strings.Contains(g, "seen.(*Store)") {
				stacks = append(stacks, g)
			}
		}
		if len(stacks) == 0 {
			return false
		}
		runtime.Gosched() // a goroutine past wg.Done may not have exited yet
	}
	fmt.Fprintf(os.Stderr, "seen: goroutines leaked by tests:\n%s\n", strings.Join(stacks, "\n\n"))
	return true
}

// logSink and newLog: a logger whose output a test can search.
type logSink = storetest.LogSink

func newLog() (*slog.Logger, *logSink) { return storetest.NewLog() }

var quiet = slog.New(slog.DiscardHandler)

// openT opens a store that the test closes at cleanup (a second Close is
// harmless).
func openT(t testing.TB, dir string, opts Options) *Store {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quiet
	}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func closeT(t testing.TB, s *Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// keyN is the key of a made-up event number i.
func keyN(i int) Key {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return KeyOf(b[:])
}

func record(t testing.TB, s *Store, k Key, wantFirst bool) {
	t.Helper()
	first, err := s.CheckAndRecord(k)
	if err != nil {
		t.Fatalf("CheckAndRecord(%x): %v", k[:4], err)
	}
	if first != wantFirst {
		t.Fatalf("CheckAndRecord(%x) = first %v, want %v", k[:4], first, wantFirst)
	}
}

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

func logPath(dir string) string { return filepath.Join(dir, logName) }

func readLog(t testing.TB, dir string) []byte {
	t.Helper()
	b, err := os.ReadFile(logPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeLog(t testing.TB, dir string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(logPath(dir), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeLog returns a log of n records with keys keyN(0..n-1) recorded at unix.
func makeLog(n int, unix int64) []byte {
	b := make([]byte, 0, headerSize+n*recordSize)
	b = append(b, header()...)
	for i := range n {
		k := keyN(i)
		b = appendRecord(b, &k, unix)
	}
	return b
}

// writeLogFile streams a log of n records to path without holding it in memory.
func writeLogFile(t testing.TB, path string, n int, unix int64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := io.Writer(f)
	buf := append([]byte(nil), header()...)
	for i := range n {
		k := keyN(i)
		buf = appendRecord(buf, &k, unix)
		if len(buf) >= 1<<20 {
			if _, err := w.Write(buf); err != nil {
				t.Fatal(err)
			}
			buf = buf[:0]
		}
	}
	if _, err := w.Write(buf); err != nil {
		t.Fatal(err)
	}
}

func tmpPathOf(dir string) string { return filepath.Join(dir, tmpName) }
