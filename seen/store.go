package seen

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ErrClosed is returned by calls on a Store after Close.
var ErrClosed = errors.New("seen: store is closed")

// ErrLocked is wrapped by Open's error when another Store, in this process
// or another, has the directory open.
var ErrLocked = errors.New("seen: store is already in use")

// Defaults for [Options]; SPEC §4.
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
}

// logFile is what the Store needs of the log's *os.File; tests substitute
// one that fails like a full disk.
type logFile interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Truncate(size int64) error
	Close() error
}

// Store is an open seen-events store. It is safe for concurrent use.
type Store struct {
	dir, path string
	log       *slog.Logger
	now       func() time.Time
	expiry    int64 // seconds
	every     time.Duration
	lock      *os.File

	// mu guards the index and the queue of records waiting to be written.
	// It is never held across I/O except a compaction's brief per-chunk
	// index lookups.
	mu      sync.Mutex
	wake    *sync.Cond // on mu: the queue is non-empty or the store closed
	idx     *index
	pending map[prefix]*batch // keys whose record is not yet durable
	queue   []*batch          // batches waiting for the committer, oldest first
	closed  bool

	// fileMu is held by the committer while it writes and syncs a batch,
	// and by compaction while it carries over the last records and swaps
	// the file: the two never write concurrently.
	fileMu   sync.Mutex
	file     logFile
	size     int64 // bytes of acknowledged log; nothing beyond is trusted
	dirDirty bool  // a rename whose directory fsync failed: retry before the next ack

	compactMu sync.Mutex // one compaction at a time
	stop      chan struct{}
	wg        sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
}

// Open opens (creating if needed) the store in directory dir, the broker's
// --eventdb. It recovers from a crash (see the package documentation) and
// starts the committer and the periodic compaction. Errors name the path:
// not a directory, not writable, or already in use by another Store or
// process (wrapping [ErrLocked]).
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
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	lockPath := filepath.Join(dir, lockName)
	lock, err := lockFile(lockPath)
	if errors.Is(err, errLockHeld) {
		return nil, fmt.Errorf("%w: %s (lock on %s is held)", ErrLocked, dir, lockPath)
	}
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
		return nil, fmt.Errorf("seen: store directory %s is not writable: %w", dir, err)
	}
	if err != nil {
		return nil, fmt.Errorf("seen: open store %s: %w", dir, err)
	}
	s := &Store{
		dir:     dir,
		path:    filepath.Join(dir, logName),
		log:     opts.Logger,
		now:     opts.Now,
		expiry:  int64(opts.Expiry / time.Second),
		every:   opts.CompactEvery,
		lock:    lock,
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
			lock.Close()
		}
	}()
	if err := s.checkWritable(); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE, 0o644)
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
	s.wg.Go(s.commitLoop)
	s.wg.Go(func() { s.compactLoop(res.worthCompacting && !res.rewrite) })
	opened = true
	s.log.Info("seen: opened store", "path", s.path, "keys", s.idx.len(),
		"records", res.records, "expired", res.expired, "duration", time.Since(start))
	return s, nil
}

// prepareDir makes sure dir is a directory, creating it if missing.
func prepareDir(dir string) error {
	fi, err := os.Stat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("seen: create store directory %s: %w", dir, err)
		}
		// Make the new directory's entry durable, or a power loss could
		// take it and every key recorded in it.
		if err := syncDir(filepath.Dir(filepath.Clean(dir))); err != nil {
			return fmt.Errorf("seen: create store directory %s: %w", dir, err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("seen: open store %s: %w", dir, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("seen: open store %s: not a directory", dir)
	}
	return nil
}

// checkWritable removes a compaction file left by a crash and proves the
// directory writable by creating that file again, so a read-only --eventdb
// fails at start-up rather than at the first compaction.
func (s *Store) checkWritable() error {
	tmp := filepath.Join(s.dir, tmpName)
	if err := os.Remove(tmp); err == nil {
		s.log.Info("seen: removed unfinished compaction file", "path", tmp)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("seen: store directory %s is not writable: %w", s.dir, err)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("seen: store directory %s is not writable: %w", s.dir, err)
	}
	f.Close()
	if err := os.Remove(tmp); err != nil {
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
// succeed once the disk recovers.
func (s *Store) CheckAndRecord(key Key) (first bool, err error) {
	p := prefixOf(&key)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return false, ErrClosed
	}
	if b := s.pending[p]; b != nil {
		s.mu.Unlock()
		<-b.done
		return false, b.err
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
	s.pending[p] = b
	s.wake.Signal()
	s.mu.Unlock()
	<-b.done
	if b.err != nil {
		return false, b.err
	}
	return true, nil
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
// queued, closes the log and releases the lock. Calls after the first
// return the first one's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.close() })
	return s.closeErr
}

func (s *Store) close() error {
	s.mu.Lock()
	s.closed = true
	s.wake.Broadcast()
	s.mu.Unlock()
	close(s.stop)
	s.wg.Wait()
	s.compactMu.Lock() // wait for a Compact call in progress to abandon
	defer s.compactMu.Unlock()
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	var errs []error
	if s.dirDirty {
		if err := syncDir(s.dir); err != nil {
			errs = append(errs, fmt.Errorf("seen: close %s: sync directory: %w", s.path, err))
		}
	}
	if err := s.file.Sync(); err != nil {
		errs = append(errs, fmt.Errorf("seen: close %s: %w", s.path, err))
	}
	if err := s.file.Close(); err != nil {
		errs = append(errs, fmt.Errorf("seen: close %s: %w", s.path, err))
	}
	if err := s.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("seen: release lock in %s: %w", s.dir, err))
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

// syncDir fsyncs a directory so a file created or renamed in it survives
// a power loss.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
