package vtp

import (
	"log/slog"
	"time"

	"comet/journal"
	"comet/voevent"
)

// remoteJournal is where one connection to a remote broker is in that
// broker's journal, as its position markers say.
type remoteJournal struct {
	id      string // the journal the last marker named
	next    uint64 // the journal-next just received: the next event's seq, 0 if none
	changed bool   // an identity change was logged on this connection
	// refused is the reason the remote gave for refusing or stopping our
	// replay on this connection, "" if it did not.
	refused string
}

// closes reports whether the remote's refusal ends the connection: all
// but not-allowed do, and we reconnect with the usual backoff, from the
// position we have.
func (j *remoteJournal) closes() bool {
	return j.refused != "" && j.refused != refusedNotAllowed
}

// remoteAuthResponse answers a remote broker's authenticate with our
// filters and, with a journal, the position we have in its journal, so
// that a broker with the replay extension sends what we missed. Brokers
// without it ignore the extra parameters.
func (b *Broker) remoteAuthResponse(origin string, rs *remoteState, now time.Time) []byte {
	p, _ := b.cfg.Journal.Position(rs.addr)
	return AuthenticateResponseAt(origin, b.cfg.LocalIVO, b.cfg.Filters, p.ID, p.Seq, now)
}

// remoteMarker takes a position marker from a remote broker. It reports
// whether ev was one and, if so, the answer: none to a journal-next
// marker (one comes before every event), the usual iamalive answer to a
// journal-seq one (it doubles as the probe).
func (b *Broker) remoteMarker(ev *voevent.Event, rs *remoteState, log *slog.Logger, warn *warnings) (handled bool, reply []byte) {
	id, seq, next, ok, err := ParsePosition(ev)
	if err != nil {
		warn.warn(log, "bad position marker from remote broker: ignored", "reason", err.Error())
		return false, nil
	}
	if !ok {
		return false, nil
	}
	if old, known := b.cfg.Journal.Position(rs.addr); known && old.ID != "" && old.ID != id && !rs.jx.changed {
		rs.jx.changed = true
		log.Warn("remote broker's journal identity changed (it lost or recreated its journal): replay starts from what it still holds",
			"old", voevent.Clip(old.ID), "new", voevent.Clip(id))
	}
	rs.jx.id = id
	if next {
		rs.jx.next = seq
		return true, nil
	}
	rs.jx.next = 0
	b.cfg.Journal.SetPosition(rs.addr, journal.Position{ID: id, Seq: seq})
	return false, nil
}

// remoteRefusal takes a refusal of our replay request from a remote
// broker and reports whether ev was one. It needs no answer. Our position
// is kept as it was, or, when a replay stopped for its budget, moved to
// where it stopped: no event is skipped either way.
func (b *Broker) remoteRefusal(ev *voevent.Event, rs *remoteState, log *slog.Logger, warn *warnings) bool {
	reason, ok := ParseRefusal(ev)
	if !ok {
		return false
	}
	rs.jx.refused = reason
	switch reason {
	case refusedBudget:
		b.remoteMarker(ev, rs, log, warn)
		p, _ := b.cfg.Journal.Position(rs.addr)
		log.Info("remote broker paused its replay to us (its work budget per connection): continuing from our position on the next connection",
			"journal", voevent.Clip(p.ID), "seq", p.Seq)
	case refusedNotAllowed:
		rs.warn.warn(log, "remote broker does not replay to us: receiving live events only, our position in its journal is kept")
	default:
		p, _ := b.cfg.Journal.Position(rs.addr)
		rs.warn.warn(log, "remote broker refused our replay request: reconnecting later from our position",
			"reason", reason, "journal", voevent.Clip(p.ID), "seq", p.Seq)
	}
	return true
}

// remoteEventDone moves our position past the event just handled: it is
// recorded as seen (durably, or kept and retried) by now.
func (b *Broker) remoteEventDone(rs *remoteState) {
	if rs.jx.next == 0 {
		return
	}
	b.cfg.Journal.SetPosition(rs.addr, journal.Position{ID: rs.jx.id, Seq: rs.jx.next})
	rs.jx.next = 0
}
