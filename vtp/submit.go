package vtp

import (
	"log/slog"
	"time"

	"comet/voevent"
)

// A source is one way events come in: one author connection (tcp, tls
// or unix), one spool directory, one connection to a remote broker. All
// of them take every event through the same seam, in this file, and a
// new source is a new file that makes the same three calls:
//
//  1. submit(raw, src, log) parses one message and judges it; a source
//     that has parsed the message already, to read its role, calls
//     judge(ev, src, log) instead. Judging runs, in this order: the
//     identity check and validation (authors), the signature policy
//     (Config.Signatures), and the seen store (the Journal when there is
//     one, else Seen for authors and SeenRemote for remotes), counting
//     and logging what it decides. It returns a verdict (see verdictKind).
//  2. pass(v, src), for a verdictAccepted only: counts the event, records
//     it as the last one for Snapshot, queues it for every subscriber and
//     hands it to the handlers (Config.Deliver). Nothing is waited for.
//  3. The source answers its peer from the verdict alone: an author
//     connection with authorReply's ack or nak, a remote with an ack
//     whatever the verdict, the spool by removing or moving the file.
//
// Judging events concurrently is safe, and lets the seen store make
// their records durable together (the spool judges a batch at once);
// pass them on in the order subscribers should see them.
//
// The kind chooses the few rules that differ. A source outside this
// package (a Kafka consumer) makes the same calls through an Intake
// (intake.go): it is an authorSource in all but its answer, moving its
// position past a record once the record is accepted (and passed), a
// duplicate or refused, and on verdictFailed fetching that record again
// later. A source with figures of its own for Snapshot registers as a
// reporter, as a spool does when it starts serving.
type source struct {
	kind sourceKind
	// name says where accepted events came from, for Snapshot's last
	// event: "author ADDR [IDENTITY]", "spool DIR", "remote ADDR".
	name string
	// who restricts the ivorns an author may publish; nil for none (a
	// plain author, or a TLS one that showed no verified certificate).
	who  *publisher
	warn *warnings // rate-limits the warnings about this source's messages
}

// sourceKind says which rules a source's events are held to.
type sourceKind uint8

const (
	// authorSource: an author, on a connection or through a spool. Its
	// events are held to the author's identity and validated, and a
	// failed check or a record the seen store cannot make durable refuses
	// the event.
	authorSource sourceKind = iota
	// remoteSource: a remote broker we subscribe to. It is never refused
	// (a nak would get us dropped): its source acks every verdict. Its
	// events are not validated, but a message with an event role that is
	// not a VOEvent is refused; a signature refusal is a rate-limited
	// warning and the event is not relayed. Its events are recorded by
	// SeenRemote's rule (the journal's keep): one that cannot be recorded
	// durably is remembered, so loops stay prevented, and accepted all the
	// same, with an error in the log.
	remoteSource
)

// verdictKind is what became of one message, and what it means to its
// source.
type verdictKind uint8

const (
	// verdictAccepted: a new event, recorded as seen. For an authorSource
	// the record is durable: an ack, or a committed offset, may rely on
	// the event surviving a crash. Call pass, then acknowledge.
	verdictAccepted verdictKind = iota + 1
	// verdictDuplicate: recorded before, durably; acknowledge it, do not
	// pass it.
	verdictDuplicate
	// verdictRefused: the message failed a check, and will fail it again:
	// reason says which, in one line fit for a nak. Do not retry it.
	verdictRefused
	// verdictFailed: the seen store could not make the record durable
	// (reason is ReasonStorageFailure). Nothing was relayed and the event
	// may be accepted later: do not acknowledge it; retry it.
	verdictFailed
	// verdictNotEvent: the message has no event role. An author
	// connection does not answer it; another source refuses it, with
	// reason.
	verdictNotEvent
)

// verdict is the broker's decision on one message.
type verdict struct {
	kind   verdictKind
	ivorn  string         // the event's ivorn, "" if it has none or did not parse
	reason string         // why it was refused, failed or is not an event
	ev     *voevent.Event // the event, for pass; set when accepted
	// event says the message was an event at all, whatever became of
	// it: it parsed and has an event role.
	event bool
}

// submit parses raw and judges it. A message that is not well-formed is
// refused, and counted; one with no event role is verdictNotEvent.
func (b *Broker) submit(raw []byte, src *source, log *slog.Logger) verdict {
	ev, err := voevent.Parse(raw)
	if err != nil {
		b.stats.notWellFormed.Add(1)
		src.warn.warn(log, "event rejected: not well-formed", "err", err)
		return verdict{kind: verdictRefused, reason: "not well-formed XML: " + err.Error()}
	}
	if !IsEventRole(ev.Role) {
		src.warn.warn(log, "incomprehensible message from author: ignored", "root", voevent.Clip(ev.Root), "role", voevent.Clip(ev.Role))
		return verdict{kind: verdictNotEvent, reason: "not a VOEvent: no event role (observation, prediction, utility or test)"}
	}
	return b.judge(ev, src, log)
}

// judge decides on ev, which has an event role, by the rules of src's
// kind, and records it as seen unless it is refused; an accepted or
// already seen event is durable when it returns (see remoteSource for
// the exception).
func (b *Broker) judge(ev *voevent.Event, src *source, log *slog.Logger) verdict {
	remote := src.kind == remoteSource
	if remote && !ev.IsVOEvent() {
		// Sent as an event, so acknowledged like one, but not ours to relay.
		src.warn.warn(log, "message with an event role is not a VOEvent: acknowledged, not relayed", "root", voevent.Clip(ev.Root), "role", voevent.Clip(ev.Role))
		ivorn, _ := ev.Doc.Element().Attr("", "ivorn")
		return verdict{kind: verdictRefused, ivorn: ivorn, reason: "not a VOEvent", event: true}
	}
	log = log.With("ivorn", voevent.Clip(ev.IVORN))
	refuse := func(reason string) verdict {
		return verdict{kind: verdictRefused, ivorn: ev.IVORN, reason: reason, event: true}
	}
	if !remote {
		if src.who != nil {
			if reason := src.who.refusal(ev.IVORN); reason != "" {
				b.tlsCounts.eventOutsideIdentity()
				log.Info("event rejected", "verdict", "nak", "err", reason)
				return refuse(reason)
			}
		}
		if b.cfg.Validate != nil {
			if err := b.cfg.Validate(ev); err != nil {
				b.stats.invalid.Add(1)
				log.Info("event rejected", "verdict", "nak", "err", err)
				return refuse(err.Error())
			}
		}
	}
	if b.sigs != nil {
		if reason := b.sigs.refusal(ev, remote); reason != "" {
			if remote {
				src.warn.warn(log, "event from remote broker refused: acknowledged, not relayed", "reason", reason)
			} else {
				log.Info("event rejected: signature", "verdict", "nak", "reason", reason)
			}
			return refuse(reason)
		}
	}
	first, err := b.record(ev, remote)
	switch {
	case err != nil && !remote:
		b.stats.storageFailure.Add(1)
		log.Error("event rejected: cannot record it as seen", "verdict", "nak", "err", err)
		return verdict{kind: verdictFailed, ivorn: ev.IVORN, reason: ReasonStorageFailure, event: true}
	case !first:
		b.stats.duplicates.Add(1)
		if remote {
			log.Info("duplicate event from remote: not relayed")
		} else {
			log.Info("duplicate event: not relayed again", "verdict", "ack")
		}
		return verdict{kind: verdictDuplicate, ivorn: ev.IVORN, event: true}
	case err != nil:
		// A remote gets an ack whatever happens, so an event that cannot
		// be recorded durably is relayed all the same: the store still
		// remembers it (loops stay prevented) and retries the write.
		log.Error("event relayed, but not yet recorded durably as seen", "err", err)
	}
	if remote {
		log.Info("event received", "role", ev.Role, "bytes", len(ev.Raw))
	} else {
		log.Info("event accepted", "verdict", "ack", "role", ev.Role, "bytes", len(ev.Raw))
	}
	return verdict{kind: verdictAccepted, ivorn: ev.IVORN, ev: ev, event: true}
}

// record is the seen check of an event, through the journal when there
// is one, so that it is recorded and journaled in one durable step. One
// rule for every source: with a Journal every event is journaled, from
// authors and remotes alike; without one, Seen records authors' events
// and SeenRemote remotes'; with neither, every event is new. Every event
// an author or a remote sends is journaled, whatever its role: operators
// check a link end to end with test alerts, and those must come back
// after a cut link or a restart as observations do. Only the broker's own
// periodic test event is not recorded (SendTestEvents).
func (b *Broker) record(ev *voevent.Event, remote bool) (first bool, err error) {
	if b.cfg.Journal != nil {
		return b.cfg.Journal.CheckAndJournal(ev.Element(), ev.Raw, remote, ev)
	}
	seen := b.cfg.Seen
	if remote {
		seen = b.cfg.SeenRemote
	}
	if seen == nil {
		return true, nil
	}
	return seen(ev.Element())
}

// pass hands an accepted event on: it counts it, records it as the last
// event for Snapshot, queues it for every subscriber and starts writing
// it to them (unless the journal's committer queued it already, in
// journal order), then hands it to the handlers. Neither subscribers nor
// handlers are waited for.
func (b *Broker) pass(v verdict, src *source) {
	ev := v.ev
	if src.kind == remoteSource {
		b.stats.fromRemotes.Add(1)
	} else {
		b.stats.fromAuthors.Add(1)
	}
	b.last.Store(&LastEvent{IVORN: ev.IVORN, Time: time.Now(), Source: src.name})
	if b.jr != nil && b.jr.queuedAlready(ev) {
		kickAll(b.subscribers())
	} else {
		b.Broadcast(ev)
	}
	if b.cfg.Deliver != nil {
		b.cfg.Deliver(ev)
	}
}
