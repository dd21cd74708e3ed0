package journal

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"comet/internal/storedir"

	"comet/seen"
)

// Kinds of segment file a journal directory can hold after crashes,
// failed rotations and damage.
const (
	segRecords = 'R' // a header and three good records
	segEmpty   = 'E' // a header only: a crash or a failed write just after a rotation
	segGarbage = 'G' // a header and unreadable bytes
	segTorn    = 'T' // part of a header: a crash in the middle of a rotation
	segZero    = 'Z' // no bytes at all: a crash just after the file was created
)

// layoutJournal writes, in the journal directory dir, one segment per
// letter of layout and returns the sequence numbers of the readable
// records, oldest first, with the element of each (jEvent(seq)). Every
// segment is named after the next number to use; one with no records
// still uses a number, as a failed write does.
func layoutJournal(t *testing.T, dir, layout string, received int64) []uint64 {
	t.Helper()
	for _, f := range segFiles(t, dir) {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	var want []uint64
	seq := uint64(1)
	for _, kind := range layout {
		name := filepath.Join(dir, segName(seq))
		b := storedir.Header(journalMagic)
		switch kind {
		case segRecords:
			for range 3 {
				el, raw := jEvent(int(seq))
				key := seen.KeyOf(el)
				b = appendRecord(b, seq, received, &key, raw)
				want = append(want, seq)
				seq++
			}
		case segEmpty:
			seq++
		case segGarbage:
			for i := range 200 {
				b = append(b, byte(i*7+1))
			}
			seq++
		case segTorn:
			b = b[:7]
			seq++
		case segZero:
			b = nil
			seq++
		}
		if err := os.WriteFile(name, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return want
}

// layouts lists every sequence of up to three segments of the kinds
// above, and of four records or empty ones, that holds a record.
func layouts() []string {
	var out []string
	var grow func(prefix, kinds string, n int)
	grow = func(prefix, kinds string, n int) {
		if len(prefix) == n {
			if strings.ContainsRune(prefix, segRecords) {
				out = append(out, prefix)
			}
			return
		}
		for _, k := range kinds {
			grow(prefix+string(k), kinds, n)
		}
	}
	for n := 1; n <= 3; n++ {
		grow("", "REGTZ", n)
	}
	grow("", "RE", 4)
	return out
}

// readSeqs reads (after, upto] with read and returns the sequence numbers.
func readSeqs(t *testing.T, read func(after, upto uint64, fn func(Record) error) error, after, upto uint64) []uint64 {
	t.Helper()
	var got []uint64
	if err := read(after, upto, func(r Record) error {
		got = append(got, r.Seq)
		return nil
	}); err != nil {
		t.Fatalf("read (%d, %d]: %v", after, upto, err)
	}
	return got
}

// checkReads checks that read returns, from every position, exactly the
// records of want after it, and a bounded range exactly its part.
func checkReads(t *testing.T, what string, read func(after, upto uint64, fn func(Record) error) error, want []uint64) {
	t.Helper()
	top := uint64(0)
	if len(want) > 0 {
		top = want[len(want)-1]
	}
	for after := uint64(0); after <= top+1; after++ {
		for _, upto := range []uint64{after + 1, after + 4, ^uint64(0)} {
			var exp []uint64
			for _, s := range want {
				if s > after && s <= upto {
					exp = append(exp, s)
				}
			}
			if got := readSeqs(t, read, after, upto); !slices.Equal(got, exp) {
				t.Fatalf("%s: read (%d, %d] gave %v, want %v", what, after, upto, got, exp)
			}
		}
	}
}

// TestJournalSegmentLayouts: whatever mix of empty, unreadable and torn
// segments a journal holds (first, middle, last, several), replay from
// any position gets every record the journal holds after it, the
// read-only view lists them all, and Open restores the seen records of
// the newest ones, so a copy of one of them is not taken for new.
func TestJournalSegmentLayouts(t *testing.T) {
	clk := newClock()
	for _, layout := range layouts() {
		t.Run(layout, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			s := openJ(t, dir, seen.Options{Now: clk.Now}, Options{})
			closeT(t, s)
			want := layoutJournal(t, dir, layout, clk.Now().UnixNano())

			r, err := OpenReader(dir, quiet)
			if err != nil {
				t.Fatal(err)
			}
			checkReads(t, "read-only view", r.Read, want)
			if st := r.j.Stats(); st.Events != len(want) || st.Last != want[len(want)-1] {
				t.Fatalf("read-only stats %+v, want %d events up to %d", st, len(want), want[len(want)-1])
			}
			r.Close()

			// The seen log knows none of the journaled events: what a
			// power loss leaves when their seen records were not fsync'd.
			s = openJ(t, dir, seen.Options{Now: clk.Now}, Options{})
			checkReads(t, "store", s.ReadJournal, want)
			if last := s.JournalLast(); last < want[len(want)-1] {
				t.Fatalf("JournalLast %d, below the newest record %d", last, want[len(want)-1])
			}
			for _, seq := range want {
				el, raw := jEvent(int(seq))
				if first, err := s.CheckAndJournal(el, raw, false, nil); first || err != nil {
					t.Fatalf("copy of journaled event %d: first=%v err=%v, want a duplicate", seq, first, err)
				}
			}
			el, raw := jEvent(1000)
			if first, err := s.CheckAndJournal(el, raw, false, nil); !first || err != nil {
				t.Fatalf("new event: first=%v err=%v", first, err)
			}
			next := s.JournalLast()
			if next <= want[len(want)-1] {
				t.Fatalf("new event got seq %d, not above %d", next, want[len(want)-1])
			}
			checkReads(t, "store after a new event", s.ReadJournal, append(slices.Clone(want), next))
			closeT(t, s)

			s = openJ(t, dir, seen.Options{Now: clk.Now}, Options{})
			if got := readSeqs(t, s.ReadJournal, 0, ^uint64(0)); !slices.Equal(got, append(slices.Clone(want), next)) {
				t.Fatalf("reopened: read %v, want %v and %d", got, want, next)
			}
			closeT(t, s)
		})
	}
}

// TestJournalEmptySegmentTrimmed: an empty segment that is not the one
// written, or one left with a torn header by a failed rotation, is
// deleted when it is the oldest, and does not keep events older than
// MaxAge from being trimmed behind it.
func TestJournalEmptySegmentTrimmed(t *testing.T) {
	for _, layout := range []string{"ERRR", "TRRR", "RERR", "RTRR", "RRRE"} {
		t.Run(layout, func(t *testing.T) {
			clk := newClock()
			dir := t.TempDir()
			s := openJ(t, dir, seen.Options{Now: clk.Now}, Options{MaxAge: time.Hour})
			closeT(t, s)
			want := layoutJournal(t, dir, layout, clk.Now().UnixNano())
			clk.Add(2 * time.Hour)
			s = openJ(t, dir, seen.Options{Now: clk.Now}, Options{MaxAge: time.Hour})
			defer closeT(t, s)
			if got := journalAll(t, s); len(got) != 0 {
				t.Fatalf("%d expired records kept", len(got))
			}
			if n := len(segFiles(t, dir)); n != 1 {
				t.Fatalf("%d segments left, want 1 (the one written)", n)
			}
			if last := s.JournalLast(); last < want[len(want)-1] {
				t.Fatalf("JournalLast %d after trimming, below %d", last, want[len(want)-1])
			}
		})
	}
}

// TestJournalMisnamedSegment: a segment file holding numbers at or below
// those of an older one (a misnamed or copied file) does not make reads
// go backwards or skip, and new events are numbered above everything on
// disk.
func TestJournalMisnamedSegment(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	s := openJ(t, dir, seen.Options{Now: clk.Now}, Options{})
	closeT(t, s)
	layoutJournal(t, dir, "R", clk.Now().UnixNano())
	// journal-2 holds 7, 8, 9, journal-3 holds 4, 5, 6.
	for i, seqs := range [][]uint64{{7, 8, 9}, {4, 5, 6}} {
		b := storedir.Header(journalMagic)
		for _, seq := range seqs {
			el, raw := jEvent(int(seq))
			key := seen.KeyOf(el)
			b = appendRecord(b, seq, clk.Now().UnixNano(), &key, raw)
		}
		if err := os.WriteFile(filepath.Join(dir, segName(uint64(2+i))), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s = openJ(t, dir, seen.Options{Now: clk.Now}, Options{})
	defer closeT(t, s)
	want := []uint64{1, 2, 3, 7, 8, 9}
	checkReads(t, "store", s.ReadJournal, want)
	el, raw := jEvent(1000)
	if first, err := s.CheckAndJournal(el, raw, false, nil); !first || err != nil {
		t.Fatalf("new event: first=%v err=%v", first, err)
	}
	if last := s.JournalLast(); last <= 9 {
		t.Fatalf("new event got seq %d, not above the 9 on disk", last)
	}
}
