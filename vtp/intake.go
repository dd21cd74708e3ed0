package vtp

import (
	"fmt"
	"log/slog"
)

// An Intake is the submission path for a source that lives outside this
// package, such as a Kafka consumer: it takes each message through
// submit, judge and pass exactly as an author's, and tells the source
// the outcome, from which the source decides whether it may move on.
// Its events are held to an author's rules (validation, the signature
// policy, the seen store), counted as from authors, and refused, like an
// author's frame, when larger than Config.MaxFrame.
type Intake struct {
	b    *Broker
	src  source
	warn warnings
}

// NewIntake returns the submission path for one outside source; name
// says where its events come from, in Snapshot's last event.
func (b *Broker) NewIntake(name string) *Intake {
	in := &Intake{b: b}
	in.src = source{kind: authorSource, name: name, warn: &in.warn}
	return in
}

// Outcome is what became of one message submitted through an Intake.
type Outcome uint8

const (
	// OutcomeAccepted: a new event, durably recorded and passed on.
	OutcomeAccepted Outcome = iota + 1
	// OutcomeDuplicate: recorded before, durably; not passed on again.
	OutcomeDuplicate
	// OutcomeRefused: the message failed a check and will fail it again
	// (not XML, not a VOEvent, invalid, a refused signature, too large).
	OutcomeRefused
	// OutcomeFailed: the seen store could not make the event durable;
	// nothing was passed on. Submit it again later.
	OutcomeFailed
)

// Submit judges raw and, when it is a new event, passes it on to
// subscribers and handlers. reason says in one line why a message was
// refused or failed. Lines about the message go to log, which should say
// where it came from.
func (in *Intake) Submit(raw []byte, log *slog.Logger) (o Outcome, reason string) {
	if len(raw) > in.b.cfg.MaxFrame {
		in.b.stats.oversized.Add(1)
		return OutcomeRefused, fmt.Sprintf("%d bytes, more than the maximum frame size of %d", len(raw), in.b.cfg.MaxFrame)
	}
	v := in.b.submit(raw, &in.src, log)
	switch v.kind {
	case verdictAccepted:
		in.b.pass(v, &in.src)
		return OutcomeAccepted, ""
	case verdictDuplicate:
		return OutcomeDuplicate, ""
	case verdictFailed:
		return OutcomeFailed, v.reason
	default: // verdictRefused, verdictNotEvent
		return OutcomeRefused, v.reason
	}
}
