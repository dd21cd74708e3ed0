package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"comet/internal/storedir"
	"comet/internal/storetest"
	"comet/seen"
)

// jEvent is a distinct fake event: the element is what the seen store
// hashes, the raw frame what the journal keeps.
func jEvent(i int) (element, raw []byte) {
	el := fmt.Appendf(nil, `<VOEvent ivorn="ivo://x/j#%d"/>`, i)
	return el, append([]byte("<?xml version='1.0'?>"), el...)
}

func journalAll(t testing.TB, s *Store) []Record {
	t.Helper()
	var out []Record
	err := s.ReadJournal(0, ^uint64(0), func(r Record) error {
		r.Raw = append([]byte(nil), r.Raw...)
		out = append(out, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
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

// TestJournalKeepsEventsAcrossReopen: what was acknowledged is read back
// in order after a restart, with the identity unchanged and sequence
// numbers continuing; duplicates and events without raw bytes (test
// events) are not journaled.
func TestJournalKeepsEventsAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s := openJ(t, dir, seen.Options{}, Options{})
	id := s.JournalID()
	if len(id) != 32 {
		t.Fatalf("identity %q", id)
	}
	addEvents(t, s, 0, 10)
	el, raw := jEvent(3)
	if first, err := s.CheckAndJournal(el, raw, false, nil); first || err != nil {
		t.Fatalf("duplicate: first=%v err=%v", first, err)
	}
	if first, _ := s.CheckAndRecord(seen.KeyOf([]byte("<VOEvent role='test'/>"))); !first {
		t.Fatal("test event not first")
	}
	closeT(t, s)

	s = openJ(t, dir, seen.Options{}, Options{})
	defer closeT(t, s)
	if s.JournalID() != id {
		t.Fatalf("identity changed over a restart: %s then %s", id, s.JournalID())
	}
	recs := journalAll(t, s)
	if len(recs) != 10 {
		t.Fatalf("%d records, want 10", len(recs))
	}
	for i, r := range recs {
		_, raw := jEvent(i)
		if r.Seq != uint64(i+1) || string(r.Raw) != string(raw) {
			t.Fatalf("record %d: seq %d raw %q", i, r.Seq, r.Raw)
		}
	}
	addEvents(t, s, 10, 11)
	if got := s.JournalLast(); got != 11 {
		t.Fatalf("after restart the next event got seq %d, want 11", got)
	}
	// Reading a range gives that range only.
	var seqs []uint64
	s.ReadJournal(4, 7, func(r Record) error { seqs = append(seqs, r.Seq); return nil })
	if fmt.Sprint(seqs) != "[5 6 7]" {
		t.Fatalf("ReadJournal(4, 7) read %v", seqs)
	}
}

// TestJournalOnCommitInSequenceOrder: concurrent writers are announced in
// strictly increasing sequence order, each exactly once, before their
// calls return.
func TestJournalOnCommitInSequenceOrder(t *testing.T) {
	var mu sync.Mutex
	var got []uint64
	announced := map[int]bool{}
	s := openJ(t, t.TempDir(), seen.Options{}, Options{}, func(seq uint64, p any) {
		mu.Lock()
		got = append(got, seq)
		announced[p.(int)] = true
		mu.Unlock()
	})
	defer closeT(t, s)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 50 {
				n := w*1000 + i
				el, raw := jEvent(n)
				if _, err := s.CheckAndJournal(el, raw, false, n); err != nil {
					t.Error(err)
				}
				mu.Lock()
				ok := announced[n]
				mu.Unlock()
				if !ok {
					t.Errorf("event %d returned before OnCommit", n)
				}
			}
		})
	}
	wg.Wait()
	if len(got) != 400 || !sort.SliceIsSorted(got, func(a, b int) bool { return got[a] < got[b] }) {
		t.Fatalf("%d announcements, sorted=%v", len(got), sort.SliceIsSorted(got, func(a, b int) bool { return got[a] < got[b] }))
	}
	for i := 1; i < len(got); i++ {
		if got[i] == got[i-1] {
			t.Fatalf("seq %d announced twice", got[i])
		}
	}
}

func segFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, segPrefix+"*"+segSuffix))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

// TestJournalTornTail: a crash in the middle of a write leaves a partial
// record at the end; Open cuts it with a WARNING and keeps every whole
// record, and the next event continues the sequence.
func TestJournalTornTail(t *testing.T) {
	dir := t.TempDir()
	s := openJ(t, dir, seen.Options{}, Options{})
	addEvents(t, s, 0, 5)
	closeT(t, s)
	segs := segFiles(t, dir)
	seg := segs[len(segs)-1]
	fi, _ := os.Stat(seg)
	_, raw := jEvent(99)
	partial := appendRecord(nil, 6, 1, &seen.Key{}, raw)
	f, _ := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(partial[:len(partial)-7])
	f.Close()

	log, sink := newLog()
	s = openJ(t, dir, seen.Options{Logger: log}, Options{})
	defer closeT(t, s)
	if !sink.Has("WARN", "cutting torn end of the journal", fmt.Sprintf("offset=%d", fi.Size())) {
		t.Fatalf("no warning with the offset:\n%s", sink)
	}
	if n := len(journalAll(t, s)); n != 5 {
		t.Fatalf("%d records after cutting, want 5", n)
	}
	if fi2, _ := os.Stat(seg); fi2.Size() != fi.Size() {
		t.Fatalf("segment is %d bytes, want %d", fi2.Size(), fi.Size())
	}
	addEvents(t, s, 5, 6)
	if s.JournalLast() != 6 {
		t.Fatalf("next seq %d, want 6", s.JournalLast())
	}
}

// TestJournalMidFileDamage: a damaged record followed by good ones is
// reported at ERROR with its offset; the records after it stay readable,
// and the file is not cut.
func TestJournalMidFileDamage(t *testing.T) {
	dir := t.TempDir()
	s := openJ(t, dir, seen.Options{}, Options{})
	addEvents(t, s, 0, 10)
	closeT(t, s)
	seg := segFiles(t, dir)[0]
	b, _ := os.ReadFile(seg)
	// Corrupt the body of the 4th record.
	off := int64(storedir.HeaderSize)
	for range 3 {
		h, _ := decodeJournalHead(b[off:])
		off += jHeaderSize + int64(h.length)
	}
	b[off+jHeaderSize+3] ^= 0xff
	os.WriteFile(seg, b, 0o600)

	log, sink := newLog()
	s = openJ(t, dir, seen.Options{Logger: log}, Options{})
	defer closeT(t, s)
	if !sink.Has("ERROR", "unreadable bytes in the middle of a journal segment", fmt.Sprintf("offset=%d", off)) {
		t.Fatalf("no error with the offset %d:\n%s", off, sink)
	}
	var seqs []uint64
	for _, r := range journalAll(t, s) {
		seqs = append(seqs, r.Seq)
	}
	if fmt.Sprint(seqs) != "[1 2 3 5 6 7 8 9 10]" {
		t.Fatalf("readable records %v", seqs)
	}
	if fi, _ := os.Stat(seg); fi.Size() != int64(len(b)) {
		t.Fatal("damaged segment was cut")
	}
	addEvents(t, s, 10, 11)
	if s.JournalLast() != 11 {
		t.Fatalf("next seq %d, want 11", s.JournalLast())
	}
}

// TestJournalTrimByAge: segments whose events are all older than MaxAge
// are deleted, oldest first, while the store serves; the sequence goes on
// even when every event has expired.
func TestJournalTrimByAge(t *testing.T) {
	dir := t.TempDir()
	clk := newClock()
	s := openJ(t, dir, seen.Options{Now: clk.Now}, Options{MaxAge: time.Hour, MaxSize: 16 * minSegment})
	defer closeT(t, s)
	big := make([]byte, 300<<10)
	for i := range 8 { // 2.4 MB: at least two segments of 1 MiB
		el, _ := jEvent(i)
		if _, err := s.CheckAndJournal(el, big, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(segFiles(t, dir)); n < 2 {
		t.Fatalf("%d segments, want several", n)
	}
	clk.Add(30 * time.Minute)
	addEvents(t, s, 100, 101) // seq 9, newer
	s.trim()
	if n := len(journalAll(t, s)); n != 9 {
		t.Fatalf("trimmed before MaxAge: %d records", n)
	}
	clk.Add(45 * time.Minute) // the first 8 are 75 min old, the 9th 45
	s.trim()
	recs := journalAll(t, s)
	if len(recs) == 0 || recs[len(recs)-1].Seq != 9 || recs[0].Seq == 1 {
		t.Fatalf("after trimming by age: %d records, first %v", len(recs), recs)
	}
	clk.Add(2 * time.Hour)
	s.trim()
	if n := len(journalAll(t, s)); n != 0 {
		t.Fatalf("%d records left after all expired", n)
	}
	addEvents(t, s, 200, 201)
	if s.JournalLast() != 10 {
		t.Fatalf("seq after full trim %d, want 10", s.JournalLast())
	}
	closeT(t, s)
	s = openJ(t, dir, seen.Options{Now: clk.Now}, Options{MaxAge: time.Hour})
	addEvents(t, s, 300, 301)
	if s.JournalLast() != 11 {
		t.Fatalf("seq after reopen %d, want 11", s.JournalLast())
	}
}

// TestJournalTrimBySize: the journal never holds more than MaxSize; the
// oldest events go first.
func TestJournalTrimBySize(t *testing.T) {
	dir := t.TempDir()
	limit := int64(4 * minSegment)
	s := openJ(t, dir, seen.Options{}, Options{MaxSize: limit})
	defer closeT(t, s)
	big := make([]byte, 100<<10)
	for i := range 100 { // 10 MB through a 4 MiB journal
		el, _ := jEvent(i)
		if _, err := s.CheckAndJournal(el, big, false, nil); err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); st.Bytes > limit {
			t.Fatalf("after event %d the journal is %d bytes, over %d", i, st.Bytes, limit)
		}
	}
	var total int64
	for _, f := range segFiles(t, dir) {
		fi, _ := os.Stat(f)
		total += fi.Size()
	}
	if total > limit {
		t.Fatalf("segments on disk total %d bytes, over %d", total, limit)
	}
	recs := journalAll(t, s)
	if len(recs) < 20 || recs[len(recs)-1].Seq != 100 {
		t.Fatalf("kept %d records, last %d", len(recs), recs[len(recs)-1].Seq)
	}
	for i := 1; i < len(recs); i++ {
		if recs[i].Seq != recs[i-1].Seq+1 {
			t.Fatalf("kept records not the newest contiguous ones: %d then %d", recs[i-1].Seq, recs[i].Seq)
		}
	}
}

// TestJournalReadOnlyWhileOpen: the read-only view works next to a
// running store (no lock), and sees what was written.
func TestJournalReadOnlyWhileOpen(t *testing.T) {
	dir := t.TempDir()
	s := openJ(t, dir, seen.Options{}, Options{})
	defer closeT(t, s)
	addEvents(t, s, 0, 3)
	r, err := OpenReader(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if st := r.j.Stats(); st.ID != s.JournalID() || st.Events != 3 || st.Last != 3 {
		t.Fatalf("read-only stats %+v", st)
	}
	n := 0
	r.Read(0, ^uint64(0), func(Record) error { n++; return nil })
	if n != 3 {
		t.Fatalf("read %d records", n)
	}
	if _, err := OpenReader(t.TempDir(), nil); err == nil {
		t.Fatal("a directory without a journal opened")
	}
}

// TestJournalIdentityLost: a journal whose identity file is gone gets a
// new identity (so subscribers' positions are not taken for its own),
// logged, and its sequence numbers still grow.
func TestJournalIdentityLost(t *testing.T) {
	dir := t.TempDir()
	s := openJ(t, dir, seen.Options{}, Options{})
	id := s.JournalID()
	addEvents(t, s, 0, 3)
	closeT(t, s)
	os.Remove(filepath.Join(dir, journalIDName))
	log, sink := newLog()
	s = openJ(t, dir, seen.Options{Logger: log}, Options{})
	defer closeT(t, s)
	if s.JournalID() == id || !sink.Has("ERROR", "journal identity file is missing") {
		t.Fatalf("identity %s (was %s):\n%s", s.JournalID(), id, sink)
	}
	addEvents(t, s, 3, 4)
	if s.JournalLast() != 4 {
		t.Fatalf("seq %d, want 4", s.JournalLast())
	}
}

// TestPositionsSurviveClose: upstream positions are written at Close and
// read at Open.
func TestPositionsSurviveClose(t *testing.T) {
	dir := t.TempDir()
	s := openJ(t, dir, seen.Options{}, Options{})
	s.SetPosition("host:8099", Position{ID: "abc", Seq: 42})
	closeT(t, s)
	s = openJ(t, dir, seen.Options{}, Options{})
	defer closeT(t, s)
	if p, ok := s.Position("host:8099"); !ok || p != (Position{"abc", 42}) {
		t.Fatalf("position %+v %v", p, ok)
	}
}

// TestJournalRestoresSeenAfterCrash: a crash after a batch's journal sync
// and before its seen sync leaves an event in the journal only; Open
// restores its seen record, so a copy of it is not taken for new and
// journaled again.
func TestJournalRestoresSeenAfterCrash(t *testing.T) {
	dir := t.TempDir()
	s := openJ(t, dir, seen.Options{}, Options{})
	addEvents(t, s, 0, 3)
	closeT(t, s)
	// What the committer had synced to the journal when the crash came.
	el, raw := jEvent(3)
	key := seen.KeyOf(el)
	segs := segFiles(t, dir)
	f, err := os.OpenFile(segs[len(segs)-1], os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(appendRecord(nil, 4, time.Now().UnixNano(), &key, raw))
	f.Close()

	log, sink := newLog()
	s = openJ(t, dir, seen.Options{Logger: log}, Options{})
	if !sink.Has("WARN", "restored the seen records", "events=1") {
		t.Fatalf("no warning:\n%s", sink)
	}
	if first, err := s.CheckAndJournal(el, raw, true, nil); first || err != nil {
		t.Fatalf("copy of the journaled event: first=%v err=%v, want a duplicate", first, err)
	}
	closeT(t, s)
	// Restored durably: the next Open has nothing to restore.
	log, sink = newLog()
	s = openJ(t, dir, seen.Options{Logger: log}, Options{})
	defer closeT(t, s)
	if sink.Has("restored the seen records") || len(journalAll(t, s)) != 4 {
		t.Fatalf("second open:\n%s", sink)
	}
}

// TestRestoresSeenBeforeTrimming: events journaled just before a crash
// that kept their seen records from the disk are known as seen after a
// restart that comes when they are already past MaxAge: Open restores
// their seen records from the journal before trimming deletes the
// segment holding them, so a resend is not taken for new.
func TestRestoresSeenBeforeTrimming(t *testing.T) {
	dir, to := t.TempDir(), filepath.Join(t.TempDir(), "copy")
	clk := newClock()
	s := openJ(t, dir, seen.Options{Now: clk.Now}, Options{MaxAge: time.Hour})
	addEvents(t, s, 0, 3) // acknowledged; their seen records not fsync'd
	storetest.CopyAsAfterPowerLoss(t, dir, to)
	if err := os.Truncate(filepath.Join(to, "seen.log"), storedir.HeaderSize); err != nil {
		t.Fatal(err)
	}
	closeT(t, s)
	clk.Add(2 * time.Hour)
	s = openJ(t, to, seen.Options{Now: clk.Now}, Options{MaxAge: time.Hour})
	defer closeT(t, s)
	if n := len(journalAll(t, s)); n != 0 {
		t.Fatalf("journal holds %d records, want none: all are past MaxAge", n)
	}
	for i := range 3 {
		el, raw := jEvent(i)
		if first, err := s.CheckAndJournal(el, raw, false, nil); first || err != nil {
			t.Fatalf("event %d after the restart: first=%v err=%v, want a duplicate", i, first, err)
		}
	}
}
