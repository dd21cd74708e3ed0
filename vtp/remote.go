package vtp

import (
	"bufio"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"time"

	"comet/voevent"
)

// Subscribe keeps a subscription to the remote broker at addr (host:port)
// until Shutdown: it connects, plays the subscriber role, and after every
// failure or disconnection waits a jittered, geometrically growing delay
// before reconnecting. It returns at once; the work runs in the background.
func (b *Broker) Subscribe(addr string) {
	b.spawn(func() {
		log := b.log.With("remote", addr)
		bo := backoff{t: b.cfg.Timers}
		for {
			start := time.Now()
			c, err := b.cfg.Dial(b.stopCtx, addr)
			if err != nil {
				if b.stopCtx.Err() != nil {
					return
				}
				log.Warn("cannot connect to remote broker", "err", err)
			} else {
				b.HandleRemote(c, log)
				if time.Since(start) >= b.cfg.Timers.BackoffReset {
					bo.reset()
				}
			}
			d := bo.next()
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
// jittered by a normal variate with an 11.96% deviation.
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
	d := math.Min(float64(bo.delay)*bo.t.BackoffFactor, float64(bo.t.BackoffMax))
	d += normFloat() * d * backoffJitter
	d = math.Max(math.Min(d, float64(bo.t.BackoffMax)), float64(bo.t.BackoffInitial))
	bo.delay = time.Duration(d)
	return bo.delay
}

// HandleRemote plays the subscriber role on a connection to a remote
// broker until it closes, stays silent for RemoteTimeout, or the broker
// shuts down. Every event is acknowledged, even duplicates and invalid
// ones, because a nak would get us dropped; only new events are delivered.
func (b *Broker) HandleRemote(c net.Conn, log *slog.Logger) {
	defer c.Close()
	defer b.recovered(c.RemoteAddr().String(), func() { c.Close() })
	if !b.track(b.remotes, c) {
		return
	}
	defer b.untrack(b.remotes, c)
	log.Info("subscribed to remote broker", "peer", c.RemoteAddr().String())
	var warn warnings
	r := bufio.NewReader(c)
	for {
		c.SetReadDeadline(time.Now().Add(b.cfg.Timers.RemoteTimeout))
		raw, err := ReadFrame(r, b.cfg.MaxFrame)
		if big, ok := skipOversized(r, err); ok {
			// Never nak upstream; the event is lost to us, so say so loudly.
			log.Error("event from remote broker dropped: over the frame limit", "bytes", big.Length, "limit", big.Limit)
			c.SetWriteDeadline(time.Now().Add(b.cfg.Timers.WriteTimeout))
			WriteFrame(c, Ack("", b.cfg.LocalIVO, "", time.Now()))
			continue
		}
		if err != nil {
			b.readEnded(log, "remote broker", err, b.cfg.Timers.RemoteTimeout)
			return
		}
		reply, ev := b.fromRemote(raw, log, &warn)
		if ev != nil {
			b.accepted(ev)
		}
		if reply != nil {
			c.SetWriteDeadline(time.Now().Add(b.cfg.Timers.WriteTimeout))
			if err := WriteFrame(c, reply); err != nil {
				log.Warn("cannot answer remote broker", "err", err)
				return
			}
		}
	}
}

// fromRemote decides the answer to one message from a remote broker, and
// returns the event if it is new and should be delivered.
func (b *Broker) fromRemote(raw []byte, log *slog.Logger, warn *warnings) (reply []byte, accepted *voevent.Event) {
	now := time.Now()
	ev, err := voevent.Parse(raw)
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
		log := log.With("ivorn", voevent.Clip(ev.IVORN))
		ack := Ack(ev.IVORN, b.cfg.LocalIVO, "", now)
		if b.cfg.SeenRemote == nil {
			log.Info("event received", "role", ev.Role)
			return ack, ev
		}
		// The upstream gets an ack whatever happens, so an event that
		// cannot be recorded durably is relayed all the same: the store
		// still remembers it (loops stay prevented) and retries the write.
		first, err := b.cfg.SeenRemote(ev.Element())
		if !first {
			log.Info("duplicate event from remote: not relayed")
			return ack, nil
		}
		if err != nil {
			log.Error("event relayed, but not yet recorded durably as seen", "err", err)
		}
		log.Info("event received", "role", ev.Role, "bytes", len(raw))
		return ack, ev
	case ev.Role == RoleIAmAlive:
		t := ParseTransport(ev)
		log.Debug("iamalive from remote broker", "origin", voevent.Clip(t.Origin))
		return IAmAliveResponse(t.Origin, b.cfg.LocalIVO, now), nil
	case ev.Role == RoleAuthenticate:
		t := ParseTransport(ev)
		log.Info("authenticating to remote broker", "origin", voevent.Clip(t.Origin), "filters", len(b.cfg.Filters))
		return AuthenticateResponse(t.Origin, b.cfg.LocalIVO, b.cfg.Filters, now), nil
	}
	warn.warn(log, "incomprehensible message from remote broker: ignored", "root", voevent.Clip(ev.Root), "role", voevent.Clip(ev.Role))
	return nil, nil
}
