package seen

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"comet/internal/storedir"
)

// The store's tests of its durability with a write-ahead log use
// testWAL, a stand-in that keeps the seam's promises and nothing more, so
// that they test the store alone (the journal's own tests use the real
// one). It keeps its entries in the file wal.test of the store
// directory: per entry, big-endian uint64 sequence number, int64 Unix
// nanoseconds, the key, uint32 length of the bytes, the bytes, and the
// CRC-32C of all that. Append writes them and fdatasyncs; a failed write
// or sync is cut back. Reading stops at the first entry that does not
// check (a torn end).
const walName = "wal.test"

// walOptions are the stand-in's options: OnCommit gets each entry made
// durable, as the journal's does.
type walOptions struct {
	OnCommit func(seq uint64, payload any)
}

// walRecord is one entry read back.
type walRecord struct {
	Seq      uint64
	Received int64
	Key      Key
	Raw      []byte
}

type testWAL struct {
	s        *Store
	onCommit func(uint64, any)
	mu       sync.Mutex // guards f, for the tests' readers
	f        logFile
	size     int64
	next     uint64
	appended uint64
}

// openWAL returns the store's OpenWAL for a stand-in with opts.
func openWAL(opts walOptions) OpenWAL {
	return func(s *Store, root *os.Root) (WAL, error) {
		f, err := storedir.OpenFile(root, root.Name(), walName, os.O_RDWR|os.O_CREATE)
		if err != nil {
			return nil, err
		}
		w := &testWAL{s: s, onCommit: opts.OnCommit, f: f, next: 1}
		recs, end, err := readWAL(f)
		if err != nil {
			f.Close()
			return nil, err
		}
		w.size = end
		if len(recs) > 0 {
			w.next = recs[len(recs)-1].Seq + 1
		}
		return w, nil
	}
}

func appendEntry(dst []byte, seq uint64, nanos int64, e *Entry) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint64(dst, seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(nanos))
	dst = append(dst, e.Key[:]...)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(e.Raw)))
	dst = append(dst, e.Raw...)
	return binary.BigEndian.AppendUint32(dst, storedir.CRC(dst[start:]))
}

// readWAL reads the entries of f up to the first that does not check and
// returns where that is.
func readWAL(f io.ReaderAt) ([]walRecord, int64, error) {
	var recs []walRecord
	var off int64
	for {
		var h [52]byte
		if _, err := f.ReadAt(h[:], off); err != nil {
			if errors.Is(err, io.EOF) {
				return recs, off, nil
			}
			return nil, 0, err
		}
		n := int64(binary.BigEndian.Uint32(h[48:52]))
		b := make([]byte, 52+n+4)
		if _, err := f.ReadAt(b, off); err != nil {
			if errors.Is(err, io.EOF) {
				return recs, off, nil
			}
			return nil, 0, err
		}
		if binary.BigEndian.Uint32(b[52+n:]) != storedir.CRC(b[:52+n]) {
			return recs, off, nil
		}
		r := walRecord{Seq: binary.BigEndian.Uint64(b[0:8]), Received: int64(binary.BigEndian.Uint64(b[8:16])), Raw: b[52 : 52+n]}
		copy(r.Key[:], b[16:48])
		recs = append(recs, r)
		off += int64(len(b))
	}
}

func (w *testWAL) Recent(n int, fn func(Key, time.Time)) error {
	recs, err := w.records()
	if err != nil {
		return err
	}
	for _, r := range recs[max(len(recs)-n, 0):] {
		fn(r.Key, time.Unix(0, r.Received))
	}
	return nil
}

func (w *testWAL) Append(entries []Entry) error {
	first := w.next
	w.next += uint64(len(entries))
	now := w.s.now().UnixNano()
	var buf []byte
	for i := range entries {
		buf = appendEntry(buf, first+uint64(i), now, &entries[i])
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := w.f.WriteAt(buf, w.size)
	if err == nil {
		err = storedir.SyncData(w.f)
	}
	if err != nil {
		if terr := w.f.Truncate(w.size); terr == nil {
			w.f.Sync()
		}
		return fmt.Errorf("write %s: %w", walName, err)
	}
	w.size += int64(len(buf))
	w.appended = first
	return nil
}

func (w *testWAL) Appended(entries []Entry) {
	if w.onCommit == nil {
		return
	}
	for i := range entries {
		w.onCommit(w.appended+uint64(i), entries[i].Payload)
	}
}

func (w *testWAL) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// records reads back what the stand-in holds.
func (w *testWAL) records() ([]walRecord, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	recs, _, err := readWAL(w.f)
	return recs, err
}

// readWALFile reads the stand-in's file in the store directory dir, as a
// reader that opens it afresh would.
func readWALFile(t testing.TB, dir string) []walRecord {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, walName))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, _, err := readWAL(f)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// CheckAndJournal is CheckAndLog for the event element whose bytes are
// raw, as the journal calls it.
func (s *Store) CheckAndJournal(element, raw []byte, keep bool, payload any) (first bool, err error) {
	return s.CheckAndLog(Entry{Key: KeyOf(element), Raw: raw, Payload: payload}, keep)
}

// walOf is the stand-in of a store opened by openJ.
func walOf(s *Store) *testWAL { return s.wal.(*testWAL) }

// jEvent is a distinct fake event: the element is what the store hashes,
// the raw frame what the log keeps.
func jEvent(i int) (element, raw []byte) {
	el := fmt.Appendf(nil, `<VOEvent ivorn="ivo://x/j#%d"/>`, i)
	return el, append([]byte("<?xml version='1.0'?>"), el...)
}

// openJ opens the store in dir with a stand-in write-ahead log.
func openJ(t testing.TB, dir string, opts Options, w walOptions) *Store {
	t.Helper()
	opts.WAL = openWAL(w)
	return openT(t, dir, opts)
}

// journalAll is every entry the store's stand-in holds.
func journalAll(t testing.TB, s *Store) []walRecord {
	t.Helper()
	recs, err := walOf(s).records()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func addEvents(t testing.TB, s *Store, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		el, raw := jEvent(i)
		first, err := s.CheckAndJournal(el, raw, false, nil)
		if err != nil || !first {
			t.Fatalf("event %d: first=%v err=%v", i, first, err)
		}
	}
}

// injectJournalFaults routes the stand-in's file through a faultyFile.
func injectJournalFaults(s *Store) *faultyFile {
	w := walOf(s)
	w.mu.Lock()
	defer w.mu.Unlock()
	f := &faultyFile{logFile: w.f}
	w.f = f
	return f
}
