package vtp

import (
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"comet/journal"
	"comet/voevent"
)

// Journal is the broker's journal of accepted events (a
// *journal.Journal, the seen store's write-ahead log). With one,
// accepted events are journaled in the same durable step that records
// them as seen, subscribers that ask are replayed what they missed, and
// remote brokers are asked for replay (the wire format is in the
// package documentation, doc.go).
type Journal interface {
	// CheckAndJournal records element as seen and, if new, journals raw;
	// keep is CheckAndKeep's meaning. payload comes back through the
	// hook set with OnCommit, called by the journal's committer.
	CheckAndJournal(element, raw []byte, keep bool, payload any) (first bool, err error)
	// OnCommit sets the hook told of each record once it is durable, in
	// sequence order; New sets it to the broker's Journaled.
	OnCommit(fn func(seq uint64, payload any))
	JournalID() string
	JournalLast() uint64
	ReadJournal(after, upto uint64, fn func(journal.Record) error) error
	Position(key string) (journal.Position, bool)
	SetPosition(key string, p journal.Position)
}

// Names of the Meta/Param elements of the replay extension.
const (
	paramJournal     = "journal"      // the journal's identity
	paramJournalSeq  = "journal-seq"  // a position: everything up to it
	paramJournalNext = "journal-next" // the sequence number of the next event frame
	// paramJournalRefused (version 2 of the extension) says why a replay
	// was refused or stopped: refusedBusy and the others in replay.go.
	paramJournalRefused = "journal-refused"
)

// journalState orders journaled events for subscribers; the Broker has
// one only with a Journal.
type journalState struct {
	// mu makes queueing a journaled event for every subscriber and
	// updating last one step, which a subscriber registers against.
	mu   sync.Mutex
	last uint64 // the last journaled event queued for subscribers
	// queued holds events already queued by Journaled, so that pass
	// does not queue them again.
	queued sync.Map // *voevent.Event → struct{}
	// replays counts the replays running, bounded by Replay.Max.
	replays atomic.Int32
}

// Journaled is the journal's commit hook (Journal.OnCommit, set by New):
// it queues the event payload, just made durable as seq, for every
// subscriber. It writes nothing: the committer must not wait for
// sockets, so the event's source starts the writes with pass
// once its record call returns. The committer calls it
// in sequence order, so subscribers get journaled events in journal
// order. A payload that is not an event (written by something else than
// this broker) only moves the position. A broker configured without
// the Journal has no order to keep, and ignores it.
func (b *Broker) Journaled(seq uint64, payload any) {
	if b.jr == nil {
		return
	}
	ev, ok := payload.(*voevent.Event)
	b.jr.mu.Lock()
	if ok {
		it := journaledItem(ev, seq)
		for _, s := range b.subscribers() {
			s.queue(it)
		}
	}
	b.jr.last = seq
	b.jr.mu.Unlock()
	if ok {
		b.jr.queued.Store(ev, struct{}{})
	}
}

// queuedAlready reports whether Journaled has queued ev for subscribers,
// forgetting it: pass then only starts the writes.
func (j *journalState) queuedAlready(ev *voevent.Event) bool {
	_, done := j.queued.LoadAndDelete(ev)
	return done
}

// replayRequest is what a subscriber's authenticate response asks of the
// journal.
type replayRequest struct {
	asked bool   // it carries the journal parameters
	id    string // the journal it has a position in; "" for none yet
	seq   uint64
}

// maxIDLen bounds the identity a peer may send.
const maxIDLen = 64

// parseReplayRequest reads the replay parameters of an authenticate
// response or iamalive. A message without them is not a request (asked
// false, no error); one with them malformed is an error saying why.
func parseReplayRequest(ev *voevent.Event) (replayRequest, error) {
	var r replayRequest
	var seqText string
	var haveSeq, haveNext bool
	for name, v := range metaParams(ev) {
		switch name {
		case paramJournal:
			if r.asked {
				return r, errors.New("journal given twice")
			}
			r.asked, r.id = true, v
		case paramJournalSeq:
			if haveSeq {
				return r, errors.New("journal-seq given twice")
			}
			haveSeq, seqText = true, v
		case paramJournalNext:
			haveNext = true
		}
	}
	if !r.asked {
		if haveSeq || haveNext {
			return r, errors.New("journal-seq without journal")
		}
		return r, nil
	}
	if err := checkJournalID(r.id); err != nil {
		return r, err
	}
	if haveSeq {
		n, err := parseSeq(seqText)
		if err != nil {
			return r, err
		}
		r.seq = n
	}
	return r, nil
}

// metaParams yields the name and the trimmed value of every Meta/Param
// of a Transport message, in document order.
func metaParams(ev *voevent.Event) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		for c := range ev.Doc.Element().Children() {
			if c.Local() != "Meta" {
				continue
			}
			for m := range c.Children() {
				if m.Local() != "Param" {
					continue
				}
				name, _ := m.Attr("", "name")
				v, _ := m.Attr("", "value")
				if !yield(name, strings.TrimSpace(v)) {
					return
				}
			}
		}
	}
}

// checkJournalID accepts "" or up to maxIDLen hexadecimal digits.
func checkJournalID(id string) error {
	if len(id) > maxIDLen {
		return fmt.Errorf("journal identity of %d characters, over %d", len(id), maxIDLen)
	}
	for _, c := range id {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return fmt.Errorf("journal identity %q is not lowercase hexadecimal", voevent.Clip(id))
		}
	}
	return nil
}

// parseSeq reads a sequence number: decimal digits, no sign, at most 20.
func parseSeq(s string) (uint64, error) {
	if s == "" || len(s) > 20 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("journal-seq %q is not a decimal number", voevent.Clip(s))
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("journal-seq %q is out of range", voevent.Clip(s))
	}
	return n, nil
}

// journalParams is the escaped Meta content naming journal id and one
// position parameter.
func journalParams(id, name string, seq uint64) string {
	return `<Param name="` + paramJournal + `" value="` + escaper.Replace(id) + `"/>` +
		`<Param name="` + name + `" value="` + strconv.FormatUint(seq, 10) + `"/>`
}

// PositionMarker is the iamalive a broker sends an extension subscriber
// to tell it where it is: with next, "the next event frame is journaled
// event seq"; without, "every journaled event up to seq that passes your
// filters has been sent to you".
func PositionMarker(local, id string, seq uint64, next bool, now time.Time) []byte {
	name := paramJournalSeq
	if next {
		name = paramJournalNext
	}
	return message(RoleIAmAlive, local, "", now, journalParams(id, name, seq))
}

// AuthenticateResponseAt is AuthenticateResponse asking for replay from
// a position: id is the journal it was learned in ("" for none), seq the
// last event received from it.
func AuthenticateResponseAt(peer, local string, filters []string, id string, seq uint64, now time.Time) []byte {
	return message(RoleAuthenticate, peer, local, now, filterParams(filters)+journalParams(id, paramJournalSeq, seq))
}

// ParsePosition reads a position marker: the journal identity, the
// sequence number, and whether it names the next event (journal-next)
// rather than everything up to it (journal-seq). ok is false for an
// iamalive without the journal parameters.
func ParsePosition(ev *voevent.Event) (id string, seq uint64, next, ok bool, err error) {
	var nextText, seqText string
	var haveID, haveNext, haveSeq bool
	for name, v := range metaParams(ev) {
		switch name {
		case paramJournal:
			haveID, id = true, v
		case paramJournalNext:
			haveNext, nextText = true, v
		case paramJournalSeq:
			haveSeq, seqText = true, v
		}
	}
	if !haveID && !haveNext && !haveSeq {
		return "", 0, false, false, nil
	}
	if !haveID || haveNext == haveSeq {
		return "", 0, false, false, errors.New("position marker needs journal and exactly one of journal-seq, journal-next")
	}
	if err := checkJournalID(id); err != nil || id == "" {
		if err == nil {
			err = errors.New("position marker with an empty journal identity")
		}
		return "", 0, false, false, err
	}
	text := seqText
	if haveNext {
		text = nextText
	}
	seq, err = parseSeq(text)
	if err != nil {
		return "", 0, false, false, err
	}
	return id, seq, haveNext, true, nil
}

// maxReasonLen bounds the refusal reason a peer may send.
const maxReasonLen = 32

// RefusalMarker is the iamalive a broker sends a subscriber whose replay
// it refuses or stops, saying why (reason, one of the refused* words).
// With an identity it also carries a journal-seq position, as
// PositionMarker does: a replay stopped for its budget says how far it
// got.
func RefusalMarker(local, reason, id string, seq uint64, now time.Time) []byte {
	meta := `<Param name="` + paramJournalRefused + `" value="` + escaper.Replace(reason) + `"/>`
	if id != "" {
		meta = journalParams(id, paramJournalSeq, seq) + meta
	}
	return message(RoleIAmAlive, local, "", now, meta)
}

// ParseRefusal reads the journal-refused parameter of an iamalive: the
// reason, which is a short lowercase word (anything else reads as
// "unknown"), and whether there was one.
func ParseRefusal(ev *voevent.Event) (reason string, ok bool) {
	for name, v := range metaParams(ev) {
		if name != paramJournalRefused {
			continue
		}
		if v == "" || len(v) > maxReasonLen || strings.Trim(v, "abcdefghijklmnopqrstuvwxyz-") != "" {
			return "unknown", true
		}
		return v, true
	}
	return "", false
}
