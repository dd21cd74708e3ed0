package vtp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
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

// maxBatchFrames is how many frames a batch of maxWriteBatch messages can
// make: a subscriber's extension may send a message after one of its own
// (the replay extension's position marker), so a message may take two
// frames. Each frame is two buffers for writev: its length header and
// its content.
const maxBatchFrames = 2 * maxWriteBatch

// item is one message queued for a subscriber: an event to filter and
// relay, or a control message. Its bytes are shared by every subscriber's
// queue, never copied.
type item struct {
	ev  *voevent.Event // nil for a control message
	msg []byte         // the payload: ev.Raw, or the control message
	// ext is a word for the subscriber's extension (subscriberExt.lay),
	// set by the extension's code when it queues the message; the core
	// passes it on unread. 0 for what the core queues.
	ext uint64
}

// subscriberExt extends VTP on one subscriber connection. It is chosen
// once, when the subscriber registers, and is nil for a plain VTP
// subscriber, so that none of an extension's code runs on a plain
// subscriber's path. The replay extension (replay.go) is the one there
// is: it is chosen for every subscriber of a broker with a journal.
type subscriberExt interface {
	// start runs on the subscriber's first writer, which holds the
	// writer's token from the start, once the broker's authenticate has
	// been written and before anything else; it reports false if the
	// subscriber is gone.
	start() bool
	// authenticated takes an authenticate response from the subscriber.
	authenticated(ev *voevent.Event)
	// acked notes an ack or nak from the subscriber.
	acked()
	// tick takes the iamalive item of a tick of the broker's clock and
	// returns what to queue instead; false leaves the subscriber alone
	// for this tick, neither probed nor checked.
	tick(iamalive item) (item, bool)
	// lay lays out it, a queued message, in sc's batch as the extension
	// sends it, in two frames at most, and reports whether it did; if
	// not, the core lays it out. An event it is given passes no filter
	// first.
	lay(it item, sc *scratch) bool
}

// subscriber is one Broker→Subscriber connection. Broadcast only ever
// appends to its queue without blocking and then, if no write is in
// progress, writes what is queued: at once, with no goroutine and no
// waiting, on a plain socket with room for it, and otherwise on a writer
// goroutine that filters and writes what is queued, then ends. So a slow
// or dead subscriber delays nobody else, and an idle one costs its
// reading goroutine and a few hundred bytes, not a second goroutine.
type subscriber struct {
	b     *Broker
	c     net.Conn
	peer  string // the remote address, formatted once: writers and parsers name it
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

	// writing is the writer's token: whoever sets it owns the connection's
	// write side. idle receives a value each time the token is given back.
	writing atomic.Bool
	idle    chan struct{}
	// deadline is the write deadline last set; only the token's holder
	// touches it.
	deadline time.Time
	// raw is the plain socket, for writing without waiting (writeNow);
	// nil over TLS and where that is not supported. rest is what such a
	// write left over, restEvents the events in the batch it ended; only
	// the token's holder touches them.
	raw        syscall.RawConn
	rest       net.Buffers
	restEvents int64

	// Figures for Snapshot.
	since            time.Time
	sent, acks, naks atomic.Int64
	lastAck          atomic.Int64 // Unix nanoseconds
	nfilters         atomic.Int32 // filters installed
	authed           atomic.Bool  // its authenticate response arrived

	dropOnce sync.Once
	done     chan struct{}
	warn     warnings
	ext      subscriberExt // nil for plain VTP
}

// scratch is a writer's working space for one batch. Writers take it from
// scratchPool for the length of a flush, so idle subscribers hold none.
type scratch struct {
	batch []item
	// bufs is the batch laid out for writev: a length header, from hdrs,
	// before each message. events counts the events in it.
	bufs   net.Buffers
	events int64
	hdrs   [4 * maxBatchFrames]byte // the length headers, an extension's frames' too
	raw    *rawWriter               // for writevNow, made on first use
}

// add lays out one more frame: msg after its length header.
func (sc *scratch) add(msg []byte) {
	sc.bufs = append(sc.bufs, sc.header(len(sc.bufs)/2, len(msg)), msg)
}

// header is the length header, for n bytes, of frame i of a batch. The
// scratch space has room for every frame of a batch of maxWriteBatch
// messages; a longer batch, which no writer takes, gets a header of its
// own beyond that rather than running past the end.
func (sc *scratch) header(i, n int) []byte {
	var hdr []byte
	if at := 4 * i; at+4 <= len(sc.hdrs) {
		hdr = sc.hdrs[at : at+4 : at+4]
	} else {
		hdr = make([]byte, 4)
	}
	binary.BigEndian.PutUint32(hdr, uint32(n))
	return hdr
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// HandleSubscriber plays the broker in the Broker→Subscriber role on c:
// authenticate, then relay events and answer to the broker's iamalive
// ticks until the subscriber is dropped or the broker shuts down.
func (b *Broker) HandleSubscriber(c net.Conn) {
	peer := c.RemoteAddr().String()
	s := &subscriber{
		b:     b,
		c:     c,
		peer:  peer,
		log:   b.log.With(append([]any{"peer", peer, "role", "subscriber"}, identityArgs(PeerIdentity(c))...)...),
		q:     newQueue(b.cfg.QueueLen, MaxPendingBytes),
		idle:  make(chan struct{}, 1),
		done:  make(chan struct{}),
		since: time.Now(),
		raw:   rawConn(c),
	}
	s.debug = s.log.Enabled(context.Background(), slog.LevelDebug)
	s.answered.Store(true)
	// The first message on the connection is our authenticate: it is
	// queued before Broadcast can see the subscriber, so no event goes
	// before it. A writer sends it, as it sends everything else.
	s.q.push(item{msg: Authenticate(b.cfg.LocalIVO, time.Now())})
	var ok bool
	if b.jr != nil {
		ok = b.addReplaySubscriber(s) // chooses s.ext
	} else {
		ok = b.addSubscriber(s)
	}
	if !ok {
		c.Close()
		return
	}
	defer b.removeSubscriber(s)
	s.log.Info("subscriber connected")
	if s.ext != nil {
		go s.start()
	} else {
		s.kick()
	}
	func() {
		defer b.recovered(peer, func() { s.drop("internal error") })
		s.readLoop()
	}()
	s.drop("") // no-op if already dropped with a reason
	s.waitWriter()
}

// start is the first writer of a subscriber with an extension, which
// holds the token from the start: the authenticate, then the extension's
// start, then whatever is queued.
func (s *subscriber) start() {
	defer s.b.recovered(s.peer, s.writerFailed)
	sc := scratchPool.Get().(*scratch)
	sc.batch = s.q.take(sc.batch, 1) // the authenticate
	ok := s.write(sc.batch, sc)
	scratchPool.Put(sc)
	if ok && s.ext.start() {
		s.release(false)
		return
	}
	s.drop("")
	s.giveBack()
}

// writerFailed is what a writer's panic leaves: the subscriber dropped
// and the token given back, so that the reading goroutine can end.
func (s *subscriber) writerFailed() {
	s.drop("internal error")
	s.giveBack()
}

// giveBack gives the writer's token back, for good or until release's
// next look at the queue.
func (s *subscriber) giveBack() {
	s.writing.Store(false)
	s.signalIdle()
}

// kick starts writing what is queued unless a writer is running. On a
// plain socket the caller writes it at once, without waiting: an event
// then reaches the subscriber with no goroutine started and no thread
// woken. Only what the socket does not take at once, because the
// subscriber is slow to read, is left to a writer goroutine, which may
// block; so the caller is never delayed by a slow subscriber.
func (s *subscriber) kick() {
	if s.gone() || !s.writing.CompareAndSwap(false, true) {
		return
	}
	if s.raw != nil && s.writeAtOnce() {
		return
	}
	go s.flush()
}

// writeAtOnce writes what is queued without waiting, holding the token.
// It reports whether it is done and has given the token back; if not, the
// socket is full, s.rest holds what it did not take, and the caller must
// start a writer.
func (s *subscriber) writeAtOnce() (done bool) {
	defer s.b.recovered(s.peer, func() { s.writerFailed(); done = true })
	switch s.drain(true) {
	case wroteAll:
		return s.release(true)
	case wroteGone:
		s.giveBack()
		return true
	}
	return false
}

// flush is a writer: it holds the token, writes what is left over and
// what is queued, and ends.
func (s *subscriber) flush() {
	defer s.b.recovered(s.peer, s.writerFailed)
	if s.writeRest() && s.drain(false) == wroteAll {
		s.release(false)
		return
	}
	s.giveBack()
}

// outcome is how far a drain got.
type outcome int

const (
	wroteAll  outcome = iota // the queue is empty
	wroteGone                // the subscriber is gone
	wroteSome                // writing at once, the socket filled: s.rest holds the rest
)

// drain writes everything queued, in batches of one system call (writev)
// each, so a burst does not cost a call per event and no event is copied.
// atOnce writes without waiting (see writeAtOnce).
func (s *subscriber) drain(atOnce bool) outcome {
	sc := scratchPool.Get().(*scratch)
	defer scratchPool.Put(sc)
	for {
		sc.batch = s.q.take(sc.batch, maxWriteBatch)
		if len(sc.batch) == 0 {
			if h := drainedHook.Load(); h != nil {
				(*h)(s)
			}
			return wroteAll
		}
		if !atOnce {
			if !s.write(sc.batch, sc) {
				return wroteGone
			}
			continue
		}
		switch ok, full := s.writeNow(sc.batch, sc); {
		case !ok:
			return wroteGone
		case full:
			return wroteSome
		}
	}
}

// release gives the writer's token back. A message queued while the
// holder was finishing found the token taken and started no writer, so
// release takes the token again and drains while anything is waiting.
// It reports false if, writing at once, the socket filled: it then still
// holds the token, and the caller must start a writer.
func (s *subscriber) release(atOnce bool) bool {
	for {
		s.giveBack()
		if s.gone() || s.q.empty() || !s.writing.CompareAndSwap(false, true) {
			return true
		}
		switch s.drain(atOnce) {
		case wroteGone:
			s.giveBack()
			return true
		case wroteSome:
			return false
		}
	}
}

// drainedHook, when set by a test, runs when a writer has found its
// queue empty and still holds the token: the moment a new event must not
// be stranded.
var drainedHook atomic.Pointer[func(*subscriber)]

func (s *subscriber) signalIdle() {
	select {
	case s.idle <- struct{}{}:
	default: // a signal is already waiting
	}
}

// waitWriter waits for a running writer to end and keeps the token, so
// no writer starts on the connection again. The subscriber is dropped by
// then, so a writer ends at its next write.
func (s *subscriber) waitWriter() {
	for !s.writing.CompareAndSwap(false, true) {
		<-s.idle
	}
}

func (b *Broker) addSubscriber(s *subscriber) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing.Load() {
		return false
	}
	b.subs[s] = struct{}{}
	if n := len(b.subsAdded); n >= 64 && n >= 2*len(b.subs) {
		// Subscribers that come and go with no event between them
		// must not pile up here until the next one.
		kept := b.present(b.subsAdded[:0], b.subsAdded)
		clear(b.subsAdded[len(kept):])
		b.subsAdded = kept
	}
	b.subsAdded = append(b.subsAdded, s)
	b.subsStale.Store(true)
	if !b.aliveOn {
		b.aliveOn = true
		b.wg.Go(b.iamaliveLoop)
	}
	return true
}

func (b *Broker) removeSubscriber(s *subscriber) {
	b.mu.Lock()
	delete(b.subs, s)
	b.subsStale.Store(true)
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

// subscribers is the list of subscribers, read without locking. Those
// connecting and leaving only mark it out of date, and the first reader
// after that rebuilds it from the set: ten thousand subscribers
// connecting at once, as after a restart, then cost one copy of the list
// before the next event instead of a copy of it for each of them.
func (b *Broker) subscribers() []*subscriber {
	if b.subsStale.Load() {
		b.mu.Lock()
		if b.subsStale.Load() {
			var old []*subscriber
			if l := b.subList.Load(); l != nil {
				old = *l
			}
			list := make([]*subscriber, 0, len(b.subs))
			list = b.present(list, old)
			list = b.present(list, b.subsAdded)
			clear(b.subsAdded)
			b.subsAdded = b.subsAdded[:0]
			b.subList.Store(&list)
			b.subsStale.Store(false)
		}
		b.mu.Unlock()
	}
	if l := b.subList.Load(); l != nil {
		return *l
	}
	return nil
}

// present appends to dst the subscribers of l still in the set. Called
// with b.mu held.
func (b *Broker) present(dst, l []*subscriber) []*subscriber {
	for _, s := range l {
		if _, ok := b.subs[s]; ok {
			dst = append(dst, s)
		}
	}
	return dst
}

// Subscribers is the number of connected subscribers.
func (b *Broker) Subscribers() int {
	return len(b.subscribers())
}

// Broadcast queues ev for every subscriber whose filters accept it. Each
// subscriber's writer evaluates its filters against the event's shared,
// already parsed document and writes the shared bytes.
func (b *Broker) Broadcast(ev *voevent.Event) {
	l := b.subscribers()
	if len(l) == 0 {
		return
	}
	it := item{ev: ev, msg: ev.Raw}
	for _, s := range l {
		s.queue(it)
	}
	kickAll(l)
}

// kickChunk is how many subscribers one goroutine writes an event to.
// Up to that many are written to by the caller, with no goroutine started;
// more are shared out between goroutines, so that a large audience is
// written to on every core and the caller, typically an author waiting
// for its ack, is delayed by one chunk's writes at most.
const kickChunk = 64

// kickAll starts writing to each subscriber in l what is queued for it.
// The caller writes only to subscribers without filters: filters are a
// subscriber's choice, and evaluating them must not delay the caller's
// ack to its author; a goroutine writes to the others.
func kickAll(l []*subscriber) {
	for len(l) > kickChunk {
		part := l[:kickChunk]
		l = l[kickChunk:]
		go kickEach(part, true)
	}
	if filtered := kickEach(l, false); filtered {
		// All of them again: one whose filters were removed meanwhile
		// must not be left out. Those already written to cost a look at
		// an empty queue.
		go kickEach(l, true)
	}
}

// kickEach kicks the subscribers in l, those with filters too if all is
// set, and reports whether it left any out.
func kickEach(l []*subscriber, all bool) (left bool) {
	for _, s := range l {
		if !all && s.filters.Load() != nil {
			left = true
			continue
		}
		s.kick()
	}
	return left
}

// queue adds it to the queue without ever blocking, and without writing
// it yet; a subscriber that has fallen too far behind is dropped instead.
func (s *subscriber) queue(it item) {
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

// iamaliveLoop sends every subscriber an iamalive each IAmAlive period,
// one clock for all of them as in Comet, first dropping those that did not
// answer the last one or leave too many events unacknowledged. One shared
// message and one timer serve every subscriber.
func (b *Broker) iamaliveLoop() {
	tick := time.NewTicker(b.cfg.Timers.IAmAlive)
	defer tick.Stop()
	for {
		select {
		case now := <-tick.C:
			l := b.subscribers()
			if len(l) == 0 {
				continue
			}
			it := item{msg: IAmAlive(b.cfg.LocalIVO, now)}
			for _, s := range l {
				s.tick(it)
			}
			kickAll(l)
		case <-b.stopCtx.Done():
			return
		}
	}
}

// tick is one iamalive period for the subscriber: it queues the
// iamalive, to be written by the caller's kick, unless the subscriber's
// extension says otherwise.
func (s *subscriber) tick(iamalive item) {
	if s.ext != nil {
		var ok bool
		if iamalive, ok = s.ext.tick(iamalive); !ok {
			return
		}
	}
	if s.probing() {
		s.queue(iamalive)
	}
}

// probing is the check before every iamalive probe: it drops the
// subscriber if it did not answer the last one or leaves too many events
// unacknowledged, and otherwise expects an answer to the probe, which
// the caller sends. It reports whether the subscriber is still there.
func (s *subscriber) probing() bool {
	if !s.answered.Load() {
		s.drop("did not answer the last iamalive")
		return false
	}
	if n := s.outstanding.Load(); n >= MaxOutstanding {
		s.drop(fmt.Sprintf("%d events not acknowledged", n))
		return false
	}
	s.answered.Store(false)
	return true
}

// write sends a batch of at most maxWriteBatch items, leaving out events
// the subscriber's filters reject, and reports false if the subscriber is
// gone. The write deadline is moved only when less than WriteTimeout of
// it is left, to between one and one and a half WriteTimeouts away, so a
// busy subscriber does not rearm a timer on every write: a write stuck
// for that long drops the subscriber.
func (s *subscriber) write(batch []item, sc *scratch) bool {
	bufs, events, ok := s.frames(batch, sc)
	if !ok || len(bufs) == 0 {
		return ok
	}
	s.armDeadline()
	_, err := writeBuffers(s.c, &bufs)
	clear(sc.bufs[:cap(sc.bufs)]) // the pool must not keep events alive
	return s.wrote(events, err)
}

// writeNow is write without waiting, for a plain socket (s.raw): the
// socket takes what its buffer has room for (writevNow). full reports
// that it did not take everything; the rest is then kept in s.rest for
// a writer to send before anything else.
func (s *subscriber) writeNow(batch []item, sc *scratch) (ok, full bool) {
	bufs, events, ok := s.frames(batch, sc)
	if !ok || len(bufs) == 0 {
		return ok, false
	}
	s.armDeadline() // a deadline passed while idle would fail the write
	n, err := writevNow(s.raw, bufs, sc)
	if err == nil {
		if rest := leftOver(bufs, n); rest != nil {
			s.rest, s.restEvents = rest, events
			clear(sc.bufs[:cap(sc.bufs)])
			return true, true
		}
	}
	clear(sc.bufs[:cap(sc.bufs)])
	return s.wrote(events, err), false
}

// writeRest writes what writeNow left over, if anything, and reports
// false if the subscriber is gone.
func (s *subscriber) writeRest() bool {
	if s.rest == nil {
		return true
	}
	bufs := s.rest
	events := s.restEvents
	s.rest, s.restEvents = nil, 0
	s.armDeadline()
	_, err := writeBuffers(s.c, &bufs)
	return s.wrote(events, err)
}

// leftOver is what follows the first n bytes of bufs, laid out by
// frames: a length header, then a message, for each frame. The messages
// are referred to, not copied: they are shared by every subscriber and
// never change, so a slow subscriber holds what its queue held and no
// more. Only the headers, which live in the writer's scratch space, are
// copied. nil if nothing follows.
func leftOver(bufs net.Buffers, n int) net.Buffers {
	var rest net.Buffers
	var hdrs []byte // room for every header left, so appending never moves it
	for i, b := range bufs {
		if n >= len(b) {
			n -= len(b)
			continue
		}
		b, n = b[n:], 0
		if i%2 == 0 {
			if hdrs == nil {
				hdrs = make([]byte, 0, 4*len(bufs))
			}
			at := len(hdrs)
			hdrs = append(hdrs, b...)
			b = hdrs[at:len(hdrs):len(hdrs)]
		}
		rest = append(rest, b)
	}
	return rest
}

// frames lays out a batch for one writev: a length header before each
// message, laid out by the subscriber's extension if it has one and that
// takes the message. Events the filters reject are left out. ok is false
// if the subscriber is gone, which then costs no more filtering; events
// counts the events laid out.
func (s *subscriber) frames(batch []item, sc *scratch) (bufs net.Buffers, events int64, ok bool) {
	sc.bufs, sc.events = sc.bufs[:0], 0
	ext := s.ext
	for _, it := range batch {
		if it.ev != nil && s.gone() {
			clear(batch)
			return nil, 0, false
		}
		switch {
		case ext != nil && ext.lay(it, sc):
		case it.ev == nil:
			sc.add(it.msg)
		case !s.wants(it.ev):
			if s.debug {
				s.log.Debug("event filtered out", "ivorn", voevent.Clip(it.ev.IVORN))
			}
		default:
			if s.debug {
				s.log.Debug("relaying event", "ivorn", voevent.Clip(it.ev.IVORN))
			}
			s.layEvent(sc, it.msg)
		}
	}
	clear(batch)
	bufs = sc.bufs
	sc.bufs = bufs[:0]
	return bufs, sc.events, true
}

// layEvent lays out an event that passed the filters: it is outstanding
// from now until its ack.
func (s *subscriber) layEvent(sc *scratch, msg []byte) {
	s.outstanding.Add(1)
	sc.events++
	sc.add(msg)
}

// wrote counts a write of events that ended with err, dropping the
// subscriber if it failed, and reports whether it succeeded.
func (s *subscriber) wrote(events int64, err error) bool {
	if err != nil {
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

// armDeadline moves the write deadline, only when less than WriteTimeout
// of it is left, to one and a half WriteTimeouts away. Only the writer's
// token holder calls it.
func (s *subscriber) armDeadline() {
	wt := s.b.cfg.Timers.WriteTimeout
	if now := time.Now(); s.deadline.Sub(now) < wt {
		s.deadline = now.Add(wt + wt/2)
		s.c.SetWriteDeadline(s.deadline)
	}
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
