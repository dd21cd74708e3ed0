package seen

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"comet/internal/storedir"
)

// Defaults for [JournalOptions].
const (
	DefaultJournalAge  = 72 * time.Hour
	DefaultJournalSize = 1 << 30
)

// Segment sizes: a sixteenth of the size bound, within these limits, so
// trimming by size deletes whole files and the bound is kept to within a
// sixteenth.
const (
	minSegment = 1 << 20
	maxSegment = 64 << 20
)

// JournalOptions turns on the journal of accepted events (see the package
// documentation). A nil *JournalOptions in [Options] means no journal.
type JournalOptions struct {
	// MaxAge is how long an event is kept (default 72 hours): older
	// segments are deleted, oldest first, while the broker serves.
	MaxAge time.Duration
	// MaxSize bounds the bytes of all segments together (default 1 GiB).
	MaxSize int64
	// OnCommit is called by the committer for every record made durable,
	// in sequence order, before the caller of CheckAndJournal is woken;
	// payload is what that caller passed. It must not block: the broker
	// uses it to queue the event for its subscribers, so that they get
	// events in journal order.
	OnCommit func(seq uint64, payload any)
}

// journal is the event journal of a Store, or a read-only view of one
// (see [OpenJournal]).
type journal struct {
	root     *os.Root
	dir      string
	log      *slog.Logger
	now      func() time.Time
	readOnly bool
	id       [idSize]byte
	maxAge   time.Duration
	maxSize  int64
	segMax   int64
	onCommit func(seq uint64, payload any)
	// beforeDrop runs before a segment is deleted: the store fsyncs the
	// seen records that rely on the journal for their durability.
	beforeDrop func() error
	// Test hooks, nil otherwise, that fail the steps of a rotation:
	// createSeg creates a segment file (whose writes and syncs it may
	// make fail), syncDir fsyncs the directory.
	createSeg func(name string) (logFile, error)
	syncDir   func() error

	// wmu is held while a batch is written and while segments are
	// rotated or deleted: one writer of the files at a time.
	wmu sync.Mutex
	// mu guards segs and total; readers take it only to find where to
	// start, never across I/O.
	mu    sync.Mutex
	segs  []*segment // oldest first; the last is the one written
	total int64      // bytes of all segments
	last  atomic.Uint64
	next  uint64 // the next sequence number to assign; guarded by the Store's mu
}

// segment is one journal file and its index. Only the last segment of a
// writable journal has an open file.
type segment struct {
	name     string
	first    uint64 // no record in it has a smaller sequence number
	f        logFile
	size     int64
	seqs     []uint64 // index: sequence numbers of its records, increasing
	offs     []uint32 // and their offsets in the file
	lastTime int64    // Unix nanoseconds of its newest record, 0 if empty
}

// jrec is one journal record in a batch.
type jrec struct {
	seq     uint64
	payload any
}

// ID returns the journal's identity, 32 hexadecimal digits, "" if there
// is no journal.
func (s *Store) JournalID() string {
	if s.journal == nil {
		return ""
	}
	return s.journal.idString()
}

func (j *journal) idString() string { return hex.EncodeToString(j.id[:]) }

// JournalLast returns the sequence number of the newest durable record,
// 0 if there is none or no journal.
func (s *Store) JournalLast() uint64 {
	if s.journal == nil {
		return 0
	}
	return s.journal.last.Load()
}

// CheckAndJournal is CheckAndRecord (keep false) or CheckAndKeep (keep
// true) for the key of element that, when the event is new, also appends
// raw to the journal in the same group commit: the journal record is
// written and synced first, then the seen record, and the call returns
// once both are written. payload is handed to JournalOptions.OnCommit with
// the record's sequence number. With no journal it is CheckAndRecord or
// CheckAndKeep.
//
// The journal record is the event's durable copy, key included: once it
// is synced the event is accepted, so the call returns first=true and no
// error even if the seen record's write then fails; that record is
// written again later, and Open restores it from the journal if the
// process dies first. Before journaling, the store writes any seen
// record still owed; if it cannot, or if the journal write fails, nothing
// is journaled and the call fails as a failed seen write does (keep=false:
// refused, the key forgotten, so a resend can succeed; keep=true: relayed
// without being journaled, and the error says so).
func (s *Store) CheckAndJournal(element, raw []byte, keep bool, payload any) (first bool, err error) {
	return s.check(KeyOf(element), keep, raw, payload)
}

// newJournal opens the journal in root (creating it when missing) and
// recovers it as the package documentation describes.
func newJournal(root *os.Root, dir string, log *slog.Logger, now func() time.Time, opts *JournalOptions, readOnly bool) (*journal, error) {
	j := &journal{root: root, dir: dir, log: log, now: now, readOnly: readOnly}
	if opts != nil {
		j.maxAge, j.maxSize, j.onCommit = opts.MaxAge, opts.MaxSize, opts.OnCommit
	}
	if j.maxAge <= 0 {
		j.maxAge = DefaultJournalAge
	}
	if j.maxSize <= 0 {
		j.maxSize = DefaultJournalSize
	}
	j.segMax = min(max(j.maxSize/16, minSegment), maxSegment)
	if err := j.load(); err != nil {
		j.closeFiles()
		return nil, err
	}
	return j, nil
}

// write appends the journal records of b to the last segment and syncs
// them, rotating to a new segment first if the last one is full.
func (j *journal) write(b *batch) error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	seg := j.lastSeg()
	if seg.size >= j.segMax && len(seg.seqs) > 0 {
		var err error
		if seg, err = j.rotate(b.jrecs[0].seq); err != nil {
			return err
		}
	}
	if seg.size+int64(len(b.jbuf)) > 1<<32-1 {
		return fmt.Errorf("journal segment %s would pass 4 GiB", seg.name)
	}
	if _, err := seg.f.WriteAt(b.jbuf, seg.size); err != nil {
		j.cutBack(seg)
		return fmt.Errorf("write journal %s: %w", seg.name, err)
	}
	if err := storedir.SyncData(seg.f); err != nil {
		j.cutBack(seg)
		return fmt.Errorf("sync journal %s: %w", seg.name, err)
	}
	now := j.now().UnixNano()
	j.mu.Lock()
	off := seg.size
	for i, r := range b.jrecs {
		seg.seqs = append(seg.seqs, r.seq)
		seg.offs = append(seg.offs, uint32(off))
		off += int64(b.jlens[i])
	}
	j.total += off - seg.size
	seg.size = off
	seg.lastTime = now
	j.mu.Unlock()
	j.last.Store(b.jrecs[len(b.jrecs)-1].seq)
	j.trimLocked()
	return nil
}

// cutBack truncates a failed write so the next one starts at the same
// offset, and fsyncs the cut: after a failed fdatasync the disk may hold
// the records all the same, and their callers are told they are not
// recorded. Even if that fails, the next write overwrites the remains.
func (j *journal) cutBack(seg *segment) {
	err := seg.f.Truncate(seg.size)
	if err == nil {
		err = seg.f.Sync()
	}
	if err != nil {
		j.log.Error("seen: could not cut back a failed journal write", "path", j.path(seg.name), "offset", seg.size, "err", err)
	}
}

func (j *journal) path(name string) string { return j.dir + string(os.PathSeparator) + name }

func (j *journal) lastSeg() *segment {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.segs[len(j.segs)-1]
}

// rotate starts a new, empty segment whose records will have sequence
// numbers from first on. Call with wmu held.
func (j *journal) rotate(first uint64) (*segment, error) {
	name := segName(first)
	var f logFile
	var err error
	if j.createSeg != nil {
		f, err = j.createSeg(name)
	} else {
		f, err = storedir.OpenFile(j.root, j.dir, name, os.O_RDWR|os.O_CREATE|os.O_EXCL)
	}
	if err != nil {
		return nil, fmt.Errorf("create journal segment: %w", err)
	}
	if err = storedir.WriteHeader(f, journalMagic); err == nil {
		if j.syncDir != nil {
			err = j.syncDir()
		} else {
			err = storedir.SyncRoot(j.root)
		}
	}
	if err != nil {
		f.Close()
		j.root.Remove(name)
		return nil, fmt.Errorf("create journal segment %s: %w", name, err)
	}
	seg := &segment{name: name, first: first, f: f, size: headerSize}
	j.mu.Lock()
	var old *segment
	if len(j.segs) > 0 {
		old = j.segs[len(j.segs)-1]
	}
	j.segs = append(j.segs, seg)
	j.total += headerSize
	j.mu.Unlock()
	if old != nil && old.f != nil {
		old.f.Close()
		old.f = nil
	}
	return seg, nil
}

// Trim deletes the segments that only hold events older than MaxAge, and
// the oldest while the journal is over MaxSize, never the segment being
// written unless it only holds expired events (it is then replaced by an
// empty one, whose name keeps the sequence numbers growing). The broker
// calls it after every write and once a minute.
func (s *Store) TrimJournal() {
	if s.journal != nil {
		s.journal.trim()
	}
}

func (j *journal) trim() {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	j.trimLocked()
}

func (j *journal) trimLocked() {
	cutoff := j.now().Add(-j.maxAge).UnixNano()
	for {
		j.mu.Lock()
		oldest, n, total := j.segs[0], len(j.segs), j.total
		j.mu.Unlock()
		expired := len(oldest.seqs) > 0 && oldest.lastTime < cutoff
		// An empty segment other than the one written (left by a rotation
		// whose first write failed, or whose records were unreadable at
		// Open) holds nothing: it goes, and must not keep the ones after
		// it from expiring.
		empty := len(oldest.seqs) == 0 && n > 1
		if !expired && !empty && (total <= j.maxSize || n == 1) {
			return
		}
		if n == 1 {
			// Everything is expired: start an empty segment to write to,
			// then delete this one.
			if _, err := j.rotate(j.last.Load() + 1); err != nil {
				j.log.Error("seen: cannot trim the journal", "path", j.dir, "err", err)
				return
			}
		}
		if j.beforeDrop != nil && !empty {
			if err := j.beforeDrop(); err != nil {
				return // logged; the segment is kept until the seen log syncs
			}
		}
		if err := j.root.Remove(oldest.name); err != nil && !errors.Is(err, os.ErrNotExist) {
			j.log.Error("seen: cannot delete an old journal segment", "path", j.path(oldest.name), "err", err)
			return
		}
		j.mu.Lock()
		j.segs = j.segs[1:]
		j.total -= oldest.size
		j.mu.Unlock()
		reason := "size"
		switch {
		case expired:
			reason = "age"
		case empty:
			reason = "empty"
		}
		j.log.Info("seen: trimmed journal segment", "path", j.path(oldest.name), "reason", reason,
			"events", len(oldest.seqs), "bytes", oldest.size)
	}
}

// trimLoop trims the journal once a minute until stop is closed, so that
// age applies even when no events arrive.
func (j *journal) trimLoop(stop <-chan struct{}) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			j.trim()
		}
	}
}

// closeFiles closes the segment being written.
func (j *journal) closeFiles() error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	var errs []error
	for _, seg := range j.segs {
		if seg.f != nil {
			if err := seg.f.Sync(); err != nil {
				errs = append(errs, err)
			}
			if err := seg.f.Close(); err != nil {
				errs = append(errs, err)
			}
			seg.f = nil
		}
	}
	return errors.Join(errs...)
}

// JournalStats is what a journal holds.
type JournalStats struct {
	ID          string
	First, Last uint64 // sequence numbers of the oldest and newest records; 0 if empty
	Events      int
	Bytes       int64 // of all segment files
	Segments    int
}

// JournalStats describes the journal, zero if there is none.
func (s *Store) JournalStats() JournalStats {
	if s.journal == nil {
		return JournalStats{}
	}
	return s.journal.stats()
}

func (j *journal) stats() JournalStats {
	j.mu.Lock()
	defer j.mu.Unlock()
	st := JournalStats{ID: j.idString(), Bytes: j.total, Segments: len(j.segs)}
	for _, seg := range j.segs {
		if len(seg.seqs) == 0 {
			continue
		}
		if st.First == 0 {
			st.First = seg.seqs[0]
		}
		st.Last = seg.seqs[len(seg.seqs)-1]
		st.Events += len(seg.seqs)
	}
	return st
}

// newID draws a journal identity.
func newID() ([idSize]byte, error) {
	var id [idSize]byte
	_, err := rand.Read(id[:])
	return id, err
}

// find returns the index of the first segment that holds a record after
// seq after, and the position of that record in its index; len(segs) if
// none does. Segments may be empty (the newest one just after a rotation,
// or one whose records were all unreadable at Open), so the search keys
// each segment by the newest record at or before it: sequence numbers
// grow from segment to segment (load drops any that do not), so that key
// grows too and the first segment whose key is after seq after is one
// that holds the record wanted. Call with mu held.
func (j *journal) find(after uint64) (si, ei int) {
	si = sort.Search(len(j.segs), func(i int) bool {
		for ; i >= 0; i-- {
			if seqs := j.segs[i].seqs; len(seqs) > 0 {
				return seqs[len(seqs)-1] > after
			}
		}
		return false
	})
	if si == len(j.segs) {
		return si, 0
	}
	seg := j.segs[si]
	ei = sort.Search(len(seg.seqs), func(i int) bool { return seg.seqs[i] > after })
	return si, ei
}
