package seen

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// lockGroup is how many index lookups compaction makes per hold of s.mu.
const lockGroup = 1024

// catchUpBytes is how much of the records appended during a compaction may
// be left for the final step, when the committer is paused: 64 kB copy
// in well under a millisecond. A variable so tests can force the
// unlocked catch-up passes.
var catchUpBytes int64 = 64 << 10

// compactLoop runs compaction every s.every until Close; first asks for
// one at once.
func (s *Store) compactLoop(first bool) {
	t := time.NewTicker(s.every)
	defer t.Stop()
	if first {
		s.runCompaction()
	}
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.runCompaction()
		}
	}
}

func (s *Store) runCompaction() {
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	if err := s.compact(false); err != nil && !errors.Is(err, ErrClosed) {
		s.log.Error("seen: compaction failed, the log is unchanged", "path", s.path, "err", err)
	}
}

// compactStats counts what a compaction did with each record.
type compactStats struct {
	kept, expired, superseded, unreadable, carried int64
}

// compact rewrites the log. Call with s.compactMu held. evidenceKept says
// the damage was already reported and a copy saved (Open's rewrite).
//
// The writers' view: the old log up to its acknowledged size at the start
// is filtered chunk by chunk, taking s.mu only to look up each chunk's keys
// in the index (a record is live if the index still holds its time and that
// time has not expired). Records acknowledged meanwhile are appended after
// the old log's end; they are copied as they are, first without any lock,
// then, with fileMu held so the committer pauses, the last few, before the
// rename (see install). Only that final step delays acks.
func (s *Store) compact(evidenceKept bool) (err error) {
	started := time.Now()
	now := s.unixNow()
	s.fileMu.Lock()
	if s.lazyBad {
		// Records a failed write or sync left owed: write them first,
		// so that the copy reads them, not what the failure left.
		err = s.syncLocked()
	}
	old, end, owed := s.file, s.size, s.owed
	s.fileMu.Unlock()
	if err != nil {
		return fmt.Errorf("seen: compact %s: write owed records first: %w", s.path, err)
	}

	// O_EXCL: Open and failed compactions remove the file, so one that
	// exists is not ours to overwrite (or, if a link, to follow).
	tmp, err := s.openFile(tmpName, os.O_RDWR|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("seen: compact %s: %w", s.path, err)
	}
	installed := false
	defer func() {
		if !installed {
			tmp.Close()
			s.root.Remove(tmpName)
		}
	}()
	wrap := func(err error) error { return fmt.Errorf("seen: compact %s: %w", s.path, err) }

	w := bufio.NewWriterSize(tmp, chunkRecords*recordSize)
	w.Write(header())
	var st compactStats
	var bad []badRun
	buf := make([]byte, chunkRecords*recordSize)
	keep := make([]byte, 0, len(buf))
	type rec struct {
		p  prefix
		ts uint32
		i  int // offset in buf
	}
	recs := make([]rec, 0, chunkRecords)
	for off := int64(headerSize); off < end; {
		select {
		case <-s.stop:
			return ErrClosed
		default:
		}
		n := min(int64(len(buf)), end-off)
		if _, err := old.ReadAt(buf[:n], off); err != nil {
			return wrap(err)
		}
		recs = recs[:0]
		for i := 0; i+recordSize <= int(n); i += recordSize {
			key, unix, ok := decodeRecord(buf[i:])
			if !ok {
				st.unreadable++
				if len(bad) < maxReportedRuns {
					bad = append(bad, badRun{off + int64(i), 1})
				}
				continue
			}
			recs = append(recs, rec{prefixOf(&key), uint32(unix), i})
		}
		keep = keep[:0]
		for len(recs) > 0 {
			// A record is live if the index still holds its time and that
			// time has not expired. Lookups take the lock in small groups
			// so writers wait at most ~0.1 ms for it.
			group := recs[:min(len(recs), lockGroup)]
			recs = recs[len(group):]
			s.mu.Lock()
			for _, r := range group {
				ts, found := s.idx.get(&r.p)
				switch {
				case !found || ts != r.ts:
					st.superseded++
				case s.expired(ts, now):
					s.idx.del(&r.p)
					st.expired++
				default:
					keep = append(keep, buf[r.i:r.i+recordSize]...)
					st.kept++
				}
			}
			s.mu.Unlock()
		}
		w.Write(keep)
		off += n
	}

	if st.unreadable > 0 && !evidenceKept {
		// Damaged since Open: keep the evidence before the rename.
		cp, err := s.keepCopy(old, end)
		if err != nil {
			return err
		}
		for _, r := range bad {
			s.log.Error("seen: unreadable record found while compacting, its key is forgotten",
				"path", s.path, "offset", r.off, "copy", cp)
		}
	}

	// Carry over records acknowledged since the start, without pausing
	// anyone while there are many.
	pos := end
	for range 4 {
		s.fileMu.Lock()
		cur := s.size
		s.fileMu.Unlock()
		if cur-pos <= catchUpBytes {
			break
		}
		if err := copyRange(w, old, pos, cur, buf); err != nil {
			return wrap(err)
		}
		pos = cur
	}
	if err := w.Flush(); err != nil {
		return wrap(err)
	}
	if err := tmp.Sync(); err != nil {
		return wrap(err)
	}

	if err := s.install(tmp, old, end, pos, owed, buf, w, &st); err != nil {
		return wrap(err)
	}
	installed = true
	s.compactedAt.Store(s.now().UnixNano())
	old.Close() // frees the old file's blocks: ~10 ms for 44 MB, so not under fileMu
	s.log.Info("seen: compacted log", "path", s.path, "kept", st.kept, "expired", st.expired,
		"superseded", st.superseded, "unreadable", st.unreadable, "carried_over", st.carried,
		"bytes_before", end+st.carried*recordSize, "bytes_after", headerSize+(st.kept+st.carried)*recordSize,
		"duration", time.Since(started))
	if err := s.syncDir(); err != nil {
		// The committer keeps retrying before each ack.
		return fmt.Errorf("seen: compact %s: sync directory: %w", s.path, err)
	}
	s.fileMu.Lock()
	s.dirDirty = false
	s.fileMu.Unlock()
	return nil
}

// install is compaction's final step, the only one that pauses the
// committer: unless records were owed since the start (owed is the count
// then), carry over the records acknowledged since pos, fsync, rename
// the new log into place and switch to it. Until the directory is fsync'd
// (by compact, or by the committer if it gets there first) nothing more is
// acknowledged: a power loss could otherwise undo the rename and lose
// records written only to the new file.
func (s *Store) install(tmp *os.File, old logFile, end, pos int64, owed int, buf []byte, w *bufio.Writer, st *compactStats) error {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	if s.owed != owed {
		// The copy may hold what a failed write left instead of the
		// records it owes: the next compaction copies them right.
		return errors.New("a seen log write failed during the compaction; it is retried later")
	}
	cur := s.size
	if err := copyRange(w, old, pos, cur, buf); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := s.root.Rename(tmpName, logName); err != nil {
		return err
	}
	st.carried = (cur - end) / recordSize
	s.file = tmp
	s.size = headerSize + (st.kept+st.carried)*recordSize
	s.dirDirty = true
	s.lazyBuf, s.lazyBad = s.lazyBuf[:0], false // fsync'd in tmp, with the rest
	return nil
}

// copyRange appends bytes [from, to) of src to w.
func copyRange(w io.Writer, src io.ReaderAt, from, to int64, buf []byte) error {
	for from < to {
		n := min(int64(len(buf)), to-from)
		if _, err := src.ReadAt(buf[:n], from); err != nil {
			return err
		}
		if _, err := w.Write(buf[:n]); err != nil {
			return err
		}
		from += n
	}
	return nil
}
