package seen

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"comet/internal/storedir"
)

// ErrClosed is returned by calls on a Store after Close.
var ErrClosed = errors.New("seen: store is closed")

// ErrLocked is wrapped by Open's error when another Store, in this process
// or another, has the directory open.
var ErrLocked = errors.New("in use by another comet process")

// Defaults for [Options].
const (
	DefaultExpiry       = 30 * 24 * time.Hour
	DefaultCompactEvery = 6 * time.Hour
)

// Options configures a Store. The zero value gives the defaults.
type Options struct {
	// Expiry is how long a key is remembered (default 30 days). The store
	// works in whole seconds, so it must be at least one second.
	Expiry time.Duration
	// CompactEvery is the interval between compactions (default 6 hours;
	// zero or negative means the default).
	CompactEvery time.Duration
	// Now returns the current time (default time.Now); tests inject a clock.
	Now func() time.Time
	// Logger receives warnings about recovered damage and compaction
	// reports (default slog.Default()).
	Logger *slog.Logger
	// WAL, if not nil, opens a write-ahead log the store leans on for
	// durability (see "Durability with a write-ahead log" in the package
	// documentation). Without one every record is fsync'd by the store.
	WAL OpenWAL
}

// logFile is what the Store needs of the log's *os.File; tests substitute
// one that fails like a full disk.
type logFile = storedir.File

// Store is an open seen-events store. It is safe for concurrent use.
type Store struct {
	dir, path string
	root      *os.Root // the directory: every file is opened through it
	log       *slog.Logger
	now       func() time.Time
	expiry    int64 // seconds
	every     time.Duration
	lock      *os.File

	// mu guards the index and the queue of records waiting to be written.
	// It is never held across I/O except a compaction's brief per-chunk
	// index lookups.
	mu      sync.Mutex
	wake    *sync.Cond // on mu: the queue is non-empty, a retry is due, or the store closed
	idx     *index
	pending map[prefix]*batch // keys whose record is being written
	queue   []*batch          // batches waiting for the committer, oldest first
	closed  bool
	// busy says a batch, a retry or a sync is being written, by the
	// committer or by a caller that found nothing being written (lead):
	// one writer at a time.
	busy bool

	// Records of CheckAndKeep's keys whose write failed, and the state of
	// their retry (see commit.go). Only the writer (busy) changes unsaved.
	unsaved    []byte
	lastErr    error // the last write's error, nil if it succeeded
	retryDue   bool  // unsaved is to be written now
	retryTimer *time.Timer
	backoff    time.Duration

	// fileMu is held by the committer while it writes and syncs a batch,
	// and by compaction while it carries over the last records and swaps
	// the file: the two never write concurrently.
	fileMu   sync.Mutex
	file     logFile
	size     int64 // bytes of acknowledged log; nothing beyond is trusted
	dirDirty bool  // a rename whose directory fsync failed: retry before the next ack

	// Seen records written but not yet fsync'd, which is allowed only
	// while every one of them is in the WAL, durable first (see
	// commit.go). lazyBuf holds their bytes, from offset lazyOff, so they
	// can be written again if a sync fails (lazyBad): after a failed
	// fsync the kernel may have dropped them. Guarded by fileMu.
	lazyOff int64
	lazyBuf []byte
	lazyBad bool
	// owed counts the batches whose seen records were owed after a failed
	// write (see owe): a compaction that copied the log while one was
	// owed may have copied what the failed write left, and starts again.
	owed int
	// On mu: the timer that makes the committer sync them (syncDue).
	lazyTimer *time.Timer
	syncDue   bool

	compactMu   sync.Mutex   // one compaction at a time
	compactedAt atomic.Int64 // Unix nanoseconds of the last compaction that finished, 0 if none
	stop        chan struct{}
	wg          sync.WaitGroup

	closeOnce sync.Once
	closeErr  error

	wal WAL // nil without Options.WAL
}

// Open opens the store in directory dir, the broker's --eventdb (see
// [DefaultDir]), creating it with mode 0700 if missing. It refuses an
// unsafe directory (a symbolic link; on Unix, one owned by another user or
// writable by group or others) and any store file that is a symbolic link,
// with an error that says how to fix it. It recovers from a crash (see the
// package documentation) and starts the committer and the periodic
// compaction. Errors name the path: not a directory, not writable, or
// already in use by another Store or process (wrapping [ErrLocked]).
func Open(dir string, opts Options) (*Store, error) {
	if opts.Expiry == 0 {
		opts.Expiry = DefaultExpiry
	}
	if opts.Expiry < time.Second {
		return nil, fmt.Errorf("seen: expiry %v is shorter than one second", opts.Expiry)
	}
	if opts.CompactEvery <= 0 {
		opts.CompactEvery = DefaultCompactEvery
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	start := time.Now()
	root, err := storedir.Open(dir)
	if err != nil {
		return nil, err
	}
	s := &Store{
		dir:     dir,
		path:    filepath.Join(dir, logName),
		root:    root,
		log:     opts.Logger,
		now:     opts.Now,
		expiry:  int64(opts.Expiry / time.Second),
		every:   opts.CompactEvery,
		pending: make(map[prefix]*batch),
		stop:    make(chan struct{}),
	}
	s.wake = sync.NewCond(&s.mu)
	opened := false
	defer func() {
		if !opened {
			if s.file != nil {
				s.file.Close()
			}
			if s.lock != nil {
				s.lock.Close()
			}
			root.Close()
		}
	}()
	if err := s.takeLock(); err != nil {
		return nil, err
	}
	if err := s.checkWritable(); err != nil {
		return nil, err
	}
	f, err := s.openFile(logName, os.O_RDWR|os.O_CREATE)
	if err != nil {
		return nil, fmt.Errorf("seen: open store %s: %w", dir, err)
	}
	s.file = f
	res, err := s.load(f)
	if err != nil {
		return nil, err
	}
	s.idx, s.size = res.idx, res.size
	if res.rewrite {
		// Damage in the middle: a copy is saved; rewrite now so the next
		// Open does not report it again. If that fails the store still
		// works from the old file and the next Open retries.
		if err := s.compact(true); err != nil {
			s.log.Error("seen: could not rewrite damaged log", "path", s.path, "err", err)
		}
	}
	if opts.WAL != nil {
		if s.wal, err = opts.WAL(s, root); err != nil {
			return nil, err
		}
		if err := s.recoverSeen(); err != nil {
			s.wal.Close()
			return nil, err
		}
	}
	s.wg.Go(s.commitLoop)
	s.wg.Go(func() { s.compactLoop(res.worthCompacting && !res.rewrite) })
	opened = true
	s.log.Info("seen: opened store", "path", s.path, "keys", s.idx.len(),
		"records", res.records, "expired", res.expired, "duration", time.Since(start))
	return s, nil
}

// takeLock opens the lock file and locks it. The file is made readable and
// writable by its owner only: flock needs no more than a read-only open, so
// in a directory others may enter (mode 0755, say) a lock file they could
// read would let them take the lock first and keep the broker from starting.
func (s *Store) takeLock() error {
	lockPath := filepath.Join(s.dir, lockName)
	f, err := s.openFile(lockName, os.O_RDWR|os.O_CREATE)
	if err == nil {
		s.lock = f
		var fi fs.FileInfo
		if fi, err = f.Stat(); err == nil && fi.Mode().Perm() != 0o600 {
			err = f.Chmod(0o600)
		}
	}
	if err == nil {
		err = lockFile(f)
	}
	switch {
	case errors.Is(err, errLockHeld):
		return fmt.Errorf("seen: %s is %w (lock held on %s); stop it or give this broker its own --eventdb",
			s.dir, ErrLocked, lockPath)
	case errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS):
		return fmt.Errorf("seen: store directory %s is not writable: %w", s.dir, err)
	case err != nil:
		return fmt.Errorf("seen: open store %s: %w", s.dir, err)
	}
	return nil
}

// checkWritable removes a compaction file left by a crash and proves the
// directory writable by creating that file again, so a read-only --eventdb
// fails at start-up rather than at the first compaction.
func (s *Store) checkWritable() error {
	tmp := filepath.Join(s.dir, tmpName)
	if fi, err := s.root.Lstat(tmpName); err == nil && !fi.Mode().IsRegular() {
		return fmt.Errorf("seen: open store %s: %w", s.dir, s.notRegular(tmpName, fi))
	}
	if err := s.root.Remove(tmpName); err == nil {
		s.log.Info("seen: removed unfinished compaction file", "path", tmp)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("seen: store directory %s is not writable: %w", s.dir, err)
	}
	f, err := s.openFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
	if err != nil {
		return fmt.Errorf("seen: store directory %s is not writable: %w", s.dir, err)
	}
	f.Close()
	if err := s.root.Remove(tmpName); err != nil {
		return fmt.Errorf("seen: store directory %s is not writable: %w", s.dir, err)
	}
	return nil
}

// CheckAndRecord reports whether key is seen for the first time and, if so,
// records it durably (fsync'd) before returning. Of concurrent calls with
// the same key exactly one gets first=true. A call for a key whose record is
// still being written by another caller waits for that outcome and returns
// first=false with that caller's error, if any.
//
// A non-nil error means the record could not be made durable (a full or
// failing disk, or [ErrClosed]); the key is then not remembered, so the
// event should be refused (nak "temporary storage failure") and a resend can
// succeed once the disk recovers. Use it for events whose sender can be
// refused and will send again: an author's.
func (s *Store) CheckAndRecord(key Key) (first bool, err error) {
	return s.check(key, false, nil)
}

// CheckAndKeep is CheckAndRecord for events that no one will send again,
// such as those from a remote broker, where refusing an event loses it. It
// makes the same atomic check and records the key the same way, and when
// the disk works it returns the same results. When the record cannot be
// written it still returns first=true to the one caller that saw the key
// first, with an error saying the key is not durable yet: the key stays
// in memory, so copies of the event are still recognised, and the store
// tries to write its record again in the background until it succeeds,
// while [Store.Err] reports it. The event should then be handled as new
// and the error logged. A call that finds the key being written by
// another caller waits for that outcome; if that caller's record failed
// and its key was forgotten (it came from CheckAndRecord), this call takes
// the key over. The only error with first=false is [ErrClosed].
func (s *Store) CheckAndKeep(key Key) (first bool, err error) {
	return s.check(key, true, nil)
}

// check is CheckAndRecord, or CheckAndKeep if keep is set; a new key with
// e not nil is also logged, if there is a WAL.
func (s *Store) check(key Key, keep bool, e *Entry) (first bool, err error) {
	p := prefixOf(&key)
	s.mu.Lock()
	for {
		if s.closed {
			s.mu.Unlock()
			return false, ErrClosed
		}
		b := s.pending[p]
		if b == nil {
			break
		}
		s.mu.Unlock()
		<-b.done
		if !keep {
			return false, recordErr(b.errFor(p))
		}
		s.mu.Lock() // look again: the key is known now, or was forgotten
	}
	now := s.unixNow()
	if ts, ok := s.idx.get(&p); ok && !s.expired(ts, now) {
		s.mu.Unlock()
		return false, nil
	}
	s.idx.put(&p, uint32(now))
	b := s.openBatch()
	b.buf = appendRecord(b.buf, &key, now)
	b.keys = append(b.keys, p)
	b.keep = append(b.keep, keep)
	logged := e != nil && s.wal != nil
	b.logged = append(b.logged, logged)
	if logged {
		b.wal = append(b.wal, *e)
	}
	s.pending[p] = b
	s.lead(b)
	<-b.done
	switch {
	case b.err == nil, logged && b.walOK:
		return true, nil
	case keep:
		return true, fmt.Errorf("seen: event kept in memory only, its record will be written when the disk allows: %w", b.err)
	}
	return false, recordErr(b.err)
}

func recordErr(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("seen: record event: %w", err)
}

// Err reports whether the store is healthy: nil if the last write
// succeeded and every key is durable; otherwise an error saying how many
// keys from CheckAndKeep are in memory only, waiting to be written, and
// wrapping the last write's error.
func (s *Store) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.errLocked()
}

func (s *Store) errLocked() error {
	n := len(s.unsaved) / recordSize
	switch {
	case n > 0 && s.lastErr != nil:
		return fmt.Errorf("seen: %d event(s) recorded in memory only, not yet written to %s: %w", n, s.path, s.lastErr)
	case n > 0:
		return fmt.Errorf("seen: %d event(s) recorded in memory only, not yet written to %s", n, s.path)
	case s.lastErr != nil:
		return fmt.Errorf("seen: the last write to %s failed: %w", s.path, s.lastErr)
	}
	return nil
}

// LastCompaction returns when the last compaction since Open finished,
// or the zero time if none has.
func (s *Store) LastCompaction() time.Time {
	if ns := s.compactedAt.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Len reports how many keys the store holds: those recorded since Open or
// the last compaction, and those loaded or kept then, including any that
// have expired since (they are dropped at the next compaction but already
// count as unseen).
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.idx.len()
}

// Close stops the compaction timer (abandoning a compaction in progress,
// which leaves the log as it was), writes and fsyncs every record already
// queued, tries once more to write those that CheckAndKeep could not,
// closes the log and releases the lock. If some keys are still not written
// the error says how many: they are lost, so after a restart a copy of
// their events would be taken for new. Calls after the first return the
// first one's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	s.mu.Lock()
	s.closed = true
	if s.retryTimer != nil {
		s.retryTimer.Stop()
		s.retryTimer = nil
	}
	if s.lazyTimer != nil {
		s.lazyTimer.Stop()
		s.lazyTimer = nil
	}
	s.retryDue = len(s.unsaved) > 0 // the last try
	s.wake.Broadcast()
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	var errs []error
	if s.wal != nil {
		// Before the log is closed: the WAL may call Sync until then.
		if err := s.wal.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	s.compactMu.Lock() // wait for a compaction in progress to abandon
	defer s.compactMu.Unlock()
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	s.mu.Lock()
	if len(s.unsaved) > 0 {
		errs = append(errs, s.errLocked())
	}
	s.mu.Unlock()
	if s.dirDirty {
		if err := s.syncDir(); err != nil {
			errs = append(errs, fmt.Errorf("seen: close %s: sync directory: %w", s.path, err))
		}
	}
	if err := s.syncLocked(); err != nil {
		errs = append(errs, fmt.Errorf("seen: close %s: %w", s.path, err))
	}
	if err := s.file.Close(); err != nil {
		errs = append(errs, fmt.Errorf("seen: close %s: %w", s.path, err))
	}
	if err := s.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("seen: release lock in %s: %w", s.dir, err))
	}
	if err := s.root.Close(); err != nil {
		errs = append(errs, fmt.Errorf("seen: close %s: %w", s.dir, err))
	}
	return errors.Join(errs...)
}

// unixNow is the clock in the record's range (Unix seconds 1..2^32-1).
func (s *Store) unixNow() int64 {
	return min(max(s.now().Unix(), 1), math.MaxUint32)
}

// expired reports whether a key recorded at ts is forgotten at now.
func (s *Store) expired(ts uint32, now int64) bool {
	return now-int64(ts) >= s.expiry
}
