package vtp

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"comet/voevent"
)

// A spool directory is a local author: every file NAME.xml that appears in
// it is one submission, taken through exactly the path of an event sent to
// the author port. Writers create a file under another name (a dotfile, or
// NAME.tmp) and rename it in when it is complete, so a half-written file is
// never read.
//
// What happens to a file is its verdict: accepted or duplicate, it is
// removed, which happens only after the seen store has made the event
// durable; refused, it is moved to rejected/ with NAME.reason beside it. A
// file is never removed before its event is durable, so a broker killed at
// any moment finds the file again when it restarts; if the event had
// already been recorded, the file is then a duplicate and is removed
// without being relayed a second time.
//
// Whoever may write to the spool (a bridge's group) must not be able to
// make the broker read or write anything else, so the spool never follows
// a symbolic link: every file is reached through the directory opened at
// start (os.Root, which cannot leave it), a link in place of a submission
// is refused as one, and a link in place of rejected/ is not written
// through: refused files then stay where they are.

// RejectedDir is the subdirectory of a spool that refused files move to.
const RejectedDir = "rejected"

// Spool tuning. spoolBatch files are read and checked concurrently, so
// their seen-store records share one fsync, then passed on in name order
// (with a journal, subscribers get them in the order they became durable).
// spoolScanMax bounds the names held from one directory scan, so a backlog
// of any size costs bounded memory: the rest are found by the next scan.
const (
	spoolBatch   = 16
	spoolScanMax = 4096
)

// How often a spool directory is scanned when nothing wakes it: without
// inotify this is how soon a new file is noticed; with it, a safety net.
// After a temporary failure (the seen store cannot write) the files left
// are retried spoolRetry later.
const (
	spoolPoll        = time.Second
	spoolPollWatched = 30 * time.Second
	spoolRetry       = time.Second
)

// SpoolInfo is one spool directory's figures, for Snapshot.
type SpoolInfo struct {
	Dir        string `json:"dir"`
	Watching   bool   `json:"inotify"` // new files are noticed by inotify, not only by polling
	Accepted   int64  `json:"accepted"`
	Duplicates int64  `json:"duplicates"`
	Rejected   int64  `json:"rejected"`
	Errors     int64  `json:"errors"` // files that could not be handled, left or retried
}

// Spool is one spool directory, served by Serve.
type Spool struct {
	b    *Broker
	dir  string
	root *os.Root // dir, opened once: nothing is reached outside it
	log  *slog.Logger
	warn warnings
	src  source // a local author, held to the author port's rules

	watching                               atomic.Bool
	accepted, duplicates, rejected, failed atomic.Int64
	retryLater                             atomic.Bool // a temporary failure left files to retry
	poll                                   bool        // poll even where inotify exists (tests)
}

func (s *Spool) info() SpoolInfo {
	return SpoolInfo{Dir: s.dir, Watching: s.watching.Load(), Accepted: s.accepted.Load(),
		Duplicates: s.duplicates.Load(), Rejected: s.rejected.Load(), Errors: s.failed.Load()}
}

// spoolReason is the reason a refused file's NAME.reason gives: the
// verdict's, cut as an author's nak cuts it, so a reason file stays
// under 1 KiB whatever the event or the validator says.
func spoolReason(v verdict) string {
	return strings.TrimPrefix(clipEscaped("Event rejected: "+v.reason, maxNakReason), "Event rejected: ")
}

// OpenSpool prepares the spool directory dir (see checkSpoolDir) and its
// rejected/ subdirectory, so that a directory that cannot be used is an
// error when the broker starts rather than later. A symbolic link in
// place of rejected/ is only a warning: anyone who may write to the spool
// can plant one, and the spool serves all the same.
func (b *Broker) OpenSpool(dir string) (*Spool, error) {
	if err := checkSpoolDir(dir, b.log); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{b: b, dir: dir, root: root, log: b.log.With("spool", dir)}
	s.src = source{kind: authorSource, name: "spool " + dir, warn: &s.warn}
	rej, err := s.openRejected()
	switch {
	case errors.Is(err, errRejectedLink):
		s.log.Warn("spool: " + err.Error())
	case err != nil:
		root.Close()
		return nil, fmt.Errorf("spool %s: %w", dir, err)
	default:
		rej.Close()
	}
	return s, nil
}

// errRejectedLink is why refused files stay in the spool while rejected/
// is a symbolic link.
var errRejectedLink = errors.New(RejectedDir + " is a symbolic link, which the spool does not follow: " +
	"refused files stay in the spool until it is replaced by a directory")

// openRejected opens rejected/, creating it if it is missing (removed by
// hand), and makes sure it is a directory of the spool's own, not a
// symbolic link, even one put in its place while it was being opened.
func (s *Spool) openRejected() (*os.Root, error) {
	fi, err := s.root.Lstat(RejectedDir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := s.root.Mkdir(RejectedDir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		fi, err = s.root.Lstat(RejectedDir)
	}
	switch {
	case err != nil:
		return nil, err
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, errRejectedLink
	case !fi.IsDir():
		return nil, fmt.Errorf("%s is not a directory", RejectedDir)
	}
	rej, err := s.root.OpenRoot(RejectedDir)
	if err != nil {
		return nil, err
	}
	if opened, err := rej.Stat("."); err != nil || !os.SameFile(fi, opened) {
		rej.Close()
		return nil, errRejectedLink // replaced after Lstat
	}
	return rej, nil
}

// Serve takes submissions from the spool until Shutdown. It scans the
// directory when it starts, then whenever a file is renamed in or closed
// after writing (inotify, where the system has it), and at least every
// second where it does not. A batch in progress when Shutdown comes is
// finished first. Shutdown does not wait for Serve: wait for it to return
// before closing the seen store.
func (s *Spool) Serve() error {
	b := s.b
	b.mu.Lock()
	if b.closing.Load() {
		b.mu.Unlock()
		return ErrClosed
	}
	b.reporters = append(b.reporters, s)
	b.mu.Unlock()
	defer s.root.Close()

	wake := make(chan struct{}, 1)
	var w io.Closer
	err := errors.New("polling was asked for")
	if !s.poll {
		w, err = watchDir(s.dir, wake)
	}
	switch {
	case err != nil && !watchSupported:
		s.log.Info("spool: no inotify on this system: polling the directory every second")
	case err != nil:
		s.log.Warn("spool: cannot watch the directory, polling it every second instead", "err", err)
	default:
		s.watching.Store(true)
		defer w.Close()
	}
	s.log.Info("spool ready", "inotify", w != nil)
	timer := time.NewTimer(0) // the first scan, at once
	defer timer.Stop()
	for {
		select {
		case <-b.stopCtx.Done():
			return ErrClosed
		case <-wake:
		case <-timer.C:
		}
		for s.scan() && b.stopCtx.Err() == nil { // more names than one scan holds
		}
		every := spoolPoll
		switch {
		case s.retryLater.Swap(false):
			every = spoolRetry
		case w != nil:
			every = spoolPollWatched
		}
		timer.Stop()
		timer.Reset(every)
	}
}

// scan handles the submissions found in the directory now, oldest name
// first, and reports whether it should be called again at once: there
// were more names than one scan holds, and it made progress. It stops
// early after a temporary failure, which the next files would meet too.
func (s *Spool) scan() (again bool) {
	names, more, err := listSpool(s.root, spoolScanMax)
	if err != nil {
		s.failed.Add(1)
		s.warn.warn(s.log, "spool: cannot read the directory", "err", err)
		s.retryLater.Store(true)
		return false
	}
	progress := false
	for len(names) > 0 && s.b.stopCtx.Err() == nil {
		n := min(len(names), spoolBatch)
		settled, temporary := s.batch(names[:n])
		progress = progress || settled > 0
		if temporary {
			return false
		}
		names = names[n:]
	}
	return more && progress
}

// listSpool returns the names in dir that may be submissions, sorted,
// at most max of them (the first in order), and whether there were more.
func listSpool(dir *os.Root, max int) (names []string, more bool, err error) {
	d, err := dir.Open(".")
	if err != nil {
		return nil, false, err
	}
	defer d.Close()
	for {
		chunk, err := d.Readdirnames(1024)
		for _, n := range chunk {
			if isSubmissionName(n) {
				names = append(names, n)
			}
		}
		if len(names) > 2*max {
			slices.Sort(names)
			names, more = names[:max], true
		}
		if errors.Is(err, io.EOF) || (err == nil && len(chunk) == 0) {
			break
		}
		if err != nil {
			return nil, false, err
		}
	}
	slices.Sort(names)
	if len(names) > max {
		names, more = names[:max], true
	}
	return names, more, nil
}

// isSubmissionName says whether a file name is a submission: it ends in
// .xml and does not start with a dot. Everything else (a writer's
// temporary name, our rejected/ directory) is left alone.
func isSubmissionName(n string) bool {
	return strings.HasSuffix(n, ".xml") && !strings.HasPrefix(n, ".") && len(n) > len(".xml")
}

// pending is one file of a batch: its contents, then its verdict.
type pending struct {
	name    string
	verdict verdict
	skip    bool // vanished, or already dealt with
}

// batch reads and judges names concurrently, then, in name order, passes
// each accepted event on and settles each file. It returns how many files
// it removed or moved, and whether one met a temporary failure.
func (s *Spool) batch(names []string) (settled int, temporary bool) {
	s.waitForSubscribers()
	files := make([]pending, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		p := &files[i]
		p.name = n
		wg.Go(func() {
			log := s.log.With("file", voevent.Clip(n))
			raw, refusal, ok := s.read(n, log)
			switch {
			case !ok:
				p.skip = true
			case refusal != "":
				p.verdict = verdict{kind: verdictRefused, reason: refusal}
			default:
				p.verdict = s.b.submit(raw, &s.src, log)
			}
		})
	}
	wg.Wait()
	for i := range files {
		p := &files[i]
		if p.skip {
			continue
		}
		if p.verdict.kind == verdictAccepted {
			s.b.pass(p.verdict, &s.src)
		}
		if s.settle(p) {
			settled++
		}
		temporary = temporary || p.verdict.kind == verdictFailed
	}
	return settled, temporary
}

// read opens a submission without following a symbolic link and returns
// its contents, or why it is refused without being judged, or ok false
// if it has vanished or cannot be read now.
func (s *Spool) read(name string, log *slog.Logger) (raw []byte, refusal string, ok bool) {
	fi, err := s.root.Lstat(name)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.failed.Add(1)
			s.warn.warn(log, "spool: cannot read the file: left in place", "err", err)
		}
		return nil, "", false
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		s.warn.warn(log, "spool: a symbolic link is not followed: moved to "+RejectedDir)
		return nil, "a symbolic link: the spool does not follow links; write the event itself", true
	}
	if !fi.Mode().IsRegular() {
		return nil, "not a regular file", true
	}
	f, err := openNoFollow(s.root, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", false
		}
		s.failed.Add(1)
		s.warn.warn(log, "spool: cannot open the file: left in place", "err", err)
		return nil, "", false
	}
	defer f.Close()
	opened, err := f.Stat()
	if err == nil && !os.SameFile(fi, opened) {
		// Replaced after Lstat, maybe by a link os.Root followed within
		// the spool: what was opened is not read, and the next scan
		// judges what is there now.
		s.retryLater.Store(true)
		s.warn.warn(log, "spool: the file was replaced while being opened: left in place, to look at again")
		return nil, "", false
	}
	fi = opened
	max := int64(s.b.cfg.MaxFrame)
	if err == nil && fi.Size() > max {
		s.b.stats.oversized.Add(1)
		return nil, fmt.Sprintf("event of %d bytes exceeds this broker's limit of %d bytes", fi.Size(), max), true
	}
	if err == nil {
		raw, err = io.ReadAll(io.LimitReader(f, max+1))
	}
	if err != nil {
		s.failed.Add(1)
		s.warn.warn(log, "spool: cannot read the file: left in place", "err", err)
		return nil, "", false
	}
	if int64(len(raw)) > max { // grew after Stat
		s.b.stats.oversized.Add(1)
		return nil, fmt.Sprintf("event exceeds this broker's limit of %d bytes", max), true
	}
	return raw, "", true
}

// settle removes an acknowledged file, moves a refused one to rejected/
// with its reason, and leaves one refused for a temporary failure. It
// reports whether the file left the spool.
func (s *Spool) settle(p *pending) bool {
	log := s.log.With("file", voevent.Clip(p.name))
	v := p.verdict
	switch {
	case v.kind == verdictAccepted || v.kind == verdictDuplicate:
		if v.kind == verdictAccepted {
			s.accepted.Add(1)
		} else {
			s.duplicates.Add(1)
		}
		if err := s.root.Remove(p.name); err != nil && !errors.Is(err, fs.ErrNotExist) {
			s.failed.Add(1)
			s.warn.warn(log, "spool: cannot remove a file whose event is recorded: it will be acknowledged as a duplicate next time", "err", err)
			return false
		}
		return true
	case v.kind == verdictFailed:
		s.failed.Add(1)
		s.retryLater.Store(true)
		s.warn.warn(log, "spool: left in place, to retry", "reason", v.reason)
		return false
	}
	reason := spoolReason(v)
	if err := s.reject(p.name, reason); err != nil {
		s.failed.Add(1)
		if errors.Is(err, errRejectedLink) { // nothing to retry before someone replaces it
			s.warn.warn(log, "spool: refused file left in place: "+err.Error(), "reason", voevent.Clip(reason))
			return false
		}
		s.retryLater.Store(true)
		s.warn.warn(log, "spool: cannot move a refused file to "+RejectedDir, "err", err)
		return false
	}
	s.rejected.Add(1)
	log.Info("spool: file refused: moved to "+RejectedDir, "reason", voevent.Clip(reason))
	return true
}

// reject writes rejected/NAME.reason, then moves NAME beside it. Killed in
// between, the file is still in the spool and is judged again.
//
// Nothing is written through a link: the reason goes to a new file
// (O_EXCL, which never follows one), renamed over whatever NAME.reason
// was; renaming replaces a link rather than following it, and so does
// the move of NAME.
func (s *Spool) reject(name, reason string) error {
	rej, err := s.openRejected()
	if err != nil {
		return err
	}
	defer rej.Close()
	tmpName := ".reason-" + strconv.FormatUint(rand.Uint64(), 36)
	tmp, err := rej.OpenFile(tmpName, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(voevent.OneLine(reason) + "\n")
	if e := tmp.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = rej.Rename(tmpName, name+".reason")
	}
	if err != nil {
		rej.Remove(tmpName)
		return err
	}
	// os.Root resolves rejected/ again here and would follow a link put
	// in its place since openRejected, but only to somewhere inside the
	// spool: it refuses any path that leads out of it.
	return s.root.Rename(name, RejectedDir+"/"+name)
}

// waitForSubscribers holds the next batch back, for at most a second,
// while a subscriber has over half its queue waiting: a spool can deliver
// a backlog far faster than a distant subscriber reads, and a subscriber
// whose queue fills is cut off.
func (s *Spool) waitForSubscribers() {
	deadline := time.Now().Add(time.Second)
	for s.b.subscriberBehind() && time.Now().Before(deadline) && s.b.stopCtx.Err() == nil {
		time.Sleep(5 * time.Millisecond)
	}
}

// subscriberBehind reports whether a subscriber's queue is over half full.
func (b *Broker) subscriberBehind() bool {
	for _, sub := range b.subscribers() {
		sub.q.mu.Lock()
		n, bytes := len(sub.q.items), sub.q.bytes
		sub.q.mu.Unlock()
		if 2*n > sub.q.maxItems || 2*bytes > sub.q.maxBytes {
			return true
		}
	}
	return false
}

// report adds the spool's figures to a Snapshot.
func (s *Spool) report(snap *Snapshot) {
	snap.Spools = append(snap.Spools, s.info())
}
