package vtp

import (
	"bufio"
	"context"
	"errors"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"strings"
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
			} else if b.handleRemote(c, log, rs) && (time.Since(start) >= b.cfg.Timers.BackoffReset || rs.jx != nil && rs.jx.refused == refusedBudget) {
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

// dialRemote connects to a remote broker: addr is host:port for plain
// VTP, or "tls:host:port" for VTP over TLS (see dialTLS).
func (b *Broker) dialRemote(ctx context.Context, addr string) (net.Conn, error) {
	hostPort, secure := strings.CutPrefix(addr, "tls:")
	raw, err := b.dial(ctx, hostPort)
	if err != nil || !secure {
		return raw, err
	}
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return b.dialTLS(ctx, raw, host)
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

// handleRemote plays the subscriber role on a connection to a remote
// broker until it closes, stays silent for RemoteTimeout, or the broker
// shuts down, keeping rs up to date; it reports whether the remote
// authenticated. Every event is acknowledged, even duplicates and
// invalid ones, because a nak would get us dropped; only new events are
// delivered. A peer that sends no authenticate within RemoteAuthWait, or
// answers like an author port (an ack or a nak first), is not a VTP
// broker: the connection is closed with a warning saying what it sent.
func (b *Broker) handleRemote(c net.Conn, log *slog.Logger, rs *remoteState) (authed bool) {
	defer c.Close()
	peer := c.RemoteAddr().String()
	defer b.recovered(peer, func() { c.Close() })
	if !b.track(b.remotes, c) {
		return false
	}
	defer b.untrack(b.remotes, c)
	rs.set(RemoteConnected, time.Time{})
	rs.jx = nil
	if b.cfg.Journal != nil {
		rs.jx = &remoteJournal{}
	}
	log.Debug("connected to remote broker: waiting for its authenticate", "peer", peer)
	defer func() {
		if authed && !b.closing.Load() {
			rs.down()
			if rs.jx == nil || !rs.jx.closes() { // a refusal has said why already
				rs.warn.warn(log, "subscription to remote broker lost: reconnecting", "peer", peer)
			}
		}
	}()
	authBy := time.Now().Add(b.cfg.Timers.RemoteAuthWait)
	sent := "nothing" // what the peer sent before authenticating, for the warning
	src := &source{kind: remoteSource, name: "remote " + rs.addr, warn: new(warnings)}
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
		reply, v := b.fromRemote(ev, perr, log, src, rs)
		if rs.jx != nil && (perr != nil || IsEventRole(ev.Role)) {
			b.remoteEventDone(rs)
		}
		if v.kind == verdictAccepted {
			b.pass(v, src)
		}
		if reply != nil {
			c.SetWriteDeadline(time.Now().Add(b.cfg.Timers.WriteTimeout))
			if err := WriteFrame(c, reply); err != nil {
				log.Warn("cannot answer remote broker", "err", err)
				return authed
			}
		}
		if rs.jx != nil && rs.jx.closes() {
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

// fromRemote decides the answer to one message from a remote broker
// and, for an event, the verdict on it. ev and err are what
// voevent.Parse made of the message.
func (b *Broker) fromRemote(ev *voevent.Event, err error, log *slog.Logger, src *source, rs *remoteState) (reply []byte, v verdict) {
	now := time.Now()
	if err != nil {
		// Never nak upstream: acknowledge, but do not pass it on.
		src.warn.warn(log, "unparsable message from remote broker: acknowledged, not relayed", "err", err)
		return Ack("", b.cfg.LocalIVO, "", now), v
	}
	switch {
	case IsEventRole(ev.Role):
		if ev.IsVOEvent() {
			rs.events.Add(1)
		}
		v = b.judge(ev, src, log)
		return Ack(v.ivorn, b.cfg.LocalIVO, "", now), v
	case ev.Role == RoleIAmAlive:
		if rs.jx != nil {
			if b.remoteRefusal(ev, rs, log, src.warn) {
				return nil, v
			}
			if marker, reply := b.remoteMarker(ev, rs, log, src.warn); marker {
				return reply, v
			}
		}
		t := ParseTransport(ev)
		log.Debug("iamalive from remote broker", "origin", voevent.Clip(t.Origin))
		return IAmAliveResponse(t.Origin, b.cfg.LocalIVO, now), v
	case ev.Role == RoleAuthenticate:
		t := ParseTransport(ev)
		log.Info("authenticating to remote broker", "origin", voevent.Clip(t.Origin), "filters", len(b.cfg.Filters))
		if rs.jx != nil {
			return b.remoteAuthResponse(t.Origin, rs, now), v
		}
		return AuthenticateResponse(t.Origin, b.cfg.LocalIVO, b.cfg.Filters, now), v
	}
	src.warn.warn(log, "incomprehensible message from remote broker: ignored", "root", voevent.Clip(ev.Root), "role", voevent.Clip(ev.Role))
	return nil, v
}
