package seen

import (
	"fmt"
	"math"
	"os"
	"time"
)

// A WAL is a write-ahead log that the store may lean on for the
// durability of its records (see "Durability with a write-ahead log" in
// the package documentation). The store calls its methods from one
// goroutine at a time, in the order below.
type WAL interface {
	// Recent calls fn, oldest first, with the key of each of the newest
	// n entries the log holds and the time it was logged. Open calls it
	// once, before the store takes any key; the log must discard no
	// entry before then.
	Recent(n int, fn func(key Key, logged time.Time)) error
	// Append makes entries durable, in order, and returns nil only once
	// they are: once it has, the store may write their seen records
	// without an fsync of their own. On error nothing of entries may be
	// read back later as logged, unless the log cannot tell (see the
	// package documentation).
	Append(entries []Entry) error
	// Appended is called after a successful Append once the entries'
	// seen records are written (or owed), before their callers are
	// woken. It must not block.
	Appended(entries []Entry)
	// Close is called by Store.Close once nothing more is appended.
	Close() error
}

// An Entry is what a caller of [Store.CheckAndLog] asks the WAL to log
// with a new key.
type Entry struct {
	Key     Key
	Raw     []byte // the bytes to log; valid until Appended returns
	Payload any    // for the WAL's own use: the store does not look at it
}

// OpenWAL opens the WAL of the store s in the store's directory, root,
// once s holds the directory's lock. It may call s.Sync, which the WAL
// must do before it discards any entry.
type OpenWAL func(s *Store, root *os.Root) (WAL, error)

// CheckAndLog is CheckAndRecord (keep false) or CheckAndKeep (keep
// true) for e.Key that, when the key is new and the store has a WAL,
// also has the WAL log e in the same group commit: the WAL's Append
// first, then the seen record, and the call returns once both are
// written. With no WAL it is CheckAndRecord or CheckAndKeep.
//
// Once Append has succeeded the key is accepted, so the call returns
// first=true and no error even if the seen record's write then fails;
// that record is written again later, and Open restores it from the WAL
// if the process dies first. Before Append, the store writes any seen
// record still owed; if it cannot, or if Append fails, nothing is
// logged and the call fails as a failed seen write does (keep=false:
// refused, the key forgotten, so a resend can succeed; keep=true:
// handled as new without being logged, and the error says so).
func (s *Store) CheckAndLog(e Entry, keep bool) (first bool, err error) {
	return s.check(e.Key, keep, &e)
}

// Sync fsyncs the seen records written without an fsync of their own
// because the WAL holds them. A WAL calls it before it discards any
// entry; if it fails, the entries must be kept.
func (s *Store) Sync() error {
	_, err := s.syncOwed()
	return err
}

// recoverSeen restores the seen records of logged keys that a crash kept
// from being written. A batch's WAL entries are durable before its seen
// records are written, so a crash between the two leaves keys in the
// WAL that the seen log does not know; without this a copy of one (a
// remote broker replaying it, say) would be taken for new and logged
// and relayed a second time. Only the last batch, and the at most
// maxLazy seen records written before it without an fsync, can be in
// that state, so only the newest maxBatch+maxLazy entries are looked at.
// Call from Open, before the committer starts.
func (s *Store) recoverSeen() error {
	now := s.unixNow()
	var buf []byte
	n := 0
	err := s.wal.Recent(maxBatch+maxLazy, func(key Key, logged time.Time) {
		unix := min(max(logged.Unix(), 1), math.MaxUint32)
		if s.expired(uint32(unix), now) {
			return
		}
		p := prefixOf(&key)
		if _, ok := s.idx.get(&p); ok {
			return
		}
		s.idx.put(&p, uint32(unix))
		buf = appendRecord(buf, &key, unix)
		n++
	})
	if err != nil {
		return fmt.Errorf("seen: read the write-ahead log to recover: %w", err)
	}
	if n == 0 {
		return nil
	}
	if err := s.write(buf); err != nil {
		return fmt.Errorf("seen: restore seen records from the write-ahead log: %w", err)
	}
	s.log.Warn("seen: restored the seen records of journaled events a crash kept from being written",
		"path", s.path, "events", n)
	return nil
}
