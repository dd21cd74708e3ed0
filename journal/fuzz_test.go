package journal

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"comet/internal/storedir"

	"comet/seen"
)

// FuzzJournalRecord: DecodeJournalRecord never panics, and what it
// accepts encodes back to the same bytes.
func FuzzJournalRecord(f *testing.F) {
	f.Add(appendRecord(nil, 1, 1e18, &seen.Key{1}, []byte("<VOEvent/>")))
	f.Add(appendRecord(nil, 1<<63, -1, &seen.Key{}, nil))
	f.Add([]byte("garbage that is long enough for a header"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, n, err := decodeRecord(b)
		if err != nil {
			return
		}
		if enc := appendRecord(nil, r.Seq, r.Received, &r.Key, r.Raw); !bytes.Equal(enc, b[:n]) {
			t.Fatalf("record re-encodes differently")
		}
	})
}

// FuzzPositions: decodePositions never panics, and what it accepts
// encodes and decodes to the same positions.
func FuzzPositions(f *testing.F) {
	f.Add(encodePositions(map[string]Position{"host:8099": {"ab", 3}, "x": {"", 0}}))
	f.Add(storedir.Header(positionsMagic))
	f.Add([]byte("COMETPS\x00junk"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodePositions(b)
		if err != nil {
			return
		}
		m2, err := decodePositions(encodePositions(m))
		if err != nil || len(m2) != len(m) {
			t.Fatalf("round trip: %v %d/%d", err, len(m2), len(m))
		}
		for k, v := range m {
			if m2[k] != v {
				t.Fatalf("%q: %+v became %+v", k, v, m2[k])
			}
		}
	})
}

// FuzzJournalSegment: whatever the last segment holds, Open recovers (or
// refuses with an error), every record it then reads checks, and a new
// event gets a sequence number above all of them.
func FuzzJournalSegment(f *testing.F) {
	good := append(storedir.Header(journalMagic), appendRecord(nil, 1, 5, &seen.Key{2}, []byte("<a/>"))...)
	good = appendRecord(good, 2, 6, &seen.Key{3}, []byte("<b/>"))
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append(bytes.Clone(good[:30]), good[40:]...))
	f.Add([]byte("COMETJN"))
	f.Fuzz(func(t *testing.T, seg []byte) {
		dir := t.TempDir()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		s, err := openStore(dir, seen.Options{Logger: log}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		names, _ := filepath.Glob(filepath.Join(dir, segPrefix+"*"))
		if len(names) != 1 {
			t.Fatalf("segments %v", names)
		}
		os.WriteFile(names[0], seg, 0o600)
		s, err = openStore(dir, seen.Options{Logger: log}, Options{})
		if err != nil {
			return
		}
		defer s.Close()
		var last uint64
		err = s.ReadJournal(0, ^uint64(0), func(r Record) error {
			if r.Seq <= last {
				t.Fatalf("seq %d after %d", r.Seq, last)
			}
			last = r.Seq
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CheckAndJournal([]byte("<new/>"), []byte("<new/>"), false, nil); err != nil {
			t.Fatal(err)
		}
		if s.JournalLast() <= last {
			t.Fatalf("new event seq %d, not above %d", s.JournalLast(), last)
		}
	})
}

// FuzzJournalSegments: whatever three segment files hold and whatever
// they are named, Open recovers (or refuses with an error), reads only go
// forward, a read from any position gets exactly the records after it
// that a read from the start gets, and a new event gets a sequence number
// above all of them.
func FuzzJournalSegments(f *testing.F) {
	seg := func(seqs ...uint64) []byte {
		b := storedir.Header(journalMagic)
		for _, s := range seqs {
			b = appendRecord(b, s, 5, &seen.Key{byte(s)}, []byte("<e/>"))
		}
		return b
	}
	f.Add(seg(1, 2), storedir.Header(journalMagic), seg(4, 5), uint8(3), uint8(1))
	f.Add(seg(1, 2), seg(3), storedir.Header(journalMagic), uint8(2), uint8(1))
	f.Add(storedir.Header(journalMagic), seg(2, 3), []byte("COMETJ"), uint8(1), uint8(2))
	f.Add(seg(5, 6), seg(2, 3), seg(7), uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, a, b, c []byte, gap1, gap2 uint8) {
		dir := t.TempDir()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		s, err := openStore(dir, seen.Options{Logger: log}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		names, _ := filepath.Glob(filepath.Join(dir, segPrefix+"*"))
		for _, n := range names {
			os.Remove(n)
		}
		first := uint64(1)
		for i, seg := range [][]byte{a, b, c} {
			os.WriteFile(filepath.Join(dir, segName(first)), seg, 0o600)
			first += 1 + uint64([]uint8{gap1, gap2, 0}[i])
		}
		s, err = openStore(dir, seen.Options{Logger: log}, Options{})
		if err != nil {
			return
		}
		defer s.Close()
		var all []uint64
		err = s.ReadJournal(0, ^uint64(0), func(r Record) error {
			if len(all) > 0 && r.Seq <= all[len(all)-1] {
				t.Fatalf("seq %d after %d", r.Seq, all[len(all)-1])
			}
			all = append(all, r.Seq)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for i := range all {
			var got []uint64
			s.ReadJournal(all[i], ^uint64(0), func(r Record) error { got = append(got, r.Seq); return nil })
			if !slices.Equal(got, all[i+1:]) {
				t.Fatalf("read after %d gave %v, from the start %v", all[i], got, all)
			}
		}
		if _, err := s.CheckAndJournal([]byte("<new/>"), []byte("<new/>"), false, nil); err != nil {
			t.Fatal(err)
		}
		if len(all) > 0 && s.JournalLast() <= all[len(all)-1] {
			t.Fatalf("new event seq %d, not above %d", s.JournalLast(), all[len(all)-1])
		}
	})
}

// decodeRecord decodes the record at the start of b and returns it and
// its size, applying the checks Open and the readers apply to every
// record; an error says why b does not start with one.
func decodeRecord(b []byte) (Record, int, error) {
	if len(b) < jHeaderSize {
		return Record{}, 0, fmt.Errorf("journal record: %d bytes, shorter than a header", len(b))
	}
	h, ok := decodeJournalHead(b)
	if !ok {
		return Record{}, 0, fmt.Errorf("journal record: impossible header (length %d, seq %d)", h.length, h.seq)
	}
	if uint64(len(b)-jHeaderSize) < uint64(h.length) {
		return Record{}, 0, fmt.Errorf("journal record: %d bytes of body, header says %d", len(b)-jHeaderSize, h.length)
	}
	body := b[jHeaderSize : jHeaderSize+int(h.length)]
	if !h.checks(b, body) {
		return Record{}, 0, fmt.Errorf("journal record: checksum mismatch")
	}
	return Record{Seq: h.seq, Received: h.unixNano, Key: h.key, Raw: body}, jHeaderSize + int(h.length), nil
}
