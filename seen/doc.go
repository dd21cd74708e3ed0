// Package seen is the broker's memory of which VOEvents it has already
// handled, so that an event relayed around a loop of brokers is handled
// once.
//
// An event is identified by a [Key], the SHA-256 of the bytes of its
// <VOEvent>…</VOEvent> element. [Store.CheckAndRecord] answers "first
// time?" and, if so, records the key durably before returning, as one
// atomic step: of two simultaneous copies of an event exactly one is
// accepted. [Store.CheckAndKeep] does the same for events that cannot be
// refused and sent again (see "Durability and group commit"), and
// [Store.CheckAndLog] either of them with an entry for a write-ahead
// log (see "Durability with a write-ahead log"). Keys are forgotten
// after [Options.Expiry] (30 days by default).
//
// What is in it: [Open] and [Options]; the checks above and [Store.Err],
// [Store.Len], [Store.LastCompaction], [Store.Close]; [Key] and [KeyOf];
// the write-ahead-log seam, [WAL], [Entry], [OpenWAL] and [Store.Sync];
// [DefaultDir]. Its limits: one process owns a store directory at a time
// (a lock; the store does not open off Unix), keys are kept in memory
// (about 22 to 26 bytes each, see "Memory"), and a key is remembered for
// Options.Expiry and no longer.
//
// # Why SHA-256
//
// VTP 2.0 suggests SHA-1 and Comet uses it. SHA-1 has practical collisions
// (SHAttered, 2017; chosen-prefix collisions since 2020), and a store that
// treats "same hash" as "same event" turns a collision into a way to make the
// network silently drop an alert. SHA-256 has no known collisions and costs
// about 1 µs per 2 kB event, nothing next to parsing or an fsync.
//
// In memory only the first 128 bits of the hash are kept (see "Memory"):
// suppressing an event someone else writes then still needs a second
// preimage (2^128 work); two events that collide in 128 bits can be crafted
// with about 2^64 work, but only by someone who writes both, who can
// suppress his own event more simply by not sending it. The log on disk
// keeps all 256 bits.
//
// # On disk
//
// The store is one directory (the broker's --eventdb; [DefaultDir] when
// none is given) holding:
//
//	seen.lock                 flock(2)ed while a Store is open: one owner at a time
//	seen.log                  the append-only log
//	seen.log.compact.tmp      a compaction in progress (removed at Open)
//	seen.log.corrupt-<unix>   a copy of a log found damaged, kept for inspection
//
// seen.log is a 16-byte header (magic "COMETSN\x00", big-endian uint32
// version 1, CRC-32C of those 12 bytes) followed by fixed-size 44-byte
// records: the 32-byte key, the time it was recorded as big-endian int64
// Unix seconds, and the CRC-32C (Castagnoli) of those 40 bytes. Fixed-size
// records with their own checksum make recovery simple: a record either
// checks or it does not, and a damaged one does not hide the ones after it.
// encoding/gob is not used: a second encoder appending after a restart makes
// the file unreadable ("gob: duplicate type received") and a torn tail
// cannot be resynchronised.
//
// # Who may touch the store
//
// Another user who could write in the store directory could plant a
// symbolic link named seen.log and have the broker write over a file of
// his choosing, or take the lock first and keep the broker from starting.
// So Open creates a missing directory (and missing parents) with mode
// 0700, and refuses a directory that is a symbolic link (whoever controls
// the link could move the store), or, on Unix, one owned by another user
// or writable by group or others, sticky bit or not (so /tmp itself is
// refused); the error says how to fix it. The checks are made on the
// directory as opened, and every file is then opened through an [os.Root]
// on it and checked: a store file that is a symbolic link, or not a
// regular file, is refused, naming it, before anything is read or written
// through it. The lock file is kept readable by its owner only, since flock
// needs no more than a read-only open. Off Unix the ownership and mode
// checks are skipped, but the store does not open there anyway: it has no
// lock.
//
// # Durability and group commit
//
// CheckAndRecord returns first=true only after the record is on disk
// (fdatasync(2) on Linux, fsync elsewhere), so the broker may ack and
// forward the event. One committer goroutine writes every record queued
// while the previous sync ran with a single write and a single sync, then
// wakes all their callers: with many concurrent authors and peers,
// durability costs one sync per batch, not per event. A caller that finds
// nothing being written and nothing queued writes its record itself, so
// at low load an event reaches the disk without two goroutine hand-offs;
// there is still one writer at a time. A failed write or
// sync is returned to every caller in the batch and CheckAndRecord's keys
// are forgotten, so the broker naks the author and a resend can succeed
// later.
//
// An event from a remote broker will not be sent again, so refusing it
// would lose it. For those the broker calls CheckAndKeep: if the write
// fails, the first caller still gets first=true (with an error saying the
// key is not durable), the key stays in memory, so later copies are still
// recognised, and its record waits in memory to be written again: at once
// after any later write succeeds, else on a timer, after 1 s and then
// twice as long after each failure, up to 30 s. Those retries go through
// the committer in batches no larger than the others. [Store.Err] is
// non-nil while keys wait, saying how many, and while the last write
// failed; it is nil again once they are written. Close tries them once more
// and reports any it could not write: those are lost, and a copy of their
// events arriving after a restart would be taken for new.
//
// # Crash safety
//
// Open truncates a torn or unreadable tail no longer than one batch (the
// only write a crash can interrupt) plus the 1024 records a write-ahead
// log lets wait for their fsync (see "Durability with a write-ahead
// log") with a warning. Anything else is damage, not a crash: a damaged record followed by good ones, a damaged header, or
// a longer unreadable tail is reported at ERROR with its file offset, a copy
// of the file is kept as seen.log.corrupt-<unix>, every readable record is
// kept (records are fixed-size, so one bad record hides no other) and the
// log is rewritten. A key whose record is damaged is forgotten, which costs
// at worst one duplicate forward; it is never dropped silently.
//
// # Expiry and compaction
//
// Every [Options.CompactEvery] (6 hours by default), and at Open when more
// than half the log is dead, the live records are written to
// seen.log.compact.tmp, fsync'd, renamed over seen.log, and the directory is
// fsync'd. Writers keep going meanwhile: the old log is filtered in chunks,
// with the store's mutex taken only for groups of 1024 index lookups; records
// acknowledged during the copy are carried over behind it, and only the last
// step (carry the final few, fsync, rename) pauses the committer. No record
// is acknowledged after the rename until the directory is fsync'd.
//
// # Durability with a write-ahead log
//
// Without [Options.WAL] the rule above is the whole story: every record
// is fsync'd before its caller returns, and the store reads no other
// file and runs no other goroutine than the committer and the periodic
// compaction.
//
// With one, the store may lean on a write-ahead log (a [WAL]; the
// broker's is its event journal, package journal, which keeps each
// accepted event with its key). [Store.CheckAndLog] adds an [Entry] to
// the batch of its key's seen record. The committer hands the batch's
// entries to WAL.Append, which returns nil only once they are durable;
// then it writes the batch's seen records, calls WAL.Appended, and wakes
// the callers. The contract is this:
//
//   - When Append has said durable, the store may write those keys' seen
//     records without an fsync of their own, because Open restores any
//     that a crash lost: it asks WAL.Recent for the keys of the newest
//     2048 entries (one batch plus the 1024 that may wait) and writes,
//     with a WARNING, the seen record of every one the log does not
//     hold, whether a crash took all of them or, writeback being in no
//     particular order, some in the middle (reported as damage, as any
//     unreadable record followed by good ones is). The WAL must discard
//     no entry before Recent, and none later before calling
//     [Store.Sync]. So one fsync per batch, the WAL's, suffices.
//   - Such records are fsync'd within a second, with the next batch
//     holding a record the WAL does not (one from CheckAndRecord), when
//     the WAL calls Sync, and at Close; never more than 1024 wait.
//   - Append comes first: a crash between it and the seen write leaves
//     a key logged and not yet seen, never seen but missing from the
//     log. Such an event's caller never got an answer (the process
//     died); Open restores its seen record, so a copy arriving later is
//     recognised and nothing is logged twice.
//
// What an answer means: once Append has succeeded the key is accepted,
// whatever happens to its seen record. The caller gets first=true (ack
// it, relay it), WAL.Appended is called, and the key stays known, so a
// resend is "already seen" and is never logged a second time. If the
// seen record's write then fails (a full disk), the record is kept in
// memory and written again before the seen log is next fsync'd (within
// a second, with the next batch, when the WAL calls Sync, at Close);
// until then [Store.Err] reports the failure, and a restart restores it
// from the WAL. Before a batch goes to Append, any seen record still
// owed is written and fsync'd; if that fails the batch is refused with
// nothing logged, so no more than 1024 seen records are ever owed or
// unsynced, all among the newest entries, which Open reads. A refusal
// (first=false with an error) means nothing was logged, as far as the
// WAL can tell, and the key is forgotten: the author may send the event
// again and it is logged once. A WAL that cannot always undo a failed
// Append (the journal cuts a failed fdatasync back and fsyncs the cut;
// if that fsync fails too and the process dies before the next write,
// the disk may still hold the entry) lets a refused event turn up in
// the log after a restart, its resend then taken as already seen.
//
// # Memory
//
// The in-memory index is 65,536 buckets of sorted (128-bit key prefix,
// uint32 seconds) entries that grow by a quarter at a time: measured at
// 22 bytes per key after opening 1M keys and 26 after inserting them one by
// one, where a Go map of the same entries costs 30-45 bytes depending on
// where it is in its growth cycle (44.6 at exactly 1M). Opening a log reads
// it twice (count, then fill) so buckets are allocated once at their final
// size.
package seen
