package vtp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"comet/journal"
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
// than that. A replay request that comes later still is refused in-band.
const replayAskWait = time.Second

// Defaults of Replay.
const (
	// DefaultMaxReplays is how many replays may run at once: enough for
	// the downstream comets of a broker to catch up together after an
	// outage, few enough that replays cannot take every core.
	DefaultMaxReplays = 16
	// DefaultReplayBudget is how much journal one connection's replay may
	// examine: about a second of one core's work, and a 1 GiB journal in
	// 32 connections.
	DefaultReplayBudget = 32 << 20
)

// ReplayWho says which subscribers may ask for replay.
type ReplayWho int

const (
	// ReplayAny serves every subscriber that asks, as plain-TCP
	// downstream comets do.
	ReplayAny ReplayWho = iota
	// ReplayMTLS serves only subscribers that presented a trusted client
	// certificate (PeerIdentity is not empty).
	ReplayMTLS
	// ReplayNone serves no replay; subscribers that ask are told so and
	// get live events without positions.
	ReplayNone
)

// Replay bounds what subscribers' replay requests cost the broker; zero
// values get the defaults.
type Replay struct {
	// Max is how many replays may run at once (default
	// DefaultMaxReplays). A request beyond it is refused in-band as
	// "busy" and the connection closed: the subscriber asks again later
	// from the same position.
	Max int
	// Budget is how many bytes of journal one connection's replay may
	// examine (read, check and filter, sent or not), each event counting
	// replayEventCost more than its size (default DefaultReplayBudget).
	// Past it the replay stops at its position, says so in-band and
	// closes the connection: the subscriber continues from there on its
	// next connection.
	Budget int64
	// Who may ask (default ReplayAny).
	Who ReplayWho
}

// replayEventCost is what examining one journaled event costs the
// budget beyond its size: reading, parsing and filtering a small event
// cost about as much as a kilobyte of a large one.
const replayEventCost = 1024

// A replay reads the journal in batches of at most replayBatchEvents
// events to send, or replayBatchBytes: no segment stays open while the
// subscriber is waited for, and a replay holds no more than that.
const (
	replayBatchEvents = 2 * replayWindow
	replayBatchBytes  = 1 << 20
)

// replayRefuseLinger is how long a connection whose replay was refused
// or stopped stays half-closed for the subscriber to read why and close
// its side, before it is closed whatever the subscriber does.
const replayRefuseLinger = 5 * time.Second

// Reasons sent in the journal-refused parameter.
const (
	refusedBusy       = "busy"        // too many replays running: ask again later
	refusedLate       = "late"        // asked after live events had started
	refusedBudget     = "budget"      // this connection's replay budget is spent
	refusedNotAllowed = "not-allowed" // this broker replays to others only
)

// Values of subJournal.answer.
const (
	askWaiting = iota
	askAnswered
	askLate
)

// subJournal is a subscriber's side of the replay extension: its
// extension (subscriberExt) when the broker has a journal.
type subJournal struct {
	s        *subscriber
	connSeq  uint64        // the broker's last queued journaled event when it registered
	authed   chan struct{} // closed at its first authenticate response
	authOnce sync.Once
	req      replayRequest // set before authed is closed
	reqErr   error
	ackTok   chan struct{} // a token after each ack or nak
	// answer is askWaiting until the first authenticate response arrives
	// (askAnswered) or the writer stops waiting for it (askLate),
	// whichever comes first.
	answer atomic.Int32
	// replaying is set while a replay runs: the replay probes the
	// subscriber itself, and the broker's iamalive clock leaves it alone.
	replaying atomic.Bool
	// Used by the writer only: once active, markers are sent and pos is
	// the position: every journaled event up to it has been sent or
	// filtered out.
	active bool
	pos    uint64
}

// addReplaySubscriber adds s to the subscribers with the replay
// extension, noting where the journal was in the same step as Journaled
// queues events: every journaled event after connSeq is in s's queue.
// s's first writer holds the token from the start: it sends the
// authenticate, waits for the answer, which may ask for replay, and
// replays before any live event goes out (start).
func (b *Broker) addReplaySubscriber(s *subscriber) bool {
	jx := &subJournal{s: s, authed: make(chan struct{}), ackTok: make(chan struct{}, 1)}
	s.ext = jx
	s.writing.Store(true)
	b.jr.mu.Lock()
	defer b.jr.mu.Unlock()
	jx.connSeq = b.jr.last
	return b.addSubscriber(s)
}

// authenticated takes the replay request of the subscriber's first
// authenticate response, if it made one, and lets the writer go on. A
// request that comes after live events have started is refused in-band,
// so the subscriber learns that it must ask again.
func (jx *subJournal) authenticated(ev *voevent.Event) {
	jx.authOnce.Do(func() {
		jx.req, jx.reqErr = parseReplayRequest(ev)
		if jx.answer.CompareAndSwap(askWaiting, askAnswered) {
			close(jx.authed)
		} else if jx.req.asked || jx.reqErr != nil {
			go jx.refuseLate()
		}
	})
}

// acked wakes a replay waiting for room in its window.
func (jx *subJournal) acked() {
	select {
	case jx.ackTok <- struct{}{}:
	default:
	}
}

// tick leaves a subscriber being replayed to alone, its replay probing
// it, and marks the iamalive of another as the probe (probeMark), which
// lay sends as a position marker once markers are on.
func (jx *subJournal) tick(iamalive item) (item, bool) {
	if jx.replaying.Load() {
		return iamalive, false
	}
	iamalive.ext = probeMark
	return iamalive, true
}

// probeMark is the item.ext of the iamalive tick's message: a control
// message's ext is 0 otherwise. A journaled event's is its sequence
// number (journaledItem).
const probeMark = 1

// journaledItem is the queued item of an event journaled as seq.
func journaledItem(ev *voevent.Event, seq uint64) item {
	return item{ev: ev, msg: ev.Raw, ext: seq}
}

// replayAllowed reports whether the policy lets the subscriber ask for
// replay.
func (jx *subJournal) replayAllowed() bool {
	switch jx.s.b.cfg.Replay.Who {
	case ReplayAny:
		return true
	case ReplayMTLS:
		return PeerIdentity(jx.s.c) != ""
	}
	return false
}

// start runs, with a journal, between the authenticate and the first
// event: it waits for the subscriber's authenticate response (up to
// replayAskWait, so that no event goes out before a position could be
// asked for), and if it asks for replay sends what the journal holds
// after its position, then turns on position markers. It reports false
// if the subscriber is gone.
func (jx *subJournal) start() bool {
	s, b := jx.s, jx.s.b
	hold := time.NewTimer(replayAskWait)
	defer hold.Stop()
	select {
	case <-jx.authed:
	case <-hold.C:
		if jx.answer.CompareAndSwap(askWaiting, askLate) {
			return true // no answer yet: a plain subscriber from now on
		}
		<-jx.authed // the answer came just now: authenticated is closing it
	case <-s.done:
		return false
	}
	if !jx.req.asked && jx.reqErr == nil {
		return true
	}
	if !jx.replayAllowed() {
		// Not a gap: without markers the subscriber's position stays
		// where it was, and it gets the live events a plain subscriber
		// gets.
		b.warn.warn(s.log, "replay request refused: this broker does not replay to this subscriber (--journal-replay), sending live events without positions",
			"policy", b.cfg.Replay.Who.String())
		return s.write([]item{{msg: RefusalMarker(b.cfg.LocalIVO, refusedNotAllowed, "", 0, time.Now())}}, new(scratch))
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
		if !b.takeReplay() {
			b.warn.warn(s.log, "replay request refused: too many replays running, the subscriber is told to ask again later",
				"max_replays", b.maxReplays())
			return jx.refuse(RefusalMarker(b.cfg.LocalIVO, refusedBusy, "", 0, time.Now()))
		}
		jx.replaying.Store(true)
		n, end := jx.replay(from, last)
		jx.replaying.Store(false)
		b.jr.replays.Add(-1)
		switch end {
		case replayGone:
			s.log.Info("replay ended with the subscriber; it resumes from its position next time", "sent", n, "pos", jx.pos)
			return false
		case replayBudget:
			s.log.Info("replay budget of this connection spent: the subscriber continues from its position on its next connection",
				"sent", n, "pos", jx.pos, "budget", b.replayBudget())
			return jx.refuse(RefusalMarker(b.cfg.LocalIVO, refusedBudget, id, jx.pos, time.Now()))
		}
		s.log.Info("replay done, live events follow", "sent", n)
	}
	jx.pos = max(jx.pos, last)
	return s.write([]item{{msg: PositionMarker(b.cfg.LocalIVO, id, jx.pos, false, time.Now())}}, new(scratch))
}

// String is the policy's name as --journal-replay takes it.
func (w ReplayWho) String() string {
	switch w {
	case ReplayAny:
		return "any"
	case ReplayMTLS:
		return "mtls"
	}
	return "none"
}

func (b *Broker) maxReplays() int32 {
	if b.cfg.Replay.Max > 0 {
		return int32(min(b.cfg.Replay.Max, 1<<30))
	}
	return DefaultMaxReplays
}

func (b *Broker) replayBudget() int64 {
	if b.cfg.Replay.Budget > 0 {
		return b.cfg.Replay.Budget
	}
	return DefaultReplayBudget
}

// takeReplay takes one of the Replay.Max places, if one is free.
func (b *Broker) takeReplay() bool {
	if b.jr.replays.Add(1) > b.maxReplays() {
		b.jr.replays.Add(-1)
		return false
	}
	return true
}

// refuse sends msg, a refusal, and closes the connection once the
// subscriber has read it: our side is shut for writing, and the
// subscriber's acks and answers are read until it closes its side or
// replayRefuseLinger passes, so that closing with unread input does not
// reset the connection before the refusal is read. Called by the
// writer's token holder; it reports false, the subscriber being gone.
func (jx *subJournal) refuse(msg []byte) bool {
	s := jx.s
	if !s.write([]item{{msg: msg}}, new(scratch)) {
		return false
	}
	if cw, ok := s.c.(interface{ CloseWrite() error }); ok {
		if err := cw.CloseWrite(); err == nil {
			t := time.NewTimer(replayRefuseLinger)
			defer t.Stop()
			select {
			case <-s.done:
			case <-t.C:
			}
		}
	}
	s.drop("")
	return false
}

// refuseLate refuses a replay request that came after live events had
// started: it waits for the writer's token, so the refusal goes out
// between whole messages, and keeps it, sending nothing more.
func (jx *subJournal) refuseLate() {
	s := jx.s
	for !s.writing.CompareAndSwap(false, true) {
		select {
		case <-s.idle:
		case <-s.done:
			return
		}
	}
	defer s.b.recovered(s.peer, s.writerFailed)
	if !s.gone() {
		s.b.warn.warn(s.log, "replay request refused: it came after live events had started, the subscriber is told to ask again",
			"wait", replayAskWait)
		jx.refuse(RefusalMarker(s.b.cfg.LocalIVO, refusedLate, "", 0, time.Now()))
	}
	s.giveBack()
}

var errSubscriberGone = errors.New("subscriber gone")

// replayEnd is how a replay ended.
type replayEnd int

const (
	replayDone   replayEnd = iota // everything asked for was sent
	replayGone                    // the subscriber is gone
	replayBudget                  // the connection's budget is spent
)

// replayed is a journaled event kept for sending; raw is a copy.
type replayed struct {
	seq uint64
	raw []byte
}

// replay sends the journaled events in (from, upto] that pass the
// filters and the current signature policy, each after a journal-next
// marker, keeping at most replayWindow unacknowledged and probing with
// iamalive as live traffic does. Live events queue meanwhile under the
// usual limits. It examines no more than the connection's budget.
func (jx *subJournal) replay(from, upto uint64) (sent int, end replayEnd) {
	s, b := jx.s, jx.s.b
	tick := time.NewTicker(b.cfg.Timers.IAmAlive)
	defer tick.Stop()
	id := b.cfg.Journal.JournalID()
	budget := b.replayBudget()
	var batch []replayed
	pos := from
	for pos < upto {
		batch = batch[:0]
		size, last, spent := 0, pos, false
		err := b.cfg.Journal.ReadJournal(pos, upto, func(r journal.Record) error {
			if s.gone() {
				return errSubscriberGone
			}
			if budget <= 0 {
				spent = true
				return journal.ErrStopRead
			}
			budget -= int64(len(r.Raw)) + replayEventCost
			last = r.Seq
			if !jx.wants(r.Seq, r.Raw) {
				return nil
			}
			batch = append(batch, replayed{seq: r.Seq, raw: bytes.Clone(r.Raw)})
			if size += len(r.Raw); len(batch) >= replayBatchEvents || size >= replayBatchBytes {
				return journal.ErrStopRead
			}
			return nil
		})
		if errors.Is(err, errSubscriberGone) {
			return sent, replayGone
		}
		if err != nil {
			s.log.Error("replay failed", "err", err)
			s.drop("replay failed")
			return sent, replayGone
		}
		for i := range batch {
			if !jx.sendReplayed(id, batch[i], tick) {
				return sent, replayGone
			}
			batch[i].raw = nil
			sent++
		}
		jx.pos = max(jx.pos, last) // the events examined and not sent are covered too
		if spent {
			return sent, replayBudget
		}
		if last == pos {
			break // the journal holds nothing more of the range
		}
		pos = last
	}
	if s.gone() {
		return sent, replayGone
	}
	return sent, replayDone
}

// wants reports whether journaled event seq, raw, goes to the subscriber: it
// passes the current signature policy and the subscriber's filters. The
// event is parsed only when one of them needs it.
func (jx *subJournal) wants(seq uint64, raw []byte) bool {
	s, b := jx.s, jx.s.b
	if b.cfg.Signatures == nil && s.filters.Load() == nil {
		return true
	}
	ev, err := voevent.Parse(raw)
	if err != nil {
		s.log.Error("journaled event cannot be parsed: skipped", "seq", seq, "err", err)
		return false
	}
	if b.cfg.Signatures != nil {
		// The trust file may have changed, or --signed-only been turned
		// on, since the event was accepted: what is replayed obeys the
		// policy in force, as a newly received event would.
		if _, err := b.cfg.Signatures(ev); err != nil {
			s.warn.warn(s.log, "journaled event not replayed: the current signature policy refuses it",
				"seq", seq, "ivorn", voevent.Clip(ev.IVORN), "reason", err.Error())
			return false
		}
	}
	return s.wants(ev)
}

// sendReplayed waits for room in the replay window and sends r after its
// journal-next marker. A subscriber that leaves the window full for a
// whole iamalive period, acknowledging nothing, is dropped, as a live
// subscriber that acknowledges nothing is once MaxOutstanding events are
// waiting. It reports false if the subscriber is gone.
func (jx *subJournal) sendReplayed(id string, r replayed, tick *time.Ticker) bool {
	s, b := jx.s, jx.s.b
	acks := s.acks.Load() + s.naks.Load()
	stalled := 0
	for s.outstanding.Load() >= replayWindow {
		select {
		case <-jx.ackTok:
		case <-tick.C:
			if n := s.acks.Load() + s.naks.Load(); n != acks {
				acks, stalled = n, 0
			} else if stalled++; stalled >= 2 {
				s.drop(fmt.Sprintf("%d replayed events not acknowledged for an iamalive period", s.outstanding.Load()))
				return false
			}
			if !jx.probe() {
				return false
			}
		case <-s.done:
			return false
		}
	}
	var hdrs [8]byte
	marker := PositionMarker(b.cfg.LocalIVO, id, r.seq, true, time.Now())
	binary.BigEndian.PutUint32(hdrs[:4], uint32(len(marker)))
	binary.BigEndian.PutUint32(hdrs[4:], uint32(len(r.raw)))
	bufs := net.Buffers{hdrs[:4], marker, hdrs[4:], r.raw}
	s.outstanding.Add(1)
	s.armDeadline()
	if _, err := writeBuffers(s.c, &bufs); err != nil {
		s.drop("write failed: " + err.Error())
		return false
	}
	jx.pos = r.seq
	s.sent.Add(1)
	b.stats.delivered.Add(1)
	return true
}

// probe is the iamalive tick of a replay, which the broker's clock
// leaves alone: the usual check (probing), then the subscriber's
// position as the probe.
func (jx *subJournal) probe() bool {
	s := jx.s
	if !s.probing() {
		return false
	}
	return s.write([]item{{msg: jx.marker(jx.pos, false)}}, new(scratch))
}

// lay lays out, once markers are on, what the replay extension sends
// otherwise than plain VTP: the iamalive tick's probe as a position
// marker, and a journaled event after its journal-next marker, or not
// at all if it was replayed already or the filters reject it, the
// position going past it either way.
func (jx *subJournal) lay(it item, sc *scratch) bool {
	if !jx.active || it.ext == 0 {
		return false
	}
	if it.ev == nil { // the probe
		sc.add(jx.marker(jx.pos, false))
		return true
	}
	seq := it.ext
	if seq <= jx.pos {
		return true
	}
	jx.pos = seq
	if jx.s.wants(it.ev) {
		sc.add(jx.marker(seq, true))
		jx.s.layEvent(sc, it.msg)
	}
	return true
}

// marker is a position marker (PositionMarker) in the broker's journal.
func (jx *subJournal) marker(seq uint64, next bool) []byte {
	b := jx.s.b
	return PositionMarker(b.cfg.LocalIVO, b.cfg.Journal.JournalID(), seq, next, time.Now())
}
