package vtp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"comet/voevent"
)

// Timers are the protocol's clocks. The defaults are Comet 3.1's.
type Timers struct {
	AuthorTimeout time.Duration // an author must deliver a complete event this soon (20 s)
	IAmAlive      time.Duration // iamalive period towards subscribers (60 s)
	RemoteTimeout time.Duration // a remote broker silent this long is dropped (120 s)
	WriteTimeout  time.Duration // a write to a peer that takes longer drops the peer (30 s)
	// Reconnection to a remote: the first delay, the factor it grows by,
	// its cap, and how long a connection must live to reset it.
	BackoffInitial time.Duration // 1 s
	BackoffFactor  float64       // e, as Twisted's ReconnectingClientFactory
	BackoffMax     time.Duration // 3600 s
	BackoffReset   time.Duration // 5 s
	// RemoteAuthWait is how soon a remote broker must send its
	// authenticate after we connect (5 s; not a Comet timer).
	RemoteAuthWait time.Duration
	// Handshake bounds a TLS handshake, either way (10 s; not a Comet timer).
	Handshake time.Duration
}

// DefaultTimers returns Comet 3.1's timers.
func DefaultTimers() Timers {
	return Timers{
		AuthorTimeout:  20 * time.Second,
		IAmAlive:       60 * time.Second,
		RemoteTimeout:  120 * time.Second,
		WriteTimeout:   30 * time.Second,
		BackoffInitial: time.Second,
		BackoffFactor:  2.718281828459045,
		BackoffMax:     3600 * time.Second,
		BackoffReset:   5 * time.Second,
		RemoteAuthWait: 5 * time.Second,
		Handshake:      10 * time.Second,
	}
}

// MaxOutstanding is how many events a subscriber may leave unacknowledged
// at an iamalive tick before it is dropped (Comet 3.1).
const MaxOutstanding = 10

// Config is everything a Broker needs; zero values get defaults.
type Config struct {
	// LocalIVO is this broker's IVOID, sent as Origin or Response.
	LocalIVO string
	// MaxFrame bounds one message (default DefaultMaxFrame).
	MaxFrame int
	// Whitelists for the author and subscriber ports; empty admits all.
	AuthorWhitelist, SubscriberWhitelist Whitelist
	// Filters are the XPath expressions sent to remote brokers.
	Filters []string
	// Validate checks an author's submission (schema and IVORN); nil accepts all.
	Validate func(*voevent.Event) error
	// Signatures checks an event's signatures (from an author after
	// Validate, from a remote before SeenRemote) and returns the outcome,
	// which is counted, and an error to refuse the event, whose text is the
	// reason; nil checks nothing.
	Signatures func(*voevent.Event) (voevent.SignatureOutcome, error)
	// Seen records an event's root element span and reports whether it was
	// new; it must be durable when it returns. nil treats every event as new.
	Seen func(element []byte) (first bool, err error)
	// SeenRemote is Seen for events from remote brokers, which are acked
	// whatever happens. When the record cannot be made durable it should
	// still remember the event, so loops stay prevented, report first
	// truthfully and return the error: a first event is relayed all the
	// same. nil uses Seen, taking an event it fails on as first.
	SeenRemote func(element []byte) (first bool, err error)
	// Deliver receives every accepted event for the local handlers, before
	// it is acknowledged; it must not block. Relaying to subscribers does
	// not go through it: the broker queues accepted events for its
	// subscribers itself. nil runs no handlers.
	Deliver func(*voevent.Event)
	// Journal, if not nil, records every event from every source as seen
	// and journals it in the same durable step, in place of Seen and
	// SeenRemote, and serves the replay extension; its committer must
	// call Journaled (see journal.go).
	Journal Journal
	// Replay bounds what the journal's replays cost, and says who may
	// ask for one; see Replay.
	Replay Replay
	// QueueLen bounds each subscriber's queue of events not yet written (default 4096).
	QueueLen int
	// MaxFilters and MaxFilterBytes bound what one subscriber may install
	// (defaults DefaultMaxFilters, DefaultMaxFilterBytes): beyond them the
	// first filters are kept and the rest ignored.
	MaxFilters, MaxFilterBytes int
	// MaxConns bounds the connections accepted on all ports together and
	// MaxConnsPerAddr those from one IP address on one port (defaults
	// DefaultMaxConns, DefaultMaxConnsPerAddr); connections beyond them
	// are closed at once.
	MaxConns, MaxConnsPerAddr int
	// TLS configures the TLS endpoints and remotes; see TLS.
	TLS TLS
	// Timers default to DefaultTimers where zero.
	Timers Timers
	Logger *slog.Logger
}

// Broker plays the broker roles of VTP. Its methods are safe for
// concurrent use.
type Broker struct {
	cfg     Config
	log     *slog.Logger
	closing atomic.Bool
	wg      sync.WaitGroup // every connection goroutine

	mu        sync.Mutex
	listeners map[net.Listener]*listenerState
	authors   map[net.Conn]struct{}
	subs      map[*subscriber]struct{}
	subList   atomic.Pointer[[]*subscriber] // copy of subs for Broadcast (subscribers)
	subsStale atomic.Bool                   // subs changed since subList was made
	subsAdded []*subscriber                 // added since then, in order
	// aliveOn is set when the first subscriber starts the iamalive clock.
	aliveOn bool
	remotes map[net.Conn]struct{}
	// remoteList is every Subscribe, in order, for Snapshot.
	remoteList []*remoteState
	// reporters are the sources beside authors and remotes that are
	// serving (spool directories), which add their figures to Snapshot;
	// nil when there are none.
	reporters []reporter
	stop      context.CancelFunc // ends Subscribe loops
	stopCtx   context.Context

	conns conns    // connections accepted, for the limits
	warn  warnings // rate-limits warnings not tied to one connection

	stats counters
	last  atomic.Pointer[LastEvent] // the last event accepted, its ivorn not yet clipped

	// dial connects to remote brokers (a net.Dialer); tests replace it.
	dial func(ctx context.Context, addr string) (net.Conn, error)
	// Extensions, chosen in New; each nil when it is off.
	jr        *journalState // orders journaled events (journal.go)
	sigs      *signatures   // the signature policy and its counts (signatures.go)
	tlsCounts *tlsCounters  // refusals on TLS endpoints and by identity (tls.go)
}

// reporter is a source that adds its figures to a Snapshot.
type reporter interface {
	report(*Snapshot)
}

// Defaults for the limits in Config.
const (
	DefaultMaxFilters      = 64
	DefaultMaxFilterBytes  = 64 << 10
	DefaultMaxConns        = 4096
	DefaultMaxConnsPerAddr = 64
)

// New returns a Broker for cfg.
func New(cfg Config) *Broker {
	if cfg.MaxFrame <= 0 {
		cfg.MaxFrame = DefaultMaxFrame
	}
	if cfg.QueueLen <= 0 {
		cfg.QueueLen = 4096
	}
	if cfg.SeenRemote == nil && cfg.Seen != nil {
		seen := cfg.Seen
		cfg.SeenRemote = func(el []byte) (bool, error) {
			first, err := seen(el)
			return first || err != nil, err // relay when in doubt: never lose an acked event
		}
	}
	for _, f := range []struct {
		v *int
		d int
	}{
		{&cfg.MaxFilters, DefaultMaxFilters}, {&cfg.MaxFilterBytes, DefaultMaxFilterBytes},
		{&cfg.MaxConns, DefaultMaxConns}, {&cfg.MaxConnsPerAddr, DefaultMaxConnsPerAddr},
	} {
		if *f.v <= 0 {
			*f.v = f.d
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	def := DefaultTimers()
	t := &cfg.Timers
	for _, f := range []struct{ v, d *time.Duration }{
		{&t.AuthorTimeout, &def.AuthorTimeout}, {&t.IAmAlive, &def.IAmAlive},
		{&t.RemoteTimeout, &def.RemoteTimeout}, {&t.WriteTimeout, &def.WriteTimeout},
		{&t.BackoffInitial, &def.BackoffInitial}, {&t.BackoffMax, &def.BackoffMax},
		{&t.BackoffReset, &def.BackoffReset}, {&t.RemoteAuthWait, &def.RemoteAuthWait},
		{&t.Handshake, &def.Handshake},
	} {
		if *f.v <= 0 {
			*f.v = *f.d
		}
	}
	if t.BackoffFactor <= 1 {
		t.BackoffFactor = def.BackoffFactor
	}
	b := &Broker{
		cfg:       cfg,
		log:       cfg.Logger,
		listeners: map[net.Listener]*listenerState{},
		authors:   map[net.Conn]struct{}{},
		subs:      map[*subscriber]struct{}{},
		remotes:   map[net.Conn]struct{}{},
	}
	var d net.Dialer
	b.dial = func(ctx context.Context, addr string) (net.Conn, error) { return d.DialContext(ctx, "tcp", addr) }
	b.stopCtx, b.stop = context.WithCancel(context.Background())
	if cfg.Journal != nil {
		b.jr = &journalState{last: cfg.Journal.JournalLast()}
		cfg.Journal.OnCommit(b.Journaled)
	}
	if cfg.Signatures != nil {
		b.sigs = &signatures{check: cfg.Signatures}
	}
	if cfg.TLS.Server != nil {
		b.tlsCounts = &tlsCounters{}
	}
	return b
}

// ErrClosed is returned by Serve methods after Shutdown.
var ErrClosed = errors.New("vtp: broker closed")

// serve runs an accept loop, handing each admitted connection to handle
// on a goroutine of its own: for authors, a waiting one (warm) if any.
// A subscriber's goroutine lives as long as its connection, with a stack
// kept as small as its reading needs; it is never reused.
func (b *Broker) serve(l net.Listener, wl Whitelist, kind string, handle func(net.Conn)) error {
	b.mu.Lock()
	if b.closing.Load() {
		b.mu.Unlock()
		l.Close()
		return ErrClosed
	}
	ls := newListenerState(kind, l)
	b.listeners[l] = ls
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.listeners, l)
		b.mu.Unlock()
	}()
	var w *warm // authors' connections only: a subscriber's lasts
	if kind == "receive" {
		w = &warm{next: make(chan func())}
	}
	var delay time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if b.closing.Load() || errors.Is(err, net.ErrClosed) {
				return ErrClosed
			}
			b.acceptResult(ls, err)
			// Out of file descriptors and the like: back off, keep serving.
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			b.log.Error("accept failed", "listener", l.Addr().String(), "err", err)
			time.Sleep(delay)
			continue
		}
		if delay != 0 {
			b.acceptResult(ls, nil)
		}
		delay = 0
		addr, hasAddr := peerAddr(c)
		if hasAddr && !wl.Allows(addr) {
			b.stats.refusedWhitelist.Add(1)
			b.warn.warn(b.log, "connection refused: not in whitelist", "port", kind, "peer", c.RemoteAddr().String())
			c.Close()
			continue
		}
		if why := b.conns.admit(kind, addr, b.cfg.MaxConns, b.cfg.MaxConnsPerAddr); why != "" {
			b.stats.refusedLimit.Add(1)
			b.warn.warn(b.log, why, "port", kind, "peer", c.RemoteAddr().String(),
				"limit", b.cfg.MaxConns, "per_address", b.cfg.MaxConnsPerAddr)
			c.Close()
			continue
		}
		job := func() {
			defer b.conns.release(kind, addr)
			handle(c)
		}
		run := job
		if w != nil {
			select {
			case w.next <- job: // a goroutine that served an earlier connection
				continue
			default:
				run = func() { b.work(w, job) }
			}
		}
		if !b.spawn(run) {
			b.conns.release(kind, addr)
			c.Close()
			return ErrClosed
		}
	}
}

// warmGoroutines is how many goroutines that have served an author's
// connection wait for the next one instead of ending. A new goroutine's
// stack starts small and is copied as it grows, several times over for an
// author's event, whose parsing and validation run deep: at low load that
// copying was a twentieth of the broker's CPU. A waiting goroutine keeps
// the stack it grew, until the garbage collector shrinks it.
const warmGoroutines = 8

// warm hands connections to the goroutines waiting on one port.
type warm struct {
	next    chan func() // unbuffered: a send succeeds only if one is waiting
	waiting atomic.Int32
}

// work runs job, then the jobs handed to it on w, until it finds enough
// goroutines already waiting or the broker shuts down.
func (b *Broker) work(w *warm, job func()) {
	for {
		job()
		if w.waiting.Add(1) > warmGoroutines {
			w.waiting.Add(-1)
			return
		}
		select {
		case job = <-w.next:
			w.waiting.Add(-1)
		case <-b.stopCtx.Done():
			w.waiting.Add(-1)
			return
		}
	}
}

// recovered is the last-resort net of every connection goroutine, used as
// "defer b.recovered(peer, close)": a panic is a bug, so it is logged with
// the peer's address and closes that one connection, and every other
// connection goes on being served.
func (b *Broker) recovered(peer string, close func()) {
	if r := recover(); r != nil {
		b.log.Error("internal error serving a connection: closing it", "peer", peer,
			"panic", voevent.Clip(fmt.Sprint(r)), "stack", string(debug.Stack()))
		close()
	}
}

// spawn runs f on a goroutine Shutdown waits for, unless the broker is
// closing. Checking and adding under mu keeps Add from racing with Wait.
func (b *Broker) spawn(f func()) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing.Load() {
		return false
	}
	b.wg.Go(f)
	return true
}

// ServeAuthors accepts author connections on l until Shutdown.
func (b *Broker) ServeAuthors(l net.Listener) error {
	return b.serve(l, b.cfg.AuthorWhitelist, "receive", b.HandleAuthor)
}

// ServeSubscribers accepts subscriber connections on l until Shutdown.
func (b *Broker) ServeSubscribers(l net.Listener) error {
	return b.serve(l, b.cfg.SubscriberWhitelist, "broadcast", b.HandleSubscriber)
}

// track registers a connection in set so Shutdown can reach it; it reports
// false (and closes c) if the broker is already closing.
func (b *Broker) track(set map[net.Conn]struct{}, c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closing.Load() {
		c.Close()
		return false
	}
	set[c] = struct{}{}
	return true
}

func (b *Broker) untrack(set map[net.Conn]struct{}, c net.Conn) {
	b.mu.Lock()
	delete(set, c)
	b.mu.Unlock()
}

// Shutdown stops accepting connections, lets author transactions in
// progress finish (their acks are sent and their events delivered), closes
// every other connection and waits for all connection goroutines, or until
// ctx is done.
func (b *Broker) Shutdown(ctx context.Context) error {
	b.mu.Lock()
	b.closing.Store(true)
	b.stop()
	for l := range b.listeners {
		l.Close()
	}
	// Authors waiting for a frame are woken and leave; one being answered
	// finishes first, because it only reads again after replying.
	for c := range b.authors {
		c.SetReadDeadline(time.Now())
	}
	for c := range b.remotes {
		c.Close()
	}
	for s := range b.subs {
		s.drop("")
	}
	b.mu.Unlock()

	done := make(chan struct{})
	go func() { b.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
