package journal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"time"

	"comet/internal/storedir"
)

// tornJournalLimit is the longest unreadable end of the segment being
// written that Open cuts with a warning as left by a crash: the committer
// writes one batch at a time, and no batch of a working broker comes near
// it. A longer unreadable end is damage: it is reported at ERROR and a
// copy of the segment is kept before it is cut.
const tornJournalLimit = 64 << 20

// load reads the identity and every segment, recovering as the package
// documentation describes, and sets the next sequence number.
func (j *Journal) load() error {
	start := time.Now()
	if err := j.loadID(); err != nil {
		return err
	}
	names, err := j.segmentNames()
	if err != nil {
		return err
	}
	// last is the highest sequence number so far: records at or below it
	// in a later segment (which only a damaged or misnamed file can hold)
	// are not indexed, so that numbers grow through the whole journal,
	// which readers rely on.
	var last uint64
	for i, n := range names {
		seg, err := j.loadSegment(n.name, n.first, i == len(names)-1, last)
		if err != nil {
			return err
		}
		if seg != nil {
			j.segs = append(j.segs, seg)
			j.total += seg.size
			if n := len(seg.seqs); n > 0 {
				last = seg.seqs[n-1]
			}
			last = max(last, seg.first-1)
		}
	}
	j.last.Store(last)
	j.next = last + 1
	if !j.readOnly && (len(j.segs) == 0 || j.segs[len(j.segs)-1].f == nil) {
		// No segment, or the last could not be written to: start one.
		if _, err := j.rotate(j.next); err != nil {
			return fmt.Errorf("seen: open journal in %s: %w", j.dir, err)
		}
	}
	st := j.Stats()
	j.log.Info("seen: opened journal", "path", j.dir, "id", st.ID, "events", st.Events,
		"first", st.First, "last", st.Last, "bytes", st.Bytes, "segments", st.Segments, "duration", time.Since(start))
	return nil
}

type segFile struct {
	name  string
	first uint64
}

// segmentNames lists the segment files, oldest first.
func (j *Journal) segmentNames() ([]segFile, error) {
	d, err := j.root.Open(".")
	if err != nil {
		return nil, fmt.Errorf("seen: open journal in %s: %w", j.dir, err)
	}
	entries, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("seen: open journal in %s: %w", j.dir, err)
	}
	var names []segFile
	for _, e := range entries {
		if first, ok := parseSegName(e.Name()); ok {
			names = append(names, segFile{e.Name(), first})
		}
	}
	sort.Slice(names, func(a, b int) bool { return names[a].first < names[b].first })
	return names, nil
}

// loadID reads journal.id, or creates it: for a new journal, or, with an
// ERROR, when it is missing or damaged next to existing segments (their
// positions no longer mean what subscribers think, so the identity
// changes and they replay what the journal holds).
func (j *Journal) loadID() error {
	b, err := readSmall(j.root, j.dir, journalIDName)
	switch {
	case err == nil && len(b) == idFileSize && binary.BigEndian.Uint32(b[idSize:]) == storedir.CRC(b[:idSize]):
		copy(j.id[:], b)
		return nil
	case err == nil:
		j.log.Error("seen: journal identity file is damaged: the journal gets a new identity",
			"path", j.path(journalIDName), "bytes", len(b))
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("seen: open journal in %s: %w", j.dir, err)
	default:
		if names, _ := j.segmentNames(); len(names) > 0 {
			j.log.Error("seen: journal identity file is missing next to journal segments: the journal gets a new identity",
				"path", j.path(journalIDName), "segments", len(names))
		}
	}
	if j.readOnly {
		return fmt.Errorf("seen: %s has no journal (no readable %s)", j.dir, journalIDName)
	}
	id, err := newID()
	if err != nil {
		return fmt.Errorf("seen: create journal identity: %w", err)
	}
	j.id = id
	rec := binary.BigEndian.AppendUint32(append([]byte(nil), id[:]...), storedir.CRC(id[:]))
	if err := replaceFile(j.root, j.dir, journalIDTmp, journalIDName, rec); err != nil {
		return fmt.Errorf("seen: create journal identity in %s: %w", j.dir, err)
	}
	return nil
}

// loadSegment reads one segment and builds its index, of the records
// numbered above after. last says it is the newest, the one a crash can
// leave torn. It returns nil for a segment the read-only view has nothing
// to read in (a torn header, or gone since listed).
func (j *Journal) loadSegment(name string, first uint64, last bool, after uint64) (*segment, error) {
	flag := os.O_RDONLY
	if last && !j.readOnly {
		flag = os.O_RDWR
	}
	f, err := storedir.OpenFile(j.root, j.dir, name, flag)
	if errors.Is(err, fs.ErrNotExist) && j.readOnly {
		return nil, nil // trimmed since listed
	}
	if err != nil {
		return nil, fmt.Errorf("seen: open journal segment %s: %w", j.path(name), err)
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("seen: open journal segment %s: %w", j.path(name), err)
	}
	size := fi.Size()
	seg := &segment{name: name, first: first, size: size}
	hb := make([]byte, min(size, storedir.HeaderSize))
	if _, err := f.ReadAt(hb, 0); err != nil {
		return nil, fmt.Errorf("seen: read journal segment %s: %w", j.path(name), err)
	}
	switch state, v := storedir.CheckHeader(hb, journalMagic); state {
	case storedir.HeaderUnknownVersion:
		return nil, fmt.Errorf("seen: %s is format version %d; this program reads version %d", j.path(name), v, storedir.Version)
	case storedir.HeaderTorn:
		if j.readOnly {
			return nil, nil // being created, or left by a failed rotation
		}
		if !last {
			// A rotation that failed and whose file could not be removed:
			// it never held a record. Kept in the index, empty, so that
			// trimming deletes it.
			j.log.Warn("seen: journal segment has a torn header and holds nothing", "path", j.path(name), "bytes", size)
			return seg, nil
		}
		j.log.Warn("seen: journal segment has a torn header, starting it again", "path", j.path(name), "bytes", size)
		if err := storedir.WriteHeader(f, journalMagic); err != nil {
			return nil, fmt.Errorf("seen: rewrite journal segment %s: %w", j.path(name), err)
		}
		if err := f.Truncate(storedir.HeaderSize); err != nil {
			return nil, fmt.Errorf("seen: rewrite journal segment %s: %w", j.path(name), err)
		}
		seg.size = storedir.HeaderSize
		seg.f, keep = f, true
		return seg, nil
	case storedir.HeaderDamaged:
		j.log.Error("seen: journal segment header is damaged, reading its records anyway", "path", j.path(name))
	}
	good, err := j.scanSegment(f, seg, size, max(after, first-1))
	if err != nil {
		return nil, fmt.Errorf("seen: read journal segment %s: %w", j.path(name), err)
	}
	if tail := size - good; tail > 0 {
		switch {
		case j.readOnly:
			// The broker may be writing it right now: stop at the last
			// whole record.
		case !last:
			j.log.Error("seen: unreadable end of a journal segment; the events after the offset are lost",
				"path", j.path(name), "offset", good, "bytes", tail)
		default:
			if tail > tornJournalLimit {
				cp, err := storedir.KeepCopy(j.root, j.dir, name, f, size, j.now())
				if err != nil {
					return nil, err
				}
				j.log.Error("seen: unreadable end of the journal is longer than a crash leaves, cutting it",
					"path", j.path(name), "offset", good, "bytes", tail, "copy", cp)
			} else {
				j.log.Warn("seen: cutting torn end of the journal left by a crash",
					"path", j.path(name), "offset", good, "bytes", tail)
			}
			if err := f.Truncate(good); err != nil {
				return nil, fmt.Errorf("seen: cut torn end of %s: %w", j.path(name), err)
			}
			if err := f.Sync(); err != nil {
				return nil, fmt.Errorf("seen: cut torn end of %s: %w", j.path(name), err)
			}
			size = good
		}
	}
	seg.size = size
	if last && !j.readOnly {
		seg.f, keep = f, true
	}
	return seg, nil
}

// scanSegment indexes the records of seg numbered above prev and returns
// the end of the last good one. Damage followed by good records is
// reported with its offset and skipped; the records after it stay
// readable.
func (j *Journal) scanSegment(f *os.File, seg *segment, size int64, prev uint64) (int64, error) {
	off := int64(storedir.HeaderSize)
	good := off
	br := bufio.NewReaderSize(io.NewSectionReader(f, off, size-off), 1<<20)
	var hb [jHeaderSize]byte
	var body []byte
	for off < size {
		ok := false
		var h journalHead
		if _, err := io.ReadFull(br, hb[:]); err == nil {
			h, ok = decodeJournalHead(hb[:])
			ok = ok && h.seq > prev && off+jHeaderSize+int64(h.length) <= size
			if ok {
				if cap(body) < int(h.length) {
					body = make([]byte, h.length)
				}
				body = body[:h.length]
				if _, err := io.ReadFull(br, body); err != nil {
					return good, err
				}
				ok = h.checks(hb[:], body)
			}
		}
		if ok {
			seg.seqs = append(seg.seqs, h.seq)
			seg.offs = append(seg.offs, uint32(off))
			seg.lastTime = h.unixNano
			prev = h.seq
			off += jHeaderSize + int64(h.length)
			good = off
			continue
		}
		next, err := resync(f, off+1, size, prev)
		if err != nil {
			return good, err
		}
		if next < 0 {
			return good, nil // nothing readable after: the tail
		}
		j.log.Error("seen: unreadable bytes in the middle of a journal segment; the events in them are lost, the ones after are kept",
			"path", j.path(seg.name), "offset", off, "bytes", next-off)
		off = next
		br.Reset(io.NewSectionReader(f, off, size-off))
	}
	return good, nil
}

// resync returns the offset of the first whole, checking record with a
// sequence number above prev in [from, size), or -1.
func resync(f io.ReaderAt, from, size int64, prev uint64) (int64, error) {
	if from >= size {
		return -1, nil
	}
	buf := make([]byte, size-from)
	if _, err := f.ReadAt(buf, from); err != nil && !errors.Is(err, io.EOF) {
		return -1, err
	}
	for i := 0; i+jHeaderSize <= len(buf); i++ {
		h, ok := decodeJournalHead(buf[i:])
		if !ok || h.seq <= prev || uint64(len(buf)-i-jHeaderSize) < uint64(h.length) {
			continue
		}
		if h.checks(buf[i:], buf[i+jHeaderSize:i+jHeaderSize+int(h.length)]) {
			return from + int64(i), nil
		}
	}
	return -1, nil
}

// readSmall reads a small store file whole.
func readSmall(root *os.Root, dir, name string) ([]byte, error) {
	f, err := storedir.OpenFile(root, dir, name, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 1<<20))
}

// replaceFile writes b to tmp, syncs it and renames it over name, then
// syncs the directory: name holds either its old or its new contents.
func replaceFile(root *os.Root, dir, tmp, name string, b []byte) error {
	root.Remove(tmp)
	f, err := storedir.OpenFile(root, dir, tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = root.Rename(tmp, name)
	}
	if err == nil {
		err = storedir.SyncRoot(root)
	}
	if err != nil {
		root.Remove(tmp)
	}
	return err
}
