package vtp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"comet/voevent"
	"comet/xpath"
)

// MaxPendingBytes bounds the bytes queued for one subscriber. Frames are
// shared between subscribers, so this bounds what one stalled subscriber
// can keep alive, not a copy per subscriber.
const MaxPendingBytes = 64 << 20

// item is one message queued for a subscriber: an event to filter and
// relay, or a control message (ev == nil) sent as is.
type item struct {
	ev    *voevent.Event
	frame []byte
}

// subscriber is one Broker→Subscriber connection. Broadcast only ever
// appends to its queue without blocking; its own writer goroutine filters
// and writes, so a slow or dead subscriber delays nobody else.
type subscriber struct {
	b     *Broker
	c     net.Conn
	log   *slog.Logger
	queue chan item
	// pending is the bytes in queue; over MaxPendingBytes the subscriber is dropped.
	pending atomic.Int64
	// filters are the compiled filters from its authenticate response;
	// nil (none sent, or none that compiles) means every event, and an
	// empty list (only filters that cannot match) means none.
	filters atomic.Pointer[[]*xpath.Expr]
	// outstanding counts events sent and not yet acknowledged.
	outstanding atomic.Int32
	// answered is false from sending an iamalive until its response.
	answered atomic.Bool

	dropOnce sync.Once
	done     chan struct{}
}

// HandleSubscriber plays the broker in the Broker→Subscriber role on c:
// authenticate, then relay events and probe with iamalive until the
// subscriber is dropped or the broker shuts down.
func (b *Broker) HandleSubscriber(c net.Conn) {
	s := &subscriber{
		b:     b,
		c:     c,
		log:   b.log.With("peer", c.RemoteAddr().String(), "role", "subscriber"),
		queue: make(chan item, b.cfg.QueueLen),
		done:  make(chan struct{}),
	}
	s.answered.Store(true)
	if !b.addSubscriber(s) {
		c.Close()
		return
	}
	defer b.removeSubscriber(s)
	s.log.Info("subscriber connected")
	var reader sync.WaitGroup
	reader.Go(s.readLoop)
	s.writeLoop()
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

// Broadcast queues ev for every subscriber whose filters accept it. The
// event is framed once; each subscriber's writer evaluates its filters
// against the event's shared, already parsed document.
func (b *Broker) Broadcast(ev *voevent.Event) {
	l := b.subList.Load()
	if l == nil || len(*l) == 0 {
		return
	}
	it := item{ev: ev, frame: Frame(ev.Raw)}
	for _, s := range *l {
		s.enqueue(it)
	}
}

// enqueue adds it to the queue without ever blocking; a subscriber that
// has fallen too far behind is dropped instead.
func (s *subscriber) enqueue(it item) {
	if s.pending.Add(int64(len(it.frame))) > MaxPendingBytes {
		s.drop(fmt.Sprintf("too slow: over %d bytes waiting to be written", MaxPendingBytes))
		return
	}
	select {
	case s.queue <- it:
	default:
		s.drop(fmt.Sprintf("too slow: %d messages waiting to be written", cap(s.queue)))
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

// writeLoop is the only writer on the connection. It writes whatever is
// queued, then flushes, so a burst costs one system call, not one per event.
func (s *subscriber) writeLoop() {
	b := s.b
	w := bufio.NewWriterSize(s.c, 64<<10)
	tick := time.NewTicker(b.cfg.Timers.IAmAlive)
	defer tick.Stop()
	if !s.send(w, item{frame: Frame(Authenticate(b.cfg.LocalIVO, time.Now()))}) || !s.flush(w) {
		return
	}
	for {
		select {
		case it := <-s.queue:
			if !s.send(w, it) {
				return
			}
		drain:
			for range 256 {
				select {
				case it := <-s.queue:
					if !s.send(w, it) {
						return
					}
				default:
					break drain
				}
			}
			if !s.flush(w) {
				return
			}
		case <-tick.C:
			if !s.answered.Load() {
				s.drop("did not answer the last iamalive")
				return
			}
			if n := s.outstanding.Load(); n >= MaxOutstanding {
				s.drop(fmt.Sprintf("%d events not acknowledged", n))
				return
			}
			s.answered.Store(false)
			if !s.send(w, item{frame: Frame(IAmAlive(b.cfg.LocalIVO, time.Now()))}) || !s.flush(w) {
				return
			}
		case <-s.done:
			return
		}
	}
}

// send writes one queued item, unless it is an event the filters reject.
func (s *subscriber) send(w *bufio.Writer, it item) bool {
	if it.ev != nil {
		s.pending.Add(-int64(len(it.frame)))
		if !s.wants(it.ev) {
			s.log.Debug("event filtered out", "ivorn", it.ev.IVORN)
			return true
		}
		s.outstanding.Add(1)
		s.log.Debug("relaying event", "ivorn", it.ev.IVORN)
	}
	if w.Available() < len(it.frame) {
		s.c.SetWriteDeadline(time.Now().Add(s.b.cfg.Timers.WriteTimeout))
	}
	if _, err := w.Write(it.frame); err != nil {
		s.writeFailed(err)
		return false
	}
	return true
}

func (s *subscriber) flush(w *bufio.Writer) bool {
	if w.Buffered() == 0 {
		return true
	}
	s.c.SetWriteDeadline(time.Now().Add(s.b.cfg.Timers.WriteTimeout))
	if err := w.Flush(); err != nil {
		s.writeFailed(err)
		return false
	}
	return true
}

func (s *subscriber) writeFailed(err error) {
	if errors.Is(err, net.ErrClosed) {
		s.drop("")
		return
	}
	s.drop("write failed: " + err.Error())
}

// wants reports whether any of the subscriber's filters accepts ev.
func (s *subscriber) wants(ev *voevent.Event) bool {
	fs := s.filters.Load()
	if fs == nil {
		return true
	}
	for _, f := range *fs {
		ok, err := f.Matches(ev.Doc)
		if errors.Is(err, xpath.ErrTooExpensive) {
			s.log.Warn("filter cut off: too expensive, counted as no match", "filter", f.String(), "ivorn", ev.IVORN)
			continue
		}
		if err != nil {
			s.log.Debug("filter failed, counted as no match", "filter", f.String(), "ivorn", ev.IVORN, "err", err)
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
func (s *subscriber) setFilters(exprs []string) {
	defer s.b.authCount.Add(1)
	var fs []*xpath.Expr
	installed := 0
	for _, e := range exprs {
		f, err := xpath.Compile(e)
		switch {
		case errors.Is(err, xpath.ErrSemantic):
			s.log.Warn("filter can never match: kept, as Comet keeps it", "filter", e, "err", err)
			installed++
		case err != nil:
			s.log.Warn("ignoring invalid filter", "filter", e, "err", err)
		default:
			fs = append(fs, f)
			installed++
		}
	}
	if installed == 0 {
		s.filters.Store(nil)
		s.log.Info("subscriber authenticated", "filters", 0)
		return
	}
	s.filters.Store(&fs)
	s.log.Info("subscriber authenticated", "filters", exprs)
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
		ev, err := voevent.Parse(raw)
		if err != nil {
			s.log.Warn("unparsable message from subscriber: ignored", "err", err)
			continue
		}
		switch ev.Role {
		case RoleAck, RoleNak:
			for {
				n := s.outstanding.Load()
				if n == 0 || s.outstanding.CompareAndSwap(n, n-1) {
					break
				}
			}
			t := ParseTransport(ev)
			if ev.Role == RoleNak {
				// VTP 2.0: a nak abandons that event only (Comet drops the subscriber).
				s.log.Info("subscriber refused an event", "ivorn", t.Origin, "reason", t.Results)
			} else {
				s.log.Debug("subscriber acknowledged", "ivorn", t.Origin)
			}
		case RoleIAmAlive:
			s.answered.Store(true)
			s.log.Debug("iamalive answered")
		case RoleAuthenticate:
			s.setFilters(ParseTransport(ev).Filters)
		default:
			s.log.Warn("incomprehensible message from subscriber: ignored", "root", ev.Root, "role", ev.Role)
		}
	}
}

// SendTestEvents broadcasts a test event (SPEC §6) now and then every
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
