// Package storetest is test support shared by the tests of the seen
// store and the journal: a package of its own so that the two test
// packages use one copy, imported only by _test.go files and so never
// part of the binary.
//
//   - [LogSink] and [NewLog]: a logger whose output a test can search.
//   - [CopyAsAfterPowerLoss]: a store directory as a disk holds it after
//     power is lost.
package storetest

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// LogSink collects log output for assertions.
type LogSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *LogSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *LogSink) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// Has reports whether one line of the log contains every one of subs.
func (l *LogSink) Has(subs ...string) bool {
	for _, line := range strings.Split(l.String(), "\n") {
		all := true
		for _, s := range subs {
			all = all && strings.Contains(line, s)
		}
		if all {
			return true
		}
	}
	return false
}

// NewLog returns a logger at DEBUG writing to a new LogSink.
func NewLog() (*slog.Logger, *LogSink) {
	sink := &LogSink{}
	return slog.New(slog.NewTextHandler(sink, &slog.HandlerOptions{Level: slog.LevelDebug})), sink
}

// CopyAsAfterPowerLoss copies the store's files in dir to to, as a disk
// holds them: the journal was fsync'd before each acknowledgement, so it
// is whole; the caller takes from the seen log what was not fsync'd.
func CopyAsAfterPowerLoss(t *testing.T, dir, to string) {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
