package seen

import (
	"fmt"
	"io"
	"os"

	"comet/internal/storedir"
)

// chunkRecords is how many records are read or copied at a time (704 kB).
const chunkRecords = 16 << 10

// tornLimit is the most a crash can leave unreadable at the end of the log:
// one batch, the only write that can be in flight (the committer fsyncs
// each batch before starting the next; compaction writes another file),
// and the at most maxLazy records written before it without an fsync.
// More than that at the end is damage, not a crash.
const tornLimit = (maxBatch + maxLazy) * recordSize

// maxReportedRuns caps the ERROR lines about damaged records.
const maxReportedRuns = 20

// loadResult is what Open learns from the log.
type loadResult struct {
	idx             *index
	size            int64 // bytes of log kept: header and whole records
	records         int64 // records in those bytes, dead or alive
	expired         int64 // records skipped as expired
	rewrite         bool  // damage before the end: compact before serving
	worthCompacting bool  // more than half the records dead
}

// badRun is a run of consecutive unreadable records.
type badRun struct{ off, n int64 }

// load reads the log, recovers from a crash or damage as the package
// documentation describes, and builds the index.
func (s *Store) load(f *os.File) (loadResult, error) {
	fi, err := f.Stat()
	if err != nil {
		return loadResult{}, fmt.Errorf("seen: open store %s: %w", s.dir, err)
	}
	size := fi.Size()
	if size == 0 {
		return s.initLog(f)
	}
	hb := make([]byte, min(size, headerSize))
	if _, err := f.ReadAt(hb, 0); err != nil {
		return loadResult{}, fmt.Errorf("seen: read %s: %w", s.path, err)
	}
	state, v := checkHeader(hb)
	switch state {
	case storedir.HeaderUnknownVersion:
		return loadResult{}, fmt.Errorf("seen: %s is format version %d; this program reads version %d", s.path, v, storedir.Version)
	case storedir.HeaderTorn:
		// A crash while the file was being created: nothing was recorded.
		s.log.Warn("seen: log has a torn header, starting it again", "path", s.path, "bytes", size)
		return s.initLog(f)
	case storedir.HeaderDamaged:
		s.log.Error("seen: log header is damaged, reading the records anyway", "path", s.path)
		if size < headerSize {
			if _, err := s.keepCopy(f, size); err != nil {
				return loadResult{}, err
			}
			return s.initLog(f)
		}
	}

	now := s.unixNow()
	l := newLoader()
	buf := make([]byte, chunkRecords*recordSize)
	// Pass 1 counts keys per bucket so that pass 2 allocates each bucket
	// once at its final size; the file is in the page cache by then.
	err = scan(f, size, buf, func(off int64, r []byte) {
		l.count((*prefix)(r[:16]))
	})
	if err != nil {
		return loadResult{}, fmt.Errorf("seen: read %s: %w", s.path, err)
	}
	l.allocate()
	var (
		res      loadResult
		good     = int64(headerSize) // end of the last readable record
		cur      badRun              // unreadable records since the last readable one
		mid      []badRun            // runs followed by a readable record
		midTotal int64
	)
	err = scan(f, size, buf, func(off int64, r []byte) {
		key, unix, ok := decodeRecord(r)
		if !ok {
			if cur.n == 0 {
				cur.off = off
			}
			cur.n++
			return
		}
		if cur.n > 0 {
			if len(mid) < maxReportedRuns {
				mid = append(mid, cur)
			}
			midTotal += cur.n
			cur = badRun{}
		}
		good = off + recordSize
		if s.expired(uint32(unix), now) {
			res.expired++
			return
		}
		l.add((*prefix)(key[:16]), uint32(unix))
	})
	if err != nil {
		return loadResult{}, fmt.Errorf("seen: read %s: %w", s.path, err)
	}
	res.idx = l.finish()
	res.size = good
	res.records = (good - headerSize) / recordSize
	tail := size - good
	damaged := state == storedir.HeaderDamaged || midTotal > 0 || tail > tornLimit

	if damaged {
		// Keep the evidence before anything below changes the file.
		cp, err := s.keepCopy(f, size)
		if err != nil {
			return loadResult{}, err
		}
		for _, r := range mid {
			s.log.Error("seen: unreadable records in the middle of the log, keys in them are forgotten",
				"path", s.path, "offset", r.off, "records", r.n, "copy", cp)
		}
		if midTotal > 0 {
			s.log.Error("seen: log damaged; every readable record is kept and the log rewritten",
				"path", s.path, "unreadable_records", midTotal, "runs", len(mid), "copy", cp)
		}
		if tail > tornLimit {
			s.log.Error("seen: unreadable end of log is longer than a crash leaves, cutting it",
				"path", s.path, "offset", good, "bytes", tail, "copy", cp)
		}
	}
	if tail > 0 {
		if tail <= tornLimit {
			s.log.Warn("seen: cutting torn end of log left by a crash",
				"path", s.path, "offset", good, "bytes", tail)
		}
		if err := f.Truncate(good); err != nil {
			return loadResult{}, fmt.Errorf("seen: cut torn end of %s: %w", s.path, err)
		}
		if err := f.Sync(); err != nil {
			return loadResult{}, fmt.Errorf("seen: cut torn end of %s: %w", s.path, err)
		}
	}
	res.rewrite = state == storedir.HeaderDamaged || midTotal > 0
	live := int64(res.idx.len())
	res.worthCompacting = res.records >= 1024 && res.records > 2*live
	return res, nil
}

// scan calls fn for each whole record after the header, in order. r is only
// valid during the call.
func scan(f io.ReaderAt, size int64, buf []byte, fn func(off int64, r []byte)) error {
	for off := int64(headerSize); off+recordSize <= size; {
		n := min(int64(len(buf)), (size-off)/recordSize*recordSize)
		if _, err := f.ReadAt(buf[:n], off); err != nil {
			return err
		}
		for i := int64(0); i < n; i += recordSize {
			fn(off+i, buf[i:i+recordSize])
		}
		off += n
	}
	return nil
}

// initLog (re)starts an empty log with a header.
func (s *Store) initLog(f *os.File) (loadResult, error) {
	if err := f.Truncate(0); err != nil {
		return loadResult{}, fmt.Errorf("seen: create %s: %w", s.path, err)
	}
	if _, err := f.WriteAt(header(), 0); err != nil {
		return loadResult{}, fmt.Errorf("seen: create %s: %w", s.path, err)
	}
	if err := f.Sync(); err != nil {
		return loadResult{}, fmt.Errorf("seen: create %s: %w", s.path, err)
	}
	if err := s.syncDir(); err != nil {
		return loadResult{}, fmt.Errorf("seen: create %s: sync directory: %w", s.path, err)
	}
	return loadResult{idx: newIndex(), size: headerSize}, nil
}

// keepCopy saves the first size bytes of a damaged log as
// seen.log.corrupt-<unix time>[.n] and returns its path. If no copy can be
// made the store refuses to open rather than rewrite the only evidence.
func (s *Store) keepCopy(src io.ReaderAt, size int64) (string, error) {
	cp, err := storedir.KeepCopy(s.root, s.dir, logName, src, size, s.now())
	if err != nil {
		return "", fmt.Errorf("seen: %w", err)
	}
	return cp, nil
}
