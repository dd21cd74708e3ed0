package seen

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comet/internal/storedir"
)

// fixedNow is the clock of the recovery tests, so that logs written at
// different moments are byte-identical.
func fixedNow() time.Time { return time.Unix(1775044800, 0) }

// recorded makes a store in a new directory with keys keyN(0..n-1) and
// returns the bytes of its log.
func recorded(t *testing.T, n int) []byte {
	t.Helper()
	dir := t.TempDir()
	s := openT(t, dir, Options{Now: fixedNow})
	for i := range n {
		record(t, s, keyN(i), true)
	}
	closeT(t, s)
	return readLog(t, dir)
}

func corruptCopies(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, corruptName+"*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTruncatedLastRecord cuts the log at every byte offset of its last
// record: the store opens, warns, keeps every earlier key, and appends
// cleanly after the cut.
func TestTruncatedLastRecord(t *testing.T) {
	const n = 10
	full := recorded(t, n)
	for cut := len(full) - recordSize; cut < len(full); cut++ {
		dir := filepath.Join(t.TempDir(), "db")
		writeLog(t, dir, full[:cut])
		logger, sink := newLog()
		s := openT(t, dir, Options{Logger: logger, Now: fixedNow})
		if cut > len(full)-recordSize && !sink.Has("level=WARN", "torn end", fmt.Sprintf("offset=%d", len(full)-recordSize)) {
			t.Fatalf("cut at %d: no warning:\n%s", cut, sink)
		}
		if sink.Has("level=ERROR") || len(corruptCopies(t, dir)) > 0 {
			t.Fatalf("cut at %d: a torn tail was treated as damage:\n%s", cut, sink)
		}
		for i := range n - 1 {
			record(t, s, keyN(i), false)
		}
		record(t, s, keyN(n-1), true) // never fully written: unacknowledged
		closeT(t, s)
		if got := readLog(t, dir); !bytes.Equal(got, full) {
			t.Fatalf("cut at %d: log after re-recording differs from the original", cut)
		}
	}
}

// TestFlippedByteMidFile flips each byte of a record in the middle: the
// damage is logged with its offset, a copy is kept, every other key
// survives, and the rewritten log opens cleanly.
func TestFlippedByteMidFile(t *testing.T) {
	const n, victim = 20, 7
	full := recorded(t, n)
	off := headerSize + victim*recordSize
	for i := range recordSize {
		dir := filepath.Join(t.TempDir(), "db")
		damaged := bytes.Clone(full)
		damaged[off+i] ^= 0x5a
		writeLog(t, dir, damaged)
		logger, sink := newLog()
		s := openT(t, dir, Options{Logger: logger, Now: fixedNow})
		if !sink.Has("level=ERROR", fmt.Sprintf("offset=%d", off)) {
			t.Fatalf("byte %d: damage not reported with its offset:\n%s", off+i, sink)
		}
		copies := corruptCopies(t, dir)
		if len(copies) != 1 {
			t.Fatalf("byte %d: %d copies of the damaged log", off+i, len(copies))
		}
		if got, _ := os.ReadFile(copies[0]); !bytes.Equal(got, damaged) {
			t.Fatalf("byte %d: the copy differs from the damaged log", off+i)
		}
		for k := range n {
			if k != victim {
				record(t, s, keyN(k), false)
			}
		}
		if s.Len() != n-1 {
			t.Fatalf("byte %d: Len = %d, want %d", off+i, s.Len(), n-1)
		}
		closeT(t, s)
		logger, sink = newLog()
		closeT(t, openT(t, dir, Options{Logger: logger, Now: fixedNow}))
		if sink.Has("level=ERROR") || sink.Has("level=WARN") {
			t.Fatalf("byte %d: rewritten log still damaged:\n%s", off+i, sink)
		}
	}
}

func TestDamagedHeader(t *testing.T) {
	const n = 5
	full := recorded(t, n)
	dir := filepath.Join(t.TempDir(), "db")
	damaged := bytes.Clone(full)
	damaged[2] ^= 0xff
	writeLog(t, dir, damaged)
	logger, sink := newLog()
	s := openT(t, dir, Options{Logger: logger, Now: fixedNow})
	if !sink.Has("level=ERROR", "header") || len(corruptCopies(t, dir)) != 1 {
		t.Fatalf("damaged header not reported or not copied:\n%s", sink)
	}
	for i := range n {
		record(t, s, keyN(i), false)
	}
	closeT(t, s)
	if got := readLog(t, dir); !bytes.Equal(got, full) {
		t.Fatal("log not rewritten with a good header")
	}
}

func TestTornHeader(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	writeLog(t, dir, header()[:7])
	logger, sink := newLog()
	s := openT(t, dir, Options{Logger: logger, Now: fixedNow})
	if !sink.Has("level=WARN", "torn header") || sink.Has("level=ERROR") {
		t.Fatalf("torn header:\n%s", sink)
	}
	record(t, s, keyN(1), true)
	closeT(t, s)
	if got := len(readLog(t, dir)); got != headerSize+recordSize {
		t.Fatalf("log is %d bytes", got)
	}
}

func TestUnknownVersion(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	h := header()
	binary.BigEndian.PutUint32(h[8:12], 9)
	binary.BigEndian.PutUint32(h[12:16], storedir.CRC(h[:12]))
	writeLog(t, dir, h)
	_, err := Open(dir, Options{Logger: quiet})
	if err == nil || !strings.Contains(err.Error(), "version 9") || !strings.Contains(err.Error(), logPath(dir)) {
		t.Fatalf("Open of a version 9 log: %v", err)
	}
	if got := readLog(t, dir); !bytes.Equal(got, h) {
		t.Fatal("a log of an unknown version was modified")
	}
}

// TestLongUnreadableTail: more unreadable bytes at the end than one batch
// can leave is damage: reported, copied, cut.
func TestLongUnreadableTail(t *testing.T) {
	const n = 5
	full := recorded(t, n)
	dir := filepath.Join(t.TempDir(), "db")
	writeLog(t, dir, append(bytes.Clone(full), make([]byte, tornLimit+recordSize)...))
	logger, sink := newLog()
	s := openT(t, dir, Options{Logger: logger, Now: fixedNow})
	if !sink.Has("level=ERROR", fmt.Sprintf("offset=%d", len(full))) || len(corruptCopies(t, dir)) != 1 {
		t.Fatalf("long unreadable tail not reported or copied:\n%s", sink)
	}
	for i := range n {
		record(t, s, keyN(i), false)
	}
	closeT(t, s)
	if got := readLog(t, dir); !bytes.Equal(got, full) {
		t.Fatal("unreadable tail not cut")
	}
}

// TestUnfinishedCompaction: a compaction file left by a crash, whole or
// cut anywhere, is removed and the log it was made from is used.
func TestUnfinishedCompaction(t *testing.T) {
	const n = 8
	full := recorded(t, n)
	for _, cut := range []int{0, 5, headerSize + 3*recordSize + 1, len(full)} {
		dir := filepath.Join(t.TempDir(), "db")
		writeLog(t, dir, full)
		tmp := filepath.Join(dir, tmpName)
		if err := os.WriteFile(tmp, full[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		s := openT(t, dir, Options{Now: fixedNow})
		if _, err := os.Stat(tmp); !os.IsNotExist(err) {
			t.Fatalf("cut %d: compaction file not removed: %v", cut, err)
		}
		for i := range n {
			record(t, s, keyN(i), false)
		}
		closeT(t, s)
	}
}

// FuzzOpen feeds arbitrary bytes to Open as the log. Open never panics;
// it refuses only an unknown format version; every readable, unexpired
// record's key is seen; and a second Open finds nothing to complain about.
func FuzzOpen(f *testing.F) {
	now := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	good := makeLog(4, now.Unix()-60)
	f.Add(good)
	f.Add([]byte{})
	f.Add(header())
	f.Add(header()[:9])
	f.Add(good[:len(good)-3])
	f.Add(append(bytes.Clone(good[:headerSize+recordSize]), good[headerSize+2*recordSize+1:]...))
	mid := bytes.Clone(good)
	mid[headerSize+recordSize+9] ^= 1
	f.Add(mid)
	f.Add(append(makeLog(2, now.Unix()-40*24*3600), good[headerSize:]...))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := filepath.Join(t.TempDir(), "db")
		writeLog(t, dir, data)
		opts := Options{Now: func() time.Time { return now }, Logger: quiet}
		s, err := Open(dir, opts)
		if err != nil {
			if st, _ := checkHeader(data[:min(len(data), headerSize)]); st == storedir.HeaderUnknownVersion {
				return
			}
			t.Fatalf("Open: %v", err)
		}
		defer s.Close()
		var want []Key
		for off := headerSize; off+recordSize <= len(data); off += recordSize {
			if k, unix, ok := decodeRecord(data[off:]); ok && now.Unix()-unix < int64(DefaultExpiry/time.Second) {
				want = append(want, k)
			}
		}
		for _, k := range want {
			if first, err := s.CheckAndRecord(k); err != nil || first {
				t.Fatalf("readable key %x: first=%v err=%v", k[:4], first, err)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		logger, sink := newLog()
		opts.Logger = logger
		s, err = Open(dir, opts)
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		defer s.Close()
		if sink.Has("level=WARN") || sink.Has("level=ERROR") {
			t.Fatalf("second Open still finds problems:\n%s", sink)
		}
		for _, k := range want {
			if first, err := s.CheckAndRecord(k); err != nil || first {
				t.Fatalf("after reopen, readable key %x: first=%v err=%v", k[:4], first, err)
			}
		}
	})
}
