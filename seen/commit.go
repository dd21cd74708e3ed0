package seen

import (
	"errors"
	"fmt"
	"time"

	"comet/internal/storedir"
)

// maxBatch caps the records written by one write+fsync. With maxLazy it
// bounds how much of the log's tail a crash can leave torn, which is how
// Open tells a torn tail from damage (see load.go). At 64 concurrent
// writers batches hold at most 64 records, so the cap only matters under
// bursts far above the design load.
const maxBatch = 1024

// With a WAL, a batch whose every record is logged has its seen records
// written without an fsync of their own: the WAL entries, durable just
// before, carry each key, and Open restores from the newest WAL entries
// any seen record a crash lost (recoverSeen). That saves one fsync per
// acknowledged event. The store fsyncs such records within lazySync of
// writing them, with the next batch that is not all logged, before the
// WAL discards an entry (Sync), and at Close; and no more than maxLazy
// are ever left unsynced, which bounds how many WAL entries Open must
// look at and how much of the log's end a crash can leave torn.
const (
	maxLazy  = maxBatch
	lazySync = time.Second
)

// The delays before writing again the records CheckAndKeep could not
// write: minRetry after a failure, doubling after each failed retry up to
// maxRetry. A successful write of any batch retries at once.
const (
	minRetry = time.Second
	maxRetry = 30 * time.Second
)

// batch is a group of records written and fsync'd together.
type batch struct {
	buf  []byte   // the encoded records
	keys []prefix // their keys, to forget if the write fails
	keep []bool   // per key: from CheckAndKeep, kept and retried if the write fails
	done chan struct{}
	err  error // set before done is closed

	// The WAL entries of the batch's new keys, made durable before buf
	// is written.
	wal    []Entry
	logged []bool // per key: in wal
	// walOK says the WAL made wal durable: its keys are accepted even if
	// err (the seen records' write) is not nil.
	walOK bool
}

// errFor is the outcome of the record of key p in b, once b is done: nil
// if it is durable, in the seen log or, logged, in the WAL.
func (b *batch) errFor(p prefix) error {
	if b.err == nil || !b.walOK {
		return b.err
	}
	for i := range b.keys {
		if b.keys[i] == p && b.logged[i] {
			return nil
		}
	}
	return b.err
}

// openBatch returns the batch new records join: the newest queued batch
// unless it is full. Its writer removes a batch from the queue before
// writing it, so a queued batch is always open. Call with s.mu held.
func (s *Store) openBatch() *batch {
	if n := len(s.queue); n > 0 && len(s.queue[n-1].keys) < maxBatch {
		return s.queue[n-1]
	}
	b := &batch{done: make(chan struct{})}
	s.queue = append(s.queue, b)
	return b
}

// commitLoop is the committer: it writes the oldest queued batch with one
// write and one fsync and wakes its callers. While it waits for the disk,
// new records gather in the next batch; that is the group commit. When a
// caller finds nothing being written, it writes its batch itself (see
// lead) and the committer only takes over what queues up meanwhile. When a
// retry is due it first writes up to maxBatch of the records kept in
// s.unsaved. After Close it writes what is queued and tries s.unsaved
// again, stopping at the first failure, then returns.
func (s *Store) commitLoop() {
	for {
		s.mu.Lock()
		for s.busy || (len(s.queue) == 0 && !s.retryDue && !s.syncDue && !s.closed) {
			s.wake.Wait()
		}
		s.busy = true
		switch {
		case s.syncDue:
			s.syncDue = false
			s.mu.Unlock()
			if synced, err := s.syncOwed(); synced || err != nil {
				// Its outcome is the last write's, for Err.
				s.mu.Lock()
				s.settle(err)
				s.mu.Unlock()
			}
		case s.retryDue:
			s.retryDue = false
			// Only the writer (busy) changes s.unsaved, so buf stays
			// valid while the lock is released.
			buf := s.unsaved[:min(len(s.unsaved), maxBatch*recordSize)]
			s.mu.Unlock()
			s.retry(buf)
		case len(s.queue) == 0: // closed, and nothing left to try
			s.busy = false
			s.mu.Unlock()
			return
		default:
			b := s.queue[0]
			s.queue[0] = nil
			s.queue = s.queue[1:]
			s.mu.Unlock()
			s.commit(b)
		}
		s.mu.Lock()
		s.busy = false
		s.mu.Unlock()
	}
}

// lead writes batch b on the caller's goroutine if nothing is being
// written and b is the only batch queued: at low load an event then
// reaches the disk without waking the committer and being woken by it,
// two hand-offs between threads. Otherwise it wakes the committer, which
// writes b after what is ahead of it. Call with s.mu held; lead releases
// it.
func (s *Store) lead(b *batch) {
	if s.busy || len(s.queue) != 1 || s.queue[0] != b || s.closed {
		s.wake.Signal()
		s.mu.Unlock()
		return
	}
	s.busy = true
	s.queue[0] = nil
	s.queue = s.queue[:0]
	s.mu.Unlock()
	// Deferred, so that a panic the caller recovers from does not leave
	// the store believing a write is still running.
	defer func() {
		s.mu.Lock()
		s.busy = false
		if len(s.queue) > 0 || s.retryDue || s.syncDue || s.closed {
			s.wake.Signal()
		}
		s.mu.Unlock()
	}()
	s.commit(b)
}

// commit writes batch b and wakes its callers.
func (s *Store) commit(b *batch) {
	// Settled deferred: a panic below, which would be a bug and which a
	// caller writing its own batch recovers from, must not leave the
	// batch's callers, and copies of its keys, waiting for ever.
	var err error
	lazy, written := false, false
	defer func() {
		if !written {
			err, b.walOK = errInterrupted, false
		}
		s.settleBatch(b, err, lazy)
	}()
	if len(b.wal) > 0 {
		// The WAL first: a crash after it leaves a key logged but not
		// yet seen, whose seen record Open restores from the WAL
		// (recoverSeen), never one seen but missing from the WAL. Once
		// the WAL holds a key it is accepted (see owe), so first the
		// seen log must be able to take its record later: any it owes
		// are written now.
		if err = s.readyToLog(len(b.wal)); err == nil {
			err = s.wal.Append(b.wal)
		}
		if err != nil {
			s.log.Error("seen: journal write failed; the batch is not recorded", "path", s.dir, "events", len(b.wal), "err", err)
		}
		b.walOK = err == nil
	}
	if err == nil {
		lazy, err = s.writeBatch(b.buf, len(b.wal) == len(b.keys))
		if err != nil && b.walOK {
			s.owe(b, err)
			lazy = true
		}
	}
	written = true
	if b.walOK {
		s.wal.Appended(b.wal)
	}
}

// errInterrupted settles a batch whose write did not return.
var errInterrupted = errors.New("seen: internal error while recording")

// settleBatch applies the outcome err of batch b's write to its keys and
// wakes its callers. The keys of logged records are kept when the WAL's
// Append succeeded (b.walOK), whatever err.
func (s *Store) settleBatch(b *batch, err error, lazy bool) {
	s.mu.Lock()
	for i := range b.keys {
		delete(s.pending, b.keys[i])
		switch {
		case err == nil || b.walOK && b.logged[i]:
		case b.keep[i]:
			// The event is being handled: keep its key so copies are
			// still recognised, and write its record later.
			s.unsaved = append(s.unsaved, b.buf[i*recordSize:(i+1)*recordSize]...)
		default:
			// Not durable, so not seen: a resend must be able to succeed
			// once the disk recovers.
			s.idx.del(&b.keys[i])
		}
	}
	s.settle(err)
	if lazy && s.lazyTimer == nil && !s.closed {
		s.lazyTimer = time.AfterFunc(lazySync, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.lazyTimer = nil
			s.syncDue = true
			s.wake.Signal()
		})
	}
	s.mu.Unlock()
	b.err = err
	close(b.done)
}

// readyToLog makes sure that the seen log can owe the records of n more
// logged keys should their write fail after the WAL's Append: no more
// than maxLazy are ever owed, and none from a failed write or sync
// (lazyBad), nor behind an unsynced directory (dirDirty), so that what is
// owed is always among the newest WAL entries, where Open looks
// (recoverSeen). If the log cannot be brought there the batch fails
// before anything is logged.
func (s *Store) readyToLog(n int) error {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	if !s.lazyBad && !s.dirDirty && len(s.lazyBuf)+n*recordSize <= maxLazy*recordSize {
		return nil
	}
	return s.writeSync(nil)
}

// owe notes that the seen records of b's logged keys, whose WAL entries
// are durable, could not be written (err): the keys are accepted all the
// same, since the WAL is their durable copy, and their records join
// those written without an fsync, marked to be written again before the
// next fsync of the log (within lazySync, with the next batch, before
// the WAL discards an entry, or at Close). Should the process die first,
// Open restores them from the WAL. The records of b's other keys fail
// as usual.
func (s *Store) owe(b *batch, err error) {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	if len(s.lazyBuf) == 0 {
		s.lazyOff = s.size
	}
	n := len(s.lazyBuf)
	for i, logged := range b.logged {
		if logged {
			s.lazyBuf = append(s.lazyBuf, b.buf[i*recordSize:(i+1)*recordSize]...)
		}
	}
	s.size += int64(len(s.lazyBuf) - n)
	s.lazyBad = true
	s.owed++
	s.log.Error("seen: seen log write failed after the journal write; the journaled events are accepted and their seen records will be written again",
		"path", s.path, "events", (len(s.lazyBuf)-n)/recordSize, "err", err)
}

// writeBatch writes a batch's seen records. logged says every one is in
// the WAL, already durable: then, unless maxLazy records would be left
// unsynced or a sync is owed for another reason, they are written
// without an fsync and lazy is true.
func (s *Store) writeBatch(buf []byte, logged bool) (lazy bool, err error) {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	lazy = logged && !s.dirDirty && !s.lazyBad && len(s.lazyBuf)+len(buf) <= maxLazy*recordSize
	if !lazy {
		return false, s.writeLocked(buf)
	}
	if _, err := s.file.WriteAt(buf, s.size); err != nil {
		s.cutBack()
		return false, err
	}
	if len(s.lazyBuf) == 0 {
		s.lazyOff = s.size
	}
	s.lazyBuf = append(s.lazyBuf, buf...)
	s.size += int64(len(buf))
	return true, nil
}

// syncOwed fsyncs the seen records written without one; synced says
// there was something to sync. If that fails they stay owed: the next
// batch is written with an fsync, after writing them again.
func (s *Store) syncOwed() (synced bool, err error) {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	if len(s.lazyBuf) == 0 {
		return false, nil
	}
	if err := s.syncLocked(); err != nil {
		s.log.Error("seen: cannot fsync the newest seen records; the journal holds them, and they are written again with the next event",
			"path", s.path, "records", len(s.lazyBuf)/recordSize, "err", err)
		return true, err
	}
	return true, nil
}

// syncLocked fsyncs the log, first writing again the records of an
// earlier failed write or sync. Call with fileMu held.
func (s *Store) syncLocked() error { return s.writeSync(nil) }

// retry writes buf, the first records of s.unsaved, and drops them from it
// if that succeeds.
func (s *Store) retry(buf []byte) {
	err := s.write(buf)
	s.mu.Lock()
	if err == nil {
		s.unsaved = s.unsaved[len(buf):]
		if len(s.unsaved) == 0 {
			s.unsaved = nil
		}
	}
	left := len(s.unsaved) / recordSize
	s.settle(err)
	s.mu.Unlock()
	switch {
	case err != nil:
		s.log.Error("seen: still cannot write events recorded in memory only",
			"path", s.path, "events", left, "err", err)
	case left == 0:
		s.log.Info("seen: events recorded in memory only are now written", "path", s.path)
	}
}

// settle notes a write's outcome and schedules the retry of s.unsaved: at
// once after a success (the disk works again), else after the backoff
// (except once closed: Close asks for the last try itself). Call with s.mu
// held.
func (s *Store) settle(err error) {
	s.lastErr = err
	if err == nil {
		s.backoff = 0
		s.retryDue = len(s.unsaved) > 0
		return
	}
	if len(s.unsaved) == 0 || s.retryTimer != nil || s.closed {
		return
	}
	s.backoff = min(max(2*s.backoff, minRetry), maxRetry)
	s.retryTimer = time.AfterFunc(s.backoff, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.retryTimer = nil
		s.retryDue = len(s.unsaved) > 0
		s.wake.Signal()
	})
}

// write appends buf at the end of the acknowledged log and fsyncs it. On
// failure it cuts the file back, so a partial write cannot shift the
// records that follow; even if that fails, the next write starts at the
// same offset and overwrites the remains.
func (s *Store) write(buf []byte) error {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	return s.writeLocked(buf)
}

// writeLocked is write with fileMu held.
func (s *Store) writeLocked(buf []byte) error {
	if err := s.writeSync(buf); err != nil {
		s.cutBack()
		return err
	}
	s.size += int64(len(buf))
	return nil
}

// cutBack truncates the log to its acknowledged size after a failed write.
func (s *Store) cutBack() {
	if err := s.file.Truncate(s.size); err != nil {
		s.log.Error("seen: could not cut back a failed write", "path", s.path, "offset", s.size, "err", err)
	}
}

// writeSync writes buf at the end of the log and fsyncs the log, first
// writing again the records of an earlier failed write or sync, so they
// are never behind newer ones that reached the disk. Call with fileMu
// held.
func (s *Store) writeSync(buf []byte) error {
	if s.lazyBad {
		if _, err := s.file.WriteAt(s.lazyBuf, s.lazyOff); err != nil {
			return err
		}
	}
	if len(buf) > 0 {
		if _, err := s.file.WriteAt(buf, s.size); err != nil {
			return err
		}
	}
	if err := storedir.SyncData(s.file); err != nil {
		s.lazyBad = len(s.lazyBuf) > 0
		return err
	}
	s.lazyBuf, s.lazyBad = s.lazyBuf[:0], false
	if s.dirDirty {
		// A compaction renamed the log but could not fsync the directory:
		// until it can, these records may vanish with the rename at a
		// power loss, so they are not acknowledged.
		if err := s.syncDir(); err != nil {
			return fmt.Errorf("sync directory %s: %w", s.dir, err)
		}
		s.dirDirty = false
	}
	return nil
}
