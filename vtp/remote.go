package vtp

import (
	"bufio"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"comet/voevent"
)

// Subscribe keeps a subscription to the remote broker at addr (host:port,
// or tls:host:port for VTP over TLS) until Shutdown: it connects, plays the
// subscriber role, and after every failure or disconnection waits a
// jittered, geometrically growing delay before reconnecting. It returns
// at once; the work runs in the background.
//
// An outage (a lost subscription, or failing connection attempts) is a
// warning, rate-limited, and the subscription that ends it an INFO line
// saying how long it lasted.
func (b *Broker) Subscribe(addr string) {
	rs := newRemoteState(addr)
	b.mu.Lock()
	b.remoteList = append(b.remoteList, rs)
	b.mu.Unlock()
	b.spawn(func() {
		log := b.log.With("remote", addr)
		bo := backoff{t: b.cfg.Timers}
		for attempt := 0; ; attempt++ {
			if attempt > 0 {
				rs.reconnects.Add(1)
			}
			rs.set(RemoteConnecting, time.Time{})
			start := time.Now()
			c, err := b.dialRemote(b.stopCtx, addr)
			if err != nil {
				if b.stopCtx.Err() != nil {
					return
				}
				rs.warn.warn(log, "cannot connect to remote broker", "err", err)
			} else if b.handleRemote(c, log, rs) && (time.Since(start) >= b.cfg.Timers.BackoffReset || rs.jx.refused == refusedBudget) {
				bo.reset() // a replay stopped for its budget made progress
			}
			if b.stopCtx.Err() != nil {
				return // shutting down: no reconnection to announce
			}
			d := bo.next()
			rs.set(RemoteBackingOff, time.Now().Add(d))
			log.Info("reconnecting to remote broker later", "delay", d.Round(time.Millisecond))
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-b.stopCtx.Done():
				t.Stop()
				return
			}
		}
	})
}

// backoff is Twisted's ReconnectingClientFactory schedule, which Comet
// uses: each delay is the previous one times the factor, capped, then
// jittered by a normal variate with an 11.96% deviation. A delay the
// jitter takes over the cap is as far under it instead (Twisted clamps it
// to the cap).
type backoff struct {
	t     Timers
	delay time.Duration
}

const backoffJitter = 0.11962656472

// normFloat draws the jitter; tests make it deterministic.
var normFloat = rand.NormFloat64

func (bo *backoff) reset() { bo.delay = 0 }

func (bo *backoff) next() time.Duration {
	if bo.delay == 0 {
		bo.delay = bo.t.BackoffInitial
	}
	limit := float64(bo.t.BackoffMax)
	d := math.Min(float64(bo.delay)*bo.t.BackoffFactor, limit)
	d += normFloat() * d * backoffJitter
	if d > limit {
		// Folded back under the cap, so that remotes cut off together
		// do not all retry at the same moment once they reach it.
		d = math.Max(2*limit-d, 0)
	}
	d = math.Max(d, float64(bo.t.BackoffInitial))
	bo.delay = time.Duration(d)
	return bo.delay
}

// HandleRemote plays the subscriber role on a connection to a remote
// broker until it closes, stays silent for RemoteTimeout, or the broker
// shuts down. Every event is acknowledged, even duplicates and invalid
// ones, because a nak would get us dropped; only new events are delivered.
// A peer that sends no authenticate within RemoteAuthWait, or answers like
// an author port (an ack or a nak first), is not a VTP broker: the
// connection is closed with a warning saying what it sent.
func (b *Broker) HandleRemote(c net.Conn, log *slog.Logger) {
	b.handleRemote(c, log, newRemoteState(c.RemoteAddr().String()))
}

// handleRemote is HandleRemote, keeping rs up to date; it reports whether
// the remote authenticated.
func (b *Broker) handleRemote(c net.Conn, log *slog.Logger, rs *remoteState) (authed bool) {
	defer c.Close()
	peer := c.RemoteAddr().String()
	defer b.recovered(peer, func() { c.Close() })
	if !b.track(b.remotes, c) {
		return false
	}
	defer b.untrack(b.remotes, c)
	rs.set(RemoteConnected, time.Time{})
	rs.jx = remoteJournal{}
	log.Debug("connected to remote broker: waiting for its authenticate", "peer", peer)
	defer func() {
		if authed && !b.closing.Load() {
			rs.down()
			if !rs.jx.closes() { // a refusal has said why already
				rs.warn.warn(log, "subscription to remote broker lost: reconnecting", "peer", peer)
			}
		}
	}()
	authBy := time.Now().Add(b.cfg.Timers.RemoteAuthWait)
	sent := "nothing"             // what the peer sent before authenticating, for the warning
	source := "remote " + rs.addr // for Snapshot's last event
	var warn warnings
	r := bufio.NewReader(c)
	for {
		deadline := time.Now().Add(b.cfg.Timers.RemoteTimeout)
		if !authed && authBy.Before(deadline) {
			deadline = authBy
		}
		c.SetReadDeadline(deadline)
		raw, err := ReadFrame(r, b.cfg.MaxFrame)
		if big, ok := skipOversized(r, err); ok {
			// Never nak upstream; the event is lost to us, so say so loudly.
			log.Error("event from remote broker dropped: over the frame limit", "bytes", big.Length, "limit", big.Limit)
			c.SetWriteDeadline(time.Now().Add(b.cfg.Timers.WriteTimeout))
			WriteFrame(c, Ack("", b.cfg.LocalIVO, "", time.Now()))
			continue
		}
		if err != nil {
			if !authed && errors.Is(err, os.ErrDeadlineExceeded) && !b.closing.Load() {
				rs.warn.warn(log, "peer is not a VTP broker: no authenticate after connecting: closing",
					"peer", peer, "wait", b.cfg.Timers.RemoteAuthWait, "sent", sent)
				return false
			}
			b.readEnded(log, "remote broker", err, b.cfg.Timers.RemoteTimeout)
			return authed
		}
		rs.lastMsg.Store(time.Now().UnixNano())
		ev, perr := voevent.Parse(raw)
		if !authed && perr == nil && (ev.Role == RoleAck || ev.Role == RoleNak) {
			rs.warn.warn(log, "peer is not a VTP broker: it answers like an author port: closing",
				"peer", peer, "sent", voevent.ClipBytes(raw))
			return false
		}
		if !authed && sent == "nothing" {
			sent = voevent.ClipBytes(raw)
		}
		reply, accepted := b.fromRemote(raw, ev, perr, log, &warn, rs)
		if perr != nil || IsEventRole(ev.Role) {
			b.remoteEventDone(rs)
		}
		if accepted != nil {
			b.stats.fromRemotes.Add(1)
			b.accepted(accepted, source)
		}
		if reply != nil {
			c.SetWriteDeadline(time.Now().Add(b.cfg.Timers.WriteTimeout))
			if err := WriteFrame(c, reply); err != nil {
				log.Warn("cannot answer remote broker", "err", err)
				return authed
			}
		}
		if rs.jx.closes() {
			return authed
		}
		if !authed && perr == nil && ev.Role == RoleAuthenticate {
			authed = true
			if outage, again := rs.up(); again {
				log.Info("subscribed to remote broker again", "peer", peer, "outage", outage.Round(time.Second))
			} else {
				log.Info("subscribed to remote broker", "peer", peer)
			}
		}
	}
}

// fromRemote decides the answer to one message from a remote broker, and
// returns the event if it is new and should be delivered.
// ev and err are what voevent.Parse made of raw.
func (b *Broker) fromRemote(raw []byte, ev *voevent.Event, err error, log *slog.Logger, warn *warnings, rs *remoteState) (reply []byte, accepted *voevent.Event) {
	now := time.Now()
	if err != nil {
		// Never nak upstream: acknowledge, but do not pass it on.
		warn.warn(log, "unparsable message from remote broker: acknowledged, not relayed", "err", err)
		return Ack("", b.cfg.LocalIVO, "", now), nil
	}
	switch {
	case IsEventRole(ev.Role) && !ev.IsVOEvent():
		// Sent as an event, so acknowledged like one, but not ours to relay.
		warn.warn(log, "message with an event role is not a VOEvent: acknowledged, not relayed", "root", voevent.Clip(ev.Root), "role", voevent.Clip(ev.Role))
		ivorn, _ := ev.Doc.Element().Attr("", "ivorn")
		return Ack(ivorn, b.cfg.LocalIVO, "", now), nil
	case IsEventRole(ev.Role):
		rs.events.Add(1)
		log := log.With("ivorn", voevent.Clip(ev.IVORN))
		ack := Ack(ev.IVORN, b.cfg.LocalIVO, "", now)
		if reason := b.signatureRefusal(ev, false); reason != "" {
			warn.warn(log, "event from remote broker refused: acknowledged, not relayed", "reason", reason)
			return ack, nil
		}
		if b.cfg.SeenRemote == nil && b.cfg.Journal == nil {
			log.Info("event received", "role", ev.Role)
			return ack, ev
		}
		// The upstream gets an ack whatever happens, so an event that
		// cannot be recorded durably is relayed all the same: the store
		// still remembers it (loops stay prevented) and retries the write.
		first, err := b.record(ev, true)
		if !first {
			b.stats.duplicates.Add(1)
			log.Info("duplicate event from remote: not relayed")
			return ack, nil
		}
		if err != nil {
			log.Error("event relayed, but not yet recorded durably as seen", "err", err)
		}
		log.Info("event received", "role", ev.Role, "bytes", len(raw))
		return ack, ev
	case ev.Role == RoleIAmAlive:
		if b.remoteRefusal(ev, rs, log, warn) {
			return nil, nil
		}
		if marker, reply := b.remoteMarker(ev, rs, log, warn); marker {
			return reply, nil
		}
		t := ParseTransport(ev)
		log.Debug("iamalive from remote broker", "origin", voevent.Clip(t.Origin))
		return IAmAliveResponse(t.Origin, b.cfg.LocalIVO, now), nil
	case ev.Role == RoleAuthenticate:
		t := ParseTransport(ev)
		log.Info("authenticating to remote broker", "origin", voevent.Clip(t.Origin), "filters", len(b.cfg.Filters))
		return b.remoteAuthResponse(t.Origin, rs, now), nil
	}
	warn.warn(log, "incomprehensible message from remote broker: ignored", "root", voevent.Clip(ev.Root), "role", voevent.Clip(ev.Role))
	return nil, nil
}
