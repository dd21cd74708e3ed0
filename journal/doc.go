// Package journal is the broker's journal of accepted events, kept so
// that subscribers can be sent what they missed and operators can
// reprocess events. It is a package of its own so that the seen store,
// which de-duplicates every event, can be read and trusted without it:
// the store defines a write-ahead-log seam ([seen.WAL]) and this
// package implements it; the store never imports this one.
//
// What is in it:
//
//   - [New] and [Journal.OpenWAL]: a journal opened by a seen store as
//     its write-ahead log, in the store's directory under its lock.
//     Closing the store closes the journal.
//   - [Journal.CheckAndJournal]: the store's seen check of an event that,
//     when the event is new, journals its bytes in the same group commit;
//     the hook set with [Journal.OnCommit] is told of each record, in
//     sequence order, once it is durable.
//   - [Journal.ReadJournal] (and [ErrStopRead]), [Journal.JournalID],
//     [Journal.JournalLast], [Journal.Stats]: what replay reads.
//   - [OpenReader]: a read-only view for "comet journal", usable while a
//     broker runs.
//   - [Journal.Position] and [Journal.SetPosition]: where this broker is
//     in each upstream's journal (the positions file of --remote), so a
//     restart asks for replay from there.
//
// Limits: the journal holds what fits in [Options.MaxSize] (1 GiB by
// default) and [Options.MaxAge] (72 hours); events older or beyond are
// deleted whole segments at a time, and a subscriber asking for them is
// replayed what is left. Only an index of 12 to 14 bytes per record is
// kept in memory. One process writes a journal at a time (the store's
// lock); readers take no lock.
//
// # How it keeps the store's promise
//
// [seen.Store.CheckAndLog] hands each batch's new events to
// [Journal.Append], which writes their records and fdatasyncs them before
// the store writes the batch's seen records (see "Durability with a
// write-ahead log" in package seen). Each record carries its event's
// key, so the journal is the seen records' durable copy: [Journal.Recent]
// gives the store the keys of the newest records at Open, to restore the
// seen records a crash lost, and the journal calls [seen.Store.Sync]
// before it deletes a segment. A failed write or fdatasync is cut back
// and the cut fsync'd, so the batch's callers are refused with nothing
// journaled. Sequence numbers are assigned when a batch is appended, in
// the order of its events, and only grow; numbers of records whose write
// failed are never used again in that run (after a restart they may be,
// since no one saw them).
//
// # On disk
//
// Beside the seen store's files:
//
//	journal.id                 16 random bytes and their CRC-32C: the journal's identity
//	journal-<20 digits>.seg    a segment; the number is the lowest sequence number it may hold
//	positions                  where this broker is in its upstreams' journals
//
// A segment is a 16-byte header (magic "COMETJN\x00", version 1, CRC-32C)
// followed by records: big-endian uint32 length of the event, uint64
// sequence number, int64 Unix nanoseconds received, the event's 32-byte
// [seen.Key], CRC-32C of those 52 bytes and the event, then the event's
// bytes. Segments are written one at a time, the newest, and a new one is
// started when it reaches a sixteenth of the size bound (1 to 64 MiB).
// After a restart the next sequence number follows the highest on disk,
// or the number in the newest segment's name when every record has been
// trimmed (trimming that empties the journal first starts an empty
// segment named after the next number).
//
// The positions file is a header (magic "COMETPS\x00") and, per upstream,
// the big-endian uint16 lengths of its name and journal identity, both,
// the uint64 sequence number and a CRC-32C. It is written whole and
// renamed into place: at once for a new upstream or a changed identity,
// within a second for a later position, and at Close.
//
// # Trimming
//
// Trimming deletes whole segments, oldest first: those whose newest
// record is older than MaxAge, and while the journal is over MaxSize. It
// runs after every write and once a minute, starting once the store has
// read the records it needs at Open.
//
// # Recovery
//
// At Open every record is read and checked. An unreadable end of the
// newest segment (a crash in the middle of a write) is cut with a WARNING
// naming the offset; one longer than 64 MiB is damage, reported at ERROR
// with a copy of the segment kept, then cut. Unreadable bytes followed by
// a good record (found by searching for the next record whose header and
// checksum hold) are reported at ERROR with their offset and length and
// skipped; the file is left as it is and the records after them stay
// readable. A segment may hold no record: the newest, between a
// rotation and its first write (or after that write failed, or a crash
// came); one whose records are all unreadable; one left with a torn
// header by a rotation that failed and could not remove it. Readers find
// where to start by the newest record at or before each segment, so
// such a segment, wherever it is, hides nothing; trimming deletes it
// when it is the oldest and not the one written. Sequence numbers grow
// through the whole journal: a record numbered at or below one in an
// older segment (a misnamed or copied file) is reported and not read.
// A damaged or missing journal.id next to segments gives the
// journal a new identity, at ERROR: positions subscribers hold in the old
// one are then no longer trusted, and they are replayed everything held.
// A damaged positions file costs full replays, not events: it is
// reported and ignored.
//
// # Reading
//
// Only an index is kept in memory: per record its sequence number and
// offset, 12 bytes (about 14 with slice growth). Readers
// ([Journal.ReadJournal], [Reader.Read]) open segments by name and take
// the index lock only to find where to start, so replay and trimming go
// on during writes; a segment trimmed while it is read ends that read
// early, and a record damaged since Open is skipped with an ERROR.
package journal
