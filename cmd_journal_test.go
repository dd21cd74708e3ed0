package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comet/journal"
	"comet/seen"
	"comet/vtp"
)

// journalDir writes n journaled events into a new store directory, the
// first half received an hour before the rest.
func journalDir(t *testing.T, n int) (string, time.Time) {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	clock := now.Add(-time.Hour)
	at := func() time.Time { return clock }
	j := journal.New(journal.Options{Now: at})
	s, err := seen.Open(dir, seen.Options{Now: at, WAL: j.OpenWAL})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if i == n/2 {
			clock = now
		}
		prefix := "a"
		if i%2 == 1 {
			prefix = "b"
		}
		raw := obsEvent(fmt.Sprintf("ivo://example.org/%s#%d", prefix, i))
		if _, err := j.CheckAndJournal(raw, raw, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, now
}

func runJ(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"journal"}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

// TestJournalCommandList: the listing has one line per event with its
// sequence number, time, size and ivorn, and --since and --ivorn-prefix
// select.
func TestJournalCommandList(t *testing.T) {
	dir, now := journalDir(t, 6)
	code, out, errs := runJ(t, "--eventdb", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 6 {
		t.Fatalf("%d lines:\n%s", len(lines), out)
	}
	f := strings.Split(lines[2], "\t")
	if len(f) != 4 || f[0] != "3" || f[2] != fmt.Sprint(len(obsEvent("ivo://example.org/a#2"))) || f[3] != "ivo://example.org/a#2" {
		t.Fatalf("line %q", lines[2])
	}
	if _, err := time.Parse(time.RFC3339Nano, f[1]); err != nil {
		t.Fatalf("time %q: %v", f[1], err)
	}
	_, out, _ = runJ(t, "--eventdb", dir, "--since", now.Add(-time.Minute).UTC().Format(time.RFC3339))
	if n := strings.Count(out, "\n"); n != 3 {
		t.Fatalf("--since: %d lines:\n%s", n, out)
	}
	_, out, _ = runJ(t, "--eventdb", dir, "--since", "30m", "--ivorn-prefix", "ivo://example.org/b")
	if out != "" && strings.Count(out, "\n") != 2 || !strings.Contains(out, "#3\n") || !strings.Contains(out, "#5\n") {
		t.Fatalf("--since 30m --ivorn-prefix b:\n%s", out)
	}
}

// TestJournalCommandCat: --cat writes the events framed on standard
// output, or one file per event with --out, byte for byte as received.
func TestJournalCommandCat(t *testing.T) {
	dir, _ := journalDir(t, 4)
	code, out, errs := runJ(t, "--eventdb", dir, "--cat")
	if code != 0 {
		t.Fatal(errs)
	}
	r := bufio.NewReader(strings.NewReader(out))
	for i := range 4 {
		raw, err := vtp.ReadFrame(r, vtp.DefaultMaxFrame)
		if err != nil {
			t.Fatal(err)
		}
		want := obsEvent(fmt.Sprintf("ivo://example.org/%s#%d", map[bool]string{true: "a", false: "b"}[i%2 == 0], i))
		if !bytes.Equal(raw, want) {
			t.Fatalf("frame %d differs", i)
		}
	}
	outDir := filepath.Join(t.TempDir(), "events")
	if code, _, errs := runJ(t, "--eventdb", dir, "--cat", "--out", outDir); code != 0 {
		t.Fatal(errs)
	}
	b, err := os.ReadFile(filepath.Join(outDir, "2.xml"))
	if err != nil || !bytes.Equal(b, obsEvent("ivo://example.org/b#1")) {
		t.Fatalf("2.xml: %v", err)
	}
}

// TestJournalCommandErrors: bad arguments exit 2 with the reason; a
// directory without a journal exits 1 saying so.
func TestJournalCommandErrors(t *testing.T) {
	for _, args := range [][]string{{"--since", "yesterday"}, {"--out", "x"}, {"extra"}, {"--bogus"}} {
		if code, _, errs := runJ(t, args...); code != 2 || !strings.HasPrefix(errs, "comet journal: ") {
			t.Errorf("%q: exit %d, %q", args, code, errs)
		}
	}
	code, _, errs := runJ(t, "--eventdb", t.TempDir())
	if code != 1 || !strings.Contains(errs, "has no journal") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}
