package kafka

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOffsetsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "offsets")
	want := map[topicPart]int64{{"gcn.classic.voevent.A", 0}: 12, {"gcn.classic.voevent.A", 1}: 0, {"b", 7}: 1 << 40}
	if err := saveOffsets(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := loadOffsets(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %d, want %d", k, got[k], v)
		}
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v: want 0600", fi.Mode(), err)
	}
	if _, err := os.Stat(path + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

// A crash can leave the file as it was, or (on a file system that does
// not order data before renames) cut anywhere: every cut and every
// flipped byte of a real file must be refused, never read as fewer
// positions, because a partition without a position starts at from=end
// and would skip records without a word.
func TestOffsetsDamageRefused(t *testing.T) {
	pos := map[topicPart]int64{{"t", 0}: 41, {"t", 1}: 7, {"u", 0}: 3}
	good := formatOffsets(pos)
	dir := t.TempDir()
	check := func(what string, data []byte) {
		t.Helper()
		path := filepath.Join(dir, "offsets")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := loadOffsets(path)
		if err == nil {
			t.Fatalf("%s: read as %v, want refused", what, got)
		}
		if !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), "move it aside") {
			t.Fatalf("%s: %v: want a reason that says what to do", what, err)
		}
	}
	for n := 0; n < len(good); n++ {
		if n == 0 {
			continue // an empty file is refused too, below
		}
		check("cut at "+string(rune('0'+n%10)), good[:n])
	}
	check("empty", []byte{})
	for i := range good {
		bad := bytes.Clone(good)
		bad[i] ^= 0x01
		check("flipped", bad)
	}
}

// A leftover temporary file (a crash between writing it and the rename)
// is not read: the positions are the last ones renamed in.
func TestOffsetsTemporaryIgnored(t *testing.T) {
	path := filepath.Join(t.TempDir(), "offsets")
	if err := saveOffsets(path, map[topicPart]int64{{"t", 0}: 5}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".tmp", []byte("comet kafka offsets 1\nt 0 9"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := loadOffsets(path)
	if err != nil || got[topicPart{"t", 0}] != 5 {
		t.Fatalf("got %v, %v; want t/0 at 5", got, err)
	}
	if err := saveOffsets(path, map[topicPart]int64{{"t", 0}: 6}); err != nil {
		t.Fatalf("a leftover temporary file stops the next write: %v", err)
	}
}

// A failed write leaves the previous positions in place, and New refuses
// to start from a damaged file rather than from nothing.
func TestOffsetsWriteFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "offsets")
	if err := saveOffsets(path, map[topicPart]int64{{"t", 0}: 5}); err != nil {
		t.Fatal(err)
	}
	// The temporary file's name taken by a directory: the write fails
	// before the rename.
	if err := os.Mkdir(path+".tmp", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := saveOffsets(path, map[topicPart]int64{{"t", 0}: 6}); err == nil {
		t.Fatal("write through a directory in the way succeeded")
	}
	got, err := loadOffsets(path)
	if err != nil || got[topicPart{"t", 0}] != 5 {
		t.Fatalf("after a failed write: %v, %v; want t/0 at 5", got, err)
	}
	if err := os.WriteFile(path, []byte("garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = New(Config{Addr: "127.0.0.1:1", Topics: []string{"t"}, OffsetsFile: path,
		Submit: func([]byte, *slog.Logger) (Verdict, string) { return Accepted, "" }})
	if err == nil {
		t.Fatal("New started from a damaged offsets file")
	}
}

func FuzzOffsetsFile(f *testing.F) {
	f.Add(formatOffsets(map[topicPart]int64{{"t", 0}: 41, {"u", 3}: 7}))
	f.Add([]byte("comet kafka offsets 1\ncrc32c 00000000\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		out := map[topicPart]int64{}
		if err := parseOffsets(data, out); err != nil {
			return
		}
		// What parses must write back to the same positions.
		again := map[topicPart]int64{}
		if err := parseOffsets(formatOffsets(out), again); err != nil || len(again) != len(out) {
			t.Fatalf("round trip: %v, %d vs %d", err, len(again), len(out))
		}
		for k, v := range out {
			if k.partition < 0 || v < 0 || !validTopic(k.topic) || again[k] != v {
				t.Fatalf("%v=%d", k, v)
			}
		}
	})
}
