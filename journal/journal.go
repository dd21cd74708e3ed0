package journal

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"comet/internal/storedir"
	"comet/seen"
)

// Defaults for [Options].
const (
	DefaultAge  = 72 * time.Hour
	DefaultSize = 1 << 30
)

// Segment sizes: a sixteenth of the size bound, within these limits, so
// trimming by size deletes whole files and the bound is kept to within a
// sixteenth.
const (
	minSegment = 1 << 20
	maxSegment = 64 << 20
)

// Options configures the journal. The zero value gives the defaults.
type Options struct {
	// MaxAge is how long an event is kept (default 72 hours): older
	// segments are deleted, oldest first, while the broker serves.
	MaxAge time.Duration
	// MaxSize bounds the bytes of all segments together (default 1 GiB).
	MaxSize int64
	// Logger receives reports of recovered damage and trimming (default
	// slog.Default()); Now is the clock (default time.Now).
	Logger *slog.Logger
	Now    func() time.Time
}

// Journal is the event journal of a seen store, its write-ahead log
// (see [New]), or a read-only view of one (see [OpenReader]).
type Journal struct {
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
	// store is the seen store whose write-ahead log this is: its Sync
	// runs before a segment is deleted, so that no seen record relies on
	// a deleted record for its durability.
	store *seen.Store
	// Test hooks, nil otherwise, that fail the steps of a rotation:
	// createSeg creates a segment file (whose writes and syncs it may
	// make fail), syncDir fsyncs the directory.
	createSeg func(name string) (storedir.File, error)
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
	// next is the next sequence number to assign, and firstSeq the first
	// of the last batch appended; only the store's writer uses them.
	next, firstSeq uint64
	buf            []byte // the records of the batch being appended

	positions *positions
	stop      chan struct{} // closed by Close: stops the loops below
	wg        sync.WaitGroup
}

// segment is one journal file and its index. Only the last segment of a
// writable journal has an open file.
type segment struct {
	name     string
	first    uint64 // no record in it has a smaller sequence number
	f        storedir.File
	size     int64
	seqs     []uint64 // index: sequence numbers of its records, increasing
	offs     []uint32 // and their offsets in the file
	lastTime int64    // Unix nanoseconds of its newest record, 0 if empty
}

// New returns a journal with opts, to be opened by a seen store as its
// write-ahead log: pass its OpenWAL as [seen.Options.WAL]. Closing the
// store closes the journal.
func New(opts Options) *Journal {
	j := &Journal{log: opts.Logger, now: opts.Now, maxAge: opts.MaxAge, maxSize: opts.MaxSize}
	if j.log == nil {
		j.log = slog.Default()
	}
	if j.now == nil {
		j.now = time.Now
	}
	return j
}

// OnCommit sets fn to be called by the store's committer for every
// record made durable, in sequence order, before the caller of
// CheckAndJournal is woken; payload is what that caller passed. fn must
// not block: the broker uses it to queue the event for its subscribers,
// so that they get events in journal order. Set it before the first
// record is journaled; the broker sets its own when it is built
// (vtp.New), so the journal can be opened before the broker exists.
func (j *Journal) OnCommit(fn func(seq uint64, payload any)) { j.onCommit = fn }

// OpenWAL is the store's [seen.OpenWAL]: it loads the journal in the
// store's directory, root, under the store's lock, and the upstream
// positions beside it.
func (j *Journal) OpenWAL(s *seen.Store, root *os.Root) (seen.WAL, error) {
	j.root, j.dir, j.store, j.stop = root, root.Name(), s, make(chan struct{})
	if err := j.init(); err != nil {
		return nil, err
	}
	p, err := loadPositions(root, j.dir, j.log)
	if err != nil {
		j.closeFiles()
		return nil, err
	}
	j.positions = p
	return wal{j}, nil
}

// wal is the journal as the store sees it: the methods of [seen.WAL],
// kept off Journal so that only the store calls them.
type wal struct{ j *Journal }

func (w wal) Recent(n int, fn func(seen.Key, time.Time)) error { return w.j.recent(n, fn) }
func (w wal) Append(entries []seen.Entry) error                { return w.j.appendBatch(entries) }
func (w wal) Appended(entries []seen.Entry)                    { w.j.appended(entries) }
func (w wal) Close() error                                     { return w.j.close() }

// init applies the defaults and loads the journal, recovering it as the
// package documentation describes.
func (j *Journal) init() error {
	if j.maxAge <= 0 {
		j.maxAge = DefaultAge
	}
	if j.maxSize <= 0 {
		j.maxSize = DefaultSize
	}
	j.segMax = min(max(j.maxSize/16, minSegment), maxSegment)
	if err := j.load(); err != nil {
		j.closeFiles()
		return err
	}
	return nil
}

// recent calls fn with the key and the time received of the newest n
// records, oldest first (WAL.Recent). The store calls it once, at Open,
// to restore seen records a crash lost; only then does the journal
// start trimming, so that it discards nothing the store may need.
func (j *Journal) recent(n int, fn func(key seen.Key, logged time.Time)) error {
	err := j.read(j.nthLast(n), math.MaxUint64, func(r Record) error {
		fn(r.Key, time.Unix(0, r.Received))
		return nil
	})
	if err != nil {
		return err
	}
	j.trim()
	j.wg.Go(j.trimLoop)
	j.wg.Go(func() { j.positions.flushLoop(j.stop) })
	return nil
}

// appendBatch writes the records of entries to the last segment and
// syncs them (WAL.Append), rotating to a new segment first if the last one is
// full. Their sequence numbers follow the last assigned, and are not
// used again in this run even if the write fails.
func (j *Journal) appendBatch(entries []seen.Entry) error {
	first := j.next
	j.next += uint64(len(entries))
	now := j.now().UnixNano()
	buf := j.buf[:0]
	ends := make([]int, len(entries))
	for i := range entries {
		buf = appendRecord(buf, first+uint64(i), now, &entries[i].Key, entries[i].Raw)
		ends[i] = len(buf)
	}
	if cap(buf) <= maxKeptBuf {
		j.buf = buf
	}
	if err := j.write(buf, first, ends); err != nil {
		return err
	}
	j.firstSeq = first
	return nil
}

// maxKeptBuf bounds the buffer Append keeps for the next batch: a burst
// of large events does not keep its memory for ever.
const maxKeptBuf = 1 << 20

// appended hands each record just appended to the OnCommit hook, in
// sequence order (WAL.Appended).
func (j *Journal) appended(entries []seen.Entry) {
	if j.onCommit == nil {
		return
	}
	for i := range entries {
		j.onCommit(j.firstSeq+uint64(i), entries[i].Payload)
	}
}

// close stops trimming, closes the segment being written and writes the
// upstream positions if they changed (WAL.Close); the store calls it
// from its own Close.
func (j *Journal) close() error {
	close(j.stop)
	j.wg.Wait()
	var errs []error
	if err := j.closeFiles(); err != nil {
		errs = append(errs, fmt.Errorf("seen: close journal in %s: %w", j.dir, err))
	}
	if err := j.positions.flush(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// JournalID returns the journal's identity, 32 hexadecimal digits.
func (j *Journal) JournalID() string { return j.idString() }

func (j *Journal) idString() string { return hex.EncodeToString(j.id[:]) }

// JournalLast returns the sequence number of the newest durable record,
// 0 if there is none.
func (j *Journal) JournalLast() uint64 { return j.last.Load() }

// CheckAndJournal is the store's CheckAndRecord (keep false) or
// CheckAndKeep (keep true) for the key of element that, when the event
// is new, also appends raw to the journal in the same group commit (see
// [seen.Store.CheckAndLog]): the journal record is written and synced
// first, then the seen record, and the call returns once both are
// written. payload is handed to the OnCommit hook with the record's
// sequence number.
//
// The journal record is the event's durable copy, key included: once it
// is synced the event is accepted, so the call returns first=true and no
// error even if the seen record's write then fails. If the journal
// write fails nothing is journaled and the call fails as a failed seen
// write does (keep=false: refused, the key forgotten, so a resend can
// succeed; keep=true: relayed without being journaled, and the error
// says so).
func (j *Journal) CheckAndJournal(element, raw []byte, keep bool, payload any) (first bool, err error) {
	return j.store.CheckAndLog(seen.Entry{Key: seen.KeyOf(element), Raw: raw, Payload: payload}, keep)
}

// write appends buf, the records of sequence numbers first on, each
// ending at the offset in ends, to the last segment and syncs them,
// rotating to a new segment first if the last one is full.
func (j *Journal) write(buf []byte, first uint64, ends []int) error {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	seg := j.lastSeg()
	if seg.size >= j.segMax && len(seg.seqs) > 0 {
		var err error
		if seg, err = j.rotate(first); err != nil {
			return err
		}
	}
	if seg.size+int64(len(buf)) > 1<<32-1 {
		return fmt.Errorf("journal segment %s would pass 4 GiB", seg.name)
	}
	if _, err := seg.f.WriteAt(buf, seg.size); err != nil {
		j.cutBack(seg)
		return fmt.Errorf("write journal %s: %w", seg.name, err)
	}
	if err := storedir.SyncData(seg.f); err != nil {
		j.cutBack(seg)
		return fmt.Errorf("sync journal %s: %w", seg.name, err)
	}
	now := j.now().UnixNano()
	j.mu.Lock()
	start := 0
	for i, end := range ends {
		seg.seqs = append(seg.seqs, first+uint64(i))
		seg.offs = append(seg.offs, uint32(seg.size+int64(start)))
		start = end
	}
	j.total += int64(len(buf))
	seg.size += int64(len(buf))
	seg.lastTime = now
	j.mu.Unlock()
	j.last.Store(first + uint64(len(ends)) - 1)
	j.trimLocked()
	return nil
}

// cutBack truncates a failed write so the next one starts at the same
// offset, and fsyncs the cut: after a failed fdatasync the disk may hold
// the records all the same, and their callers are told they are not
// recorded. Even if that fails, the next write overwrites the remains.
func (j *Journal) cutBack(seg *segment) {
	err := seg.f.Truncate(seg.size)
	if err == nil {
		err = seg.f.Sync()
	}
	if err != nil {
		j.log.Error("seen: could not cut back a failed journal write", "path", j.path(seg.name), "offset", seg.size, "err", err)
	}
}

func (j *Journal) path(name string) string { return j.dir + string(os.PathSeparator) + name }

func (j *Journal) lastSeg() *segment {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.segs[len(j.segs)-1]
}

// rotate starts a new, empty segment whose records will have sequence
// numbers from first on. Call with wmu held.
func (j *Journal) rotate(first uint64) (*segment, error) {
	name := segName(first)
	var f storedir.File
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
	seg := &segment{name: name, first: first, f: f, size: storedir.HeaderSize}
	j.mu.Lock()
	var old *segment
	if len(j.segs) > 0 {
		old = j.segs[len(j.segs)-1]
	}
	j.segs = append(j.segs, seg)
	j.total += storedir.HeaderSize
	j.mu.Unlock()
	if old != nil && old.f != nil {
		old.f.Close()
		old.f = nil
	}
	return seg, nil
}

// trim deletes the segments that only hold events older than MaxAge, and
// the oldest while the journal is over MaxSize, never the segment being
// written unless it only holds expired events (it is then replaced by an
// empty one, whose name keeps the sequence numbers growing). It runs
// after every write and once a minute.
func (j *Journal) trim() {
	j.wmu.Lock()
	defer j.wmu.Unlock()
	j.trimLocked()
}

func (j *Journal) trimLocked() {
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
		if !empty {
			if err := j.store.Sync(); err != nil {
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
func (j *Journal) trimLoop() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-j.stop:
			return
		case <-t.C:
			j.trim()
		}
	}
}

// closeFiles closes the segment being written.
func (j *Journal) closeFiles() error {
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

// Stats is what a journal holds.
type Stats struct {
	ID          string
	First, Last uint64 // sequence numbers of the oldest and newest records; 0 if empty
	Events      int
	Bytes       int64 // of all segment files
	Segments    int
}

// Stats describes the journal; a nil Journal (none) is all zero.
func (j *Journal) Stats() Stats {
	if j == nil {
		return Stats{}
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	st := Stats{ID: j.idString(), Bytes: j.total, Segments: len(j.segs)}
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
func (j *Journal) find(after uint64) (si, ei int) {
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
