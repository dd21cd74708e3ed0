package vtp

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"comet/voevent"
	"comet/xpath"
)

// MaxPendingBytes bounds the bytes queued for one subscriber. Events are
// shared between subscribers, so this bounds what one stalled subscriber
// can keep alive, not a copy per subscriber.
const MaxPendingBytes = 64 << 20

// maxWriteBatch is how many queued messages one write system call sends.
const maxWriteBatch = 64

// item is one message queued for a subscriber: an event to filter and
// relay, or a control message. Its bytes are shared by every subscriber's
// queue, never copied.
type item struct {
	ev  *voevent.Event // nil for a control message
	msg []byte         // the payload: ev.Raw, or the control message
	seq uint64         // its journal sequence number, 0 if not journaled
}

// subscriber is one Broker→Subscriber connection. Broadcast only ever
// appends to its queue without blocking; its own writer goroutine filters
// and writes, so a slow or dead subscriber delays nobody else.
type subscriber struct {
	b     *Broker
	c     net.Conn
	log   *slog.Logger
	debug bool // log each delivery
	q     *queue
	// filters are the compiled filters from its authenticate response;
	// nil (none sent, or none that compiles) means every event, and an
	// empty list (only filters that cannot match) means none.
	filters atomic.Pointer[[]*xpath.Expr]
	// outstanding counts events sent and not yet acknowledged.
	outstanding atomic.Int32
	// answered is false from sending an iamalive until its response.
	answered atomic.Bool

	// Figures for Snapshot.
	since            time.Time
	sent, acks, naks atomic.Int64
	lastAck          atomic.Int64 // Unix nanoseconds
	nfilters         atomic.Int32 // filters installed
	authed           atomic.Bool  // its authenticate response arrived

	dropOnce sync.Once
	done     chan struct{}
	warn     warnings
	jx       *subJournal // replay state, nil without a journal (replay.go)

	// The writer's scratch space, reused for every batch.
	batch []item
	bufs  net.Buffers
	hdrs  [8 * maxWriteBatch]byte // room for a position marker before each event
}

// HandleSubscriber plays the broker in the Broker→Subscriber role on c:
// authenticate, then relay events and probe with iamalive until the
// subscriber is dropped or the broker shuts down.
func (b *Broker) HandleSubscriber(c net.Conn) {
	s := &subscriber{
		b:     b,
		c:     c,
		log:   b.log.With("peer", c.RemoteAddr().String(), "role", "subscriber"),
		q:     newQueue(b.cfg.QueueLen, MaxPendingBytes),
		done:  make(chan struct{}),
		since: time.Now(),
	}
	s.debug = s.log.Enabled(context.Background(), slog.LevelDebug)
	s.answered.Store(true)
	if !b.registerSubscriber(s) {
		c.Close()
		return
	}
	defer b.removeSubscriber(s)
	s.log.Info("subscriber connected")
	var reader sync.WaitGroup
	reader.Go(func() {
		defer b.recovered(c.RemoteAddr().String(), func() { s.drop("internal error") })
		s.readLoop()
	})
	func() {
		defer b.recovered(c.RemoteAddr().String(), func() { s.drop("internal error") })
		s.writeLoop()
	}()
	s.drop("") // no-op if already dropped with a reason
	reader.Wait()
}

func (b *Broker) addSubscriber(s *subscriber) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing.Load() {
		return false
	}
	b.subs[s] = struct{}{}
	b.publishSubs()
	return true
}

func (b *Broker) removeSubscriber(s *subscriber) {
	b.mu.Lock()
	delete(b.subs, s)
	b.publishSubs()
	b.mu.Unlock()
	// Events still queued will never be written: count them as dropped.
	s.q.mu.Lock()
	for _, it := range s.q.items {
		if it.ev != nil {
			b.stats.dropped.Add(1)
		}
	}
	s.q.mu.Unlock()
}

// publishSubs refreshes the copy of the subscriber set that Broadcast
// reads without locking. Called with b.mu held.
func (b *Broker) publishSubs() {
	list := make([]*subscriber, 0, len(b.subs))
	for s := range b.subs {
		list = append(list, s)
	}
	b.subList.Store(&list)
}

// Subscribers is the number of connected subscribers.
func (b *Broker) Subscribers() int {
	if l := b.subList.Load(); l != nil {
		return len(*l)
	}
	return 0
}

// Broadcast queues ev for every subscriber whose filters accept it. Each
// subscriber's writer evaluates its filters against the event's shared,
// already parsed document and writes the shared bytes.
func (b *Broker) Broadcast(ev *voevent.Event) {
	l := b.subList.Load()
	if l == nil || len(*l) == 0 {
		return
	}
	it := item{ev: ev, msg: ev.Raw}
	for _, s := range *l {
		s.enqueue(it)
	}
}

// enqueue adds it to the queue without ever blocking; a subscriber that
// has fallen too far behind is dropped instead.
func (s *subscriber) enqueue(it item) {
	if err := s.q.push(it); err != nil {
		if it.ev != nil {
			s.b.stats.dropped.Add(1)
		}
		s.drop(err.Error())
	}
}

// drop disconnects the subscriber once, logging why.
func (s *subscriber) drop(reason string) {
	s.dropOnce.Do(func() {
		if reason != "" {
			s.log.Warn("subscriber dropped", "reason", reason)
		} else {
			s.log.Info("subscriber disconnected")
		}
		close(s.done)
		s.c.Close()
	})
}

// writeLoop is the only writer on the connection. It sends whatever is
// queued in batches, each with one system call (writev), so a burst does
// not cost a call per event and no event is copied.
func (s *subscriber) writeLoop() {
	b := s.b
	tick := time.NewTicker(b.cfg.Timers.IAmAlive)
	defer tick.Stop()
	if !s.write([]item{{msg: Authenticate(b.cfg.LocalIVO, time.Now())}}) {
		return
	}
	if s.jx != nil && !s.startReplay(tick) {
		return
	}
	for {
		select {
		case <-s.q.ready:
			for {
				s.batch = s.q.take(s.batch, maxWriteBatch)
				if len(s.batch) == 0 {
					break
				}
				if !s.write(s.batch) {
					return
				}
			}
		case <-tick.C:
			if !s.probe() {
				return
			}
		case <-s.done:
			return
		}
	}
}

// write sends a batch of at most maxWriteBatch items, leaving out events
// the subscriber's filters reject, under one write deadline. A subscriber
// that has gone costs no more filtering from that moment.
func (s *subscriber) write(batch []item) bool {
	bufs := s.bufs[:0]
	events := int64(0)
	frames := 0
	for _, it := range batch {
		if it.ev != nil && it.seq != 0 && s.jx != nil && s.jx.active {
			if s.gone() {
				clear(batch)
				return false
			}
			marker, send := s.liveItem(it)
			if !send {
				continue
			}
			hdr := s.hdrs[4*frames : 4*frames+4]
			binary.BigEndian.PutUint32(hdr, uint32(len(marker)))
			bufs = append(bufs, hdr, marker)
			frames++
			s.outstanding.Add(1)
			events++
		} else if it.ev != nil {
			if s.gone() {
				clear(batch)
				return false
			}
			if !s.wants(it.ev) {
				if s.debug {
					s.log.Debug("event filtered out", "ivorn", voevent.Clip(it.ev.IVORN))
				}
				continue
			}
			s.outstanding.Add(1)
			events++
			if s.debug {
				s.log.Debug("relaying event", "ivorn", voevent.Clip(it.ev.IVORN))
			}
		}
		hdr := s.hdrs[4*frames : 4*frames+4]
		binary.BigEndian.PutUint32(hdr, uint32(len(it.msg)))
		bufs = append(bufs, hdr, it.msg)
		frames++
	}
	clear(batch)
	s.bufs = bufs[:0]
	if len(bufs) == 0 {
		return true
	}
	s.c.SetWriteDeadline(time.Now().Add(s.b.cfg.Timers.WriteTimeout))
	if _, err := bufs.WriteTo(s.c); err != nil {
		s.b.stats.dropped.Add(events)
		if errors.Is(err, net.ErrClosed) {
			s.drop("")
		} else {
			s.drop("write failed: " + err.Error())
		}
		return false
	}
	s.sent.Add(events)
	s.b.stats.delivered.Add(events)
	return true
}

// gone reports whether the subscriber has been dropped.
func (s *subscriber) gone() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// wants reports whether any of the subscriber's filters accepts ev. All
// its filters share one work budget per event, so a subscriber's filters
// together cost at most what one expensive filter may; once it is spent,
// the filters not yet tried count as no match. Filters are tried in the
// order the subscriber sent them.
func (s *subscriber) wants(ev *voevent.Event) bool {
	fs := s.filters.Load()
	if fs == nil {
		return true
	}
	budget := xpath.NewBudget(ev.Doc)
	for _, f := range *fs {
		if s.gone() {
			return false
		}
		ok, err := f.MatchesWithin(ev.Doc, &budget)
		if errors.Is(err, xpath.ErrTooExpensive) {
			s.b.stats.filterCutoffs.Add(1)
			s.warn.warn(s.log, "filters cut off: their work budget for this event is spent, counted as no match",
				"filter", voevent.Clip(f.String()), "ivorn", voevent.Clip(ev.IVORN))
			return false
		}
		if err != nil {
			s.log.Debug("filter failed, counted as no match", "filter", voevent.Clip(f.String()), "ivorn", voevent.Clip(ev.IVORN), "err", err)
			continue
		}
		if ok {
			return true
		}
	}
	return false
}

// setFilters compiles the filters of an authenticate response, as Comet
// (lxml) treats them: a syntax error is logged and the filter ignored; an
// expression that parses but cannot be evaluated (an unbound prefix, an
// unknown function) stays installed and never matches, because lxml
// compiles it and fails on every event. So "//voe:Param" alone means no
// events, while "//Param[" alone means all of them.
//
// At most MaxFilters filters of MaxFilterBytes in all are taken, the first
// ones sent; the rest are ignored and a warning says so.
func (s *subscriber) setFilters(exprs []string) {
	defer s.b.authCount.Add(1)
	defer s.authed.Store(true)
	sent := len(exprs)
	size := 0
	for i, e := range exprs {
		if size += len(e); i == s.b.cfg.MaxFilters || size > s.b.cfg.MaxFilterBytes {
			exprs = exprs[:i]
			break
		}
	}
	if len(exprs) < sent {
		s.log.Warn("subscriber sent more filters than allowed: keeping the first ones, ignoring the rest",
			"sent", sent, "kept", len(exprs), "max_filters", s.b.cfg.MaxFilters, "max_filter_bytes", s.b.cfg.MaxFilterBytes)
	}
	var fs []*xpath.Expr
	installed := 0
	for _, e := range exprs {
		f, err := xpath.Compile(e)
		switch {
		case errors.Is(err, xpath.ErrSemantic):
			s.warn.warn(s.log, "filter can never match: kept, as Comet keeps it", "filter", voevent.Clip(e), "err", err)
			installed++
		case err != nil:
			s.warn.warn(s.log, "ignoring invalid filter", "filter", voevent.Clip(e), "err", err)
		default:
			fs = append(fs, f)
			installed++
		}
	}
	if s.debug {
		s.log.Debug("subscriber's filters", "filters", exprs)
	}
	s.nfilters.Store(int32(installed))
	if installed == 0 {
		s.filters.Store(nil)
		s.log.Info("subscriber authenticated", "filters", 0)
		return
	}
	s.filters.Store(&fs)
	s.log.Info("subscriber authenticated", "filters", installed)
}

// readLoop handles what the subscriber sends: acks, naks, iamalive and
// authenticate responses.
func (s *subscriber) readLoop() {
	r := bufio.NewReader(s.c)
	for {
		raw, err := ReadFrame(r, s.b.cfg.MaxFrame)
		if err != nil {
			reason := "" // a plain disconnection, or our own drop
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				reason = "read failed: " + err.Error()
			}
			s.drop(reason)
			return
		}
		// Only the root's role matters for acks and iamalive answers, which
		// are nearly all a subscriber sends: ParseRoot checks the whole
		// message but builds only its root. The rare messages whose content
		// counts are parsed in full below.
		ev, err := voevent.ParseRoot(raw)
		if err == nil && (ev.Role == RoleNak || ev.Role == RoleAuthenticate || ev.Role == RoleAck && s.debug) {
			ev, err = voevent.Parse(raw)
		}
		if err != nil {
			s.warn.warn(s.log, "unparsable message from subscriber: ignored", "err", err)
			continue
		}
		switch ev.Role {
		case RoleAck, RoleNak:
			if ev.Role == RoleAck {
				s.acks.Add(1)
			} else {
				s.naks.Add(1)
			}
			s.lastAck.Store(time.Now().UnixNano())
			for {
				n := s.outstanding.Load()
				if n == 0 || s.outstanding.CompareAndSwap(n, n-1) {
					break
				}
			}
			s.ackedOne()
			if ev.Role == RoleNak {
				// VTP 2.0: a nak abandons that event only (Comet drops the subscriber).
				t := ParseTransport(ev)
				s.warn.warn(s.log, "subscriber refused an event", "ivorn", voevent.Clip(t.Origin), "reason", voevent.Clip(strings.Join(t.Results, "; ")))
			} else if s.debug {
				s.log.Debug("subscriber acknowledged", "ivorn", voevent.Clip(ParseTransport(ev).Origin))
			}
		case RoleIAmAlive:
			s.answered.Store(true)
			s.log.Debug("iamalive answered")
		case RoleAuthenticate:
			s.setFilters(ParseTransport(ev).Filters)
			s.authenticated(ev)
		default:
			s.warn.warn(s.log, "incomprehensible message from subscriber: ignored", "root", voevent.Clip(ev.Root), "role", voevent.Clip(ev.Role))
		}
	}
}

// SendTestEvents broadcasts a test event now and then every
// interval until Shutdown. make builds the event; test events are relayed
// to subscribers, filters permitting, but not recorded or handled.
func (b *Broker) SendTestEvents(interval time.Duration, make func(time.Time) []byte) {
	b.spawn(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			raw := make(time.Now())
			if ev, err := voevent.Parse(raw); err != nil {
				b.log.Error("cannot parse our own test event", "err", err)
			} else {
				b.log.Info("broadcasting test event", "ivorn", ev.IVORN, "subscribers", b.Subscribers())
				b.Broadcast(ev)
			}
			select {
			case <-t.C:
			case <-b.stopCtx.Done():
				return
			}
		}
	})
}
