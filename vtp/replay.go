package vtp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"comet/seen"
	"comet/voevent"
)

// replayWindow is how many replayed events may wait for their ack: half
// of MaxOutstanding, so a replay never brings a subscriber near the
// limit at which an iamalive tick drops it.
const replayWindow = MaxOutstanding / 2

// replayAskWait is how long a new subscriber's first event waits for its
// authenticate response, which may ask for replay. Comet subscribers and
// comet's --remote answer at once; a client that never answers (pygcn
// does not) gets events this much later on connecting, and never later
// than that.
const replayAskWait = time.Second

// subJournal is a subscriber's side of the replay extension, present
// when the broker has a journal.
type subJournal struct {
	connSeq  uint64        // the broker's last queued journaled event when it registered
	authed   chan struct{} // closed at its first authenticate response
	authOnce sync.Once
	req      replayRequest // set before authed is closed
	reqErr   error
	acked    chan struct{} // a token after each ack or nak
	late     atomic.Bool   // the writer stopped waiting for the request
	// replaying is set while a replay runs: the replay probes the
	// subscriber itself, and the broker's iamalive clock leaves it alone.
	replaying atomic.Bool
	// Used by the writer only: once active, markers are sent and pos is
	// the position: every journaled event up to it has been sent or
	// filtered out.
	active bool
	pos    uint64
}

// registerSubscriber adds s to the subscribers and, with a journal,
// notes where the journal was, in the same step as Journaled queues
// events: every journaled event after connSeq is in s's queue.
func (b *Broker) registerSubscriber(s *subscriber) bool {
	if b.cfg.Journal == nil {
		return b.addSubscriber(s)
	}
	s.jx = &subJournal{authed: make(chan struct{}), acked: make(chan struct{}, 1)}
	b.jr.mu.Lock()
	defer b.jr.mu.Unlock()
	s.jx.connSeq = b.jr.last
	return b.addSubscriber(s)
}

// authenticated takes the replay request of s's first authenticate
// response, if it made one, and lets the writer go on.
func (s *subscriber) authenticated(ev *voevent.Event) {
	if s.jx == nil {
		return
	}
	s.jx.authOnce.Do(func() {
		s.jx.req, s.jx.reqErr = parseReplayRequest(ev)
		if s.jx.late.Load() && (s.jx.req.asked || s.jx.reqErr != nil) {
			s.log.Warn("replay request ignored: it came after live events had started", "wait", replayAskWait)
		}
		close(s.jx.authed)
	})
}

// ackedOne wakes a replay waiting for room in its window.
func (s *subscriber) ackedOne() {
	if s.jx != nil {
		select {
		case s.jx.acked <- struct{}{}:
		default:
		}
	}
}

// startReplay runs, with a journal, between the authenticate and the
// first event: it waits for the subscriber's authenticate response (up
// to replayAskWait, so that no event goes out before a position could
// be asked for), and if it asks for replay sends what the journal holds
// after its position, then turns on position markers. It reports false
// if the subscriber is gone.
func (s *subscriber) startReplay() bool {
	jx, b := s.jx, s.b
	hold := time.NewTimer(replayAskWait)
	defer hold.Stop()
	select {
	case <-jx.authed:
	case <-hold.C:
		s.jx.late.Store(true)
		return true // no answer yet: a plain subscriber from now on
	case <-s.done:
		return false
	}
	if !jx.req.asked && jx.reqErr == nil {
		return true
	}
	b.jr.mu.Lock()
	last := b.jr.last
	b.jr.mu.Unlock()
	id := b.cfg.Journal.JournalID()
	from := jx.connSeq
	req := jx.req
	switch {
	case jx.reqErr != nil:
		s.log.Warn("replay request refused, sending live events only", "reason", jx.reqErr.Error())
	case req.id == "":
		s.log.Info("subscriber has no journal position yet: live events from now", "journal", id, "seq", last)
	case req.id != id:
		s.log.Info("subscriber's position is in another journal: replaying everything this journal holds",
			"its_journal", voevent.Clip(req.id), "journal", id)
		from = 0
	case req.seq > last:
		s.log.Warn("replay request refused, sending live events only: position is ahead of this journal",
			"seq", req.seq, "last", last)
	default:
		from = req.seq
		s.log.Info("replaying journal to subscriber", "from", from, "to", last)
	}
	jx.active = true
	jx.pos = from
	if from < last {
		jx.replaying.Store(true)
		n, ok := s.replay(from, last)
		jx.replaying.Store(false)
		if !ok {
			s.log.Info("replay ended with the subscriber; it resumes from its position next time", "sent", n, "pos", jx.pos)
			return false
		}
		s.log.Info("replay done, live events follow", "sent", n)
	}
	jx.pos = max(jx.pos, last)
	return s.write([]item{{msg: PositionMarker(b.cfg.LocalIVO, id, jx.pos, false, time.Now())}}, new(scratch))
}

var errSubscriberGone = errors.New("subscriber gone")

// replay sends the journaled events in (from, upto] that pass the
// filters, each after a journal-next marker, keeping at most
// replayWindow unacknowledged and probing with iamalive as live traffic
// does. Live events queue meanwhile under the usual limits.
func (s *subscriber) replay(from, upto uint64) (sent int, ok bool) {
	b, jx := s.b, s.jx
	tick := time.NewTicker(b.cfg.Timers.IAmAlive)
	defer tick.Stop()
	id := b.cfg.Journal.JournalID()
	var hdrs [8]byte
	err := b.cfg.Journal.ReadJournal(from, upto, func(r seen.JournalRecord) error {
		if s.gone() {
			return errSubscriberGone
		}
		ev, err := voevent.Parse(r.Raw)
		if err != nil {
			s.log.Error("journaled event cannot be parsed: skipped", "seq", r.Seq, "err", err)
			jx.pos = r.Seq
			return nil
		}
		if !s.wants(ev) {
			jx.pos = r.Seq
			return nil
		}
		for s.outstanding.Load() >= replayWindow {
			select {
			case <-jx.acked:
			case <-tick.C:
				if !s.probe() {
					return errSubscriberGone
				}
			case <-s.done:
				return errSubscriberGone
			}
		}
		marker := PositionMarker(b.cfg.LocalIVO, id, r.Seq, true, time.Now())
		binary.BigEndian.PutUint32(hdrs[:4], uint32(len(marker)))
		binary.BigEndian.PutUint32(hdrs[4:], uint32(len(r.Raw)))
		bufs := net.Buffers{hdrs[:4], marker, hdrs[4:], r.Raw}
		s.outstanding.Add(1)
		s.armDeadline()
		if _, err := writeBuffers(s.c, &bufs); err != nil {
			s.drop("write failed: " + err.Error())
			return errSubscriberGone
		}
		jx.pos = r.Seq
		sent++
		s.sent.Add(1)
		b.stats.delivered.Add(1)
		return nil
	})
	if err != nil {
		if !errors.Is(err, errSubscriberGone) {
			s.log.Error("replay failed", "err", err)
			s.drop("replay failed")
		}
		return sent, false
	}
	return sent, !s.gone()
}

// probe is the iamalive tick: drop a subscriber that did not answer the
// last one or leaves too many events unacknowledged, else send the next.
// An extension subscriber's iamalive carries its position.
func (s *subscriber) probe() bool {
	if !s.answered.Load() {
		s.drop("did not answer the last iamalive")
		return false
	}
	if n := s.outstanding.Load(); n >= MaxOutstanding {
		s.drop(fmt.Sprintf("%d events not acknowledged", n))
		return false
	}
	s.answered.Store(false)
	msg := IAmAlive(s.b.cfg.LocalIVO, time.Now())
	if s.jx != nil && s.jx.active {
		msg = PositionMarker(s.b.cfg.LocalIVO, s.b.cfg.Journal.JournalID(), s.jx.pos, false, time.Now())
	}
	return s.write([]item{{msg: msg}}, new(scratch))
}

// liveItem decides what the writer does with a queued journaled event for
// an extension subscriber: skip it (replayed already, or filtered out,
// advancing the position), or send it after the marker returned.
func (s *subscriber) liveItem(it item) (marker []byte, send bool) {
	jx := s.jx
	if it.seq <= jx.pos {
		return nil, false
	}
	if !s.wants(it.ev) {
		jx.pos = it.seq
		return nil, false
	}
	jx.pos = it.seq
	return PositionMarker(s.b.cfg.LocalIVO, s.b.cfg.Journal.JournalID(), it.seq, true, time.Now()), true
}
