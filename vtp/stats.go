package vtp

import (
	"cmp"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"comet/voevent"
)

// counters are the broker's running totals. The event path only ever adds
// to them atomically; Snapshot reads them.
type counters struct {
	fromAuthors, fromRemotes                          atomic.Int64
	notWellFormed, invalid, storageFailure, oversized atomic.Int64
	duplicates                                        atomic.Int64
	delivered, dropped                                atomic.Int64
	filterCutoffs                                     atomic.Int64
	refusedLimit, refusedWhitelist                    atomic.Int64
}

// Counters are totals since the broker started.
type Counters struct {
	AcceptedFromAuthors int64 `json:"accepted_from_authors"` // new events acknowledged to authors
	AcceptedFromRemotes int64 `json:"accepted_from_remotes"` // new events from remote brokers
	// Author submissions refused with a nak, by reason.
	RefusedNotWellFormed  int64 `json:"refused_not_well_formed"`
	RefusedInvalid        int64 `json:"refused_invalid"`
	RefusedStorageFailure int64 `json:"refused_storage_failure"`
	RefusedOversized      int64 `json:"refused_oversized"`
	// RefusedIdentity: the ivorn is not under a certified author's
	// identity, or the author's certificate carries none.
	RefusedIdentity int64 `json:"refused_identity"`
	// Duplicates are events already seen, from authors or remotes.
	Duplicates int64 `json:"duplicates"`
	// Deliveries are events written to subscribers; DeliveriesDropped are
	// events a subscriber did not get because it was too slow or its
	// connection failed.
	Deliveries        int64 `json:"deliveries"`
	DeliveriesDropped int64 `json:"deliveries_dropped"`
	// FilterCutoffs counts events for which a subscriber's filters spent
	// their work budget.
	FilterCutoffs int64 `json:"filter_cutoffs"`
	// Connections closed at once: over a connection limit, or not in a whitelist.
	ConnsRefusedLimit     int64 `json:"connections_refused_limit"`
	ConnsRefusedWhitelist int64 `json:"connections_refused_whitelist"`
	// On TLS endpoints: the handshake failed, or the certificate's
	// identity is not in the port's allow-list.
	ConnsRefusedTLS      int64 `json:"connections_refused_tls"`
	ConnsRefusedIdentity int64 `json:"connections_refused_identity"`
	// Signatures is nil unless the broker checks signatures.
	Signatures *SignatureCounts `json:"signatures,omitempty"`
}

// ListenerInfo is one port the broker accepts connections on.
type ListenerInfo struct {
	Role string `json:"role"` // "receive" or "broadcast"
	Addr string `json:"addr"` // network:address
	// Err is the last accept error while accepting fails, else empty.
	Err      string    `json:"error,omitempty"`
	ErrSince time.Time `json:"error_since,omitzero"`
}

// SubscriberInfo is one connected subscriber.
type SubscriberInfo struct {
	Addr          string    `json:"addr"`
	Since         time.Time `json:"since"`
	Filters       int       `json:"filters"`
	Sent          int64     `json:"sent"`
	Acks          int64     `json:"acks"`
	Naks          int64     `json:"naks"`
	Queued        int       `json:"queued"` // messages waiting to be written
	LastAck       time.Time `json:"last_ack,omitzero"`
	Authenticated bool      `json:"authenticated"`      // its authenticate response arrived
	Identity      string    `json:"identity,omitempty"` // from its TLS client certificate, clipped
}

// States of a remote broker subscription.
const (
	RemoteConnecting    = "connecting"    // dialling
	RemoteConnected     = "connected"     // TCP is up, its authenticate has not arrived yet
	RemoteAuthenticated = "authenticated" // subscribed
	RemoteBackingOff    = "backing off"   // waiting until Next to reconnect
)

// RemoteInfo is one --remote subscription.
type RemoteInfo struct {
	Addr        string    `json:"addr"`
	State       string    `json:"state"`
	Since       time.Time `json:"since"`               // when it entered State
	Next        time.Time `json:"next,omitzero"`       // the next attempt, while backing off
	DownSince   time.Time `json:"down_since,omitzero"` // start of the current outage; zero while authenticated
	LastMessage time.Time `json:"last_message,omitzero"`
	Events      int64     `json:"events"` // event messages received
	Reconnects  int64     `json:"reconnects"`
}

// LastEvent is the last event accepted.
type LastEvent struct {
	IVORN  string    `json:"ivorn"` // clipped
	Time   time.Time `json:"time"`
	Source string    `json:"source"` // "author ADDR [IDENTITY]", "spool DIR" or "remote ADDR"
}

// Snapshot is the broker's figures at one moment.
type Snapshot struct {
	Counters    Counters         `json:"counters"`
	Listeners   []ListenerInfo   `json:"listeners"`
	Subscribers []SubscriberInfo `json:"subscribers"`
	Remotes     []RemoteInfo     `json:"remotes"`
	LastEvent   *LastEvent       `json:"last_event"`
	Spools      []SpoolInfo      `json:"spools,omitempty"`
}

// RemoteOutage is how long every remote must have been away before
// Problems reports it.
const RemoteOutage = 2 * time.Minute

// Problems returns what is wrong, one sentence each, at time now: a
// listener whose accepts are failing, and every remote broker away for
// longer than RemoteOutage. None means healthy, as far as the broker knows.
func (s Snapshot) Problems(now time.Time) []string {
	var p []string
	for _, l := range s.Listeners {
		if l.Err != "" {
			p = append(p, fmt.Sprintf("listener %s (%s) failing since %s: %s", l.Addr, l.Role, l.ErrSince.UTC().Format(time.RFC3339), l.Err))
		}
	}
	away := 0
	for _, r := range s.Remotes {
		if r.State != RemoteAuthenticated && now.Sub(r.DownSince) > RemoteOutage {
			away++
		}
	}
	if away > 0 && away == len(s.Remotes) {
		p = append(p, fmt.Sprintf("every remote broker (%d) has been disconnected for over %v", away, RemoteOutage))
	}
	return p
}

// Snapshot returns the broker's figures. It takes only short locks and
// never waits for a connection.
func (b *Broker) Snapshot() Snapshot {
	c := &b.stats
	s := Snapshot{Counters: Counters{
		AcceptedFromAuthors: c.fromAuthors.Load(), AcceptedFromRemotes: c.fromRemotes.Load(),
		RefusedNotWellFormed: c.notWellFormed.Load(), RefusedInvalid: c.invalid.Load(),
		RefusedStorageFailure: c.storageFailure.Load(), RefusedOversized: c.oversized.Load(),
		Duplicates: c.duplicates.Load(), Deliveries: c.delivered.Load(), DeliveriesDropped: c.dropped.Load(),
		FilterCutoffs: c.filterCutoffs.Load(), ConnsRefusedLimit: c.refusedLimit.Load(),
		ConnsRefusedWhitelist: c.refusedWhitelist.Load(), Signatures: b.sigs.snapshot(),
	}}
	b.tlsCounts.fill(&s.Counters)
	if l := b.last.Load(); l != nil {
		s.LastEvent = &LastEvent{IVORN: voevent.Clip(l.IVORN), Time: l.Time, Source: l.Source}
	}
	b.mu.Lock()
	for _, l := range b.listeners {
		s.Listeners = append(s.Listeners, ListenerInfo{Role: l.role, Addr: l.addr, Err: l.err, ErrSince: l.errSince})
	}
	remotes := slices.Clone(b.remoteList)
	reporters := slices.Clone(b.reporters)
	b.mu.Unlock()
	for _, r := range reporters {
		r.report(&s)
	}
	slices.SortFunc(s.Listeners, func(x, y ListenerInfo) int { return cmp.Or(cmp.Compare(x.Role, y.Role), cmp.Compare(x.Addr, y.Addr)) })
	for _, r := range remotes {
		s.Remotes = append(s.Remotes, r.info())
	}
	for _, sub := range b.subscribers() {
		s.Subscribers = append(s.Subscribers, sub.info())
	}
	slices.SortFunc(s.Subscribers, func(x, y SubscriberInfo) int { return x.Since.Compare(y.Since) })
	return s
}

// listenerState is what the broker knows of one listener; guarded by Broker.mu.
type listenerState struct {
	role, addr string
	err        string
	errSince   time.Time
}

func newListenerState(role string, l net.Listener) *listenerState {
	return &listenerState{role: role, addr: l.Addr().Network() + ":" + l.Addr().String()}
}

// acceptResult records a failed Accept, or (err nil) the first success
// after failures.
func (b *Broker) acceptResult(ls *listenerState, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		ls.err, ls.errSince = "", time.Time{}
		return
	}
	if ls.err == "" {
		ls.errSince = time.Now()
	}
	ls.err = voevent.Clip(err.Error())
}

func (s *subscriber) info() SubscriberInfo {
	s.q.mu.Lock()
	queued := len(s.q.items)
	s.q.mu.Unlock()
	i := SubscriberInfo{
		Addr: s.peer, Since: s.since, Filters: int(s.nfilters.Load()),
		Sent: s.sent.Load(), Acks: s.acks.Load(), Naks: s.naks.Load(), Queued: queued,
		Authenticated: s.authed.Load(), Identity: voevent.Clip(PeerIdentity(s.c)),
	}
	if t := s.lastAck.Load(); t != 0 {
		i.LastAck = time.Unix(0, t)
	}
	return i
}

// remoteState is one --remote subscription's state, for Snapshot and
// for the outage log lines.
type remoteState struct {
	addr string
	warn warnings // rate-limits this remote's outage warnings

	mu        sync.Mutex
	state     string
	since     time.Time
	next      time.Time
	downSince time.Time
	ever      bool // authenticated at least once

	lastMsg    atomic.Int64 // Unix nanoseconds
	events     atomic.Int64
	reconnects atomic.Int64

	// jx is the replay state of the current connection (journal_remote.go);
	// nil without a journal.
	jx *remoteJournal
}

func newRemoteState(addr string) *remoteState {
	now := time.Now()
	return &remoteState{addr: addr, state: RemoteConnecting, since: now, downSince: now}
}

func (r *remoteState) set(state string, next time.Time) {
	r.mu.Lock()
	r.state, r.since, r.next = state, time.Now(), next
	r.mu.Unlock()
}

// up records that the remote's authenticate arrived, and returns how long
// the outage it ends lasted and whether it had been up before.
func (r *remoteState) up() (outage time.Duration, again bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	outage, again = now.Sub(r.downSince), r.ever
	r.state, r.since, r.next, r.downSince, r.ever = RemoteAuthenticated, now, time.Time{}, time.Time{}, true
	return outage, again
}

// down records the end of an authenticated session.
func (r *remoteState) down() {
	r.mu.Lock()
	r.downSince = time.Now()
	r.mu.Unlock()
}

func (r *remoteState) info() RemoteInfo {
	r.mu.Lock()
	i := RemoteInfo{Addr: r.addr, State: r.state, Since: r.since, Next: r.next, DownSince: r.downSince}
	r.mu.Unlock()
	if t := r.lastMsg.Load(); t != 0 {
		i.LastMessage = time.Unix(0, t)
	}
	i.Events, i.Reconnects = r.events.Load(), r.reconnects.Load()
	return i
}
