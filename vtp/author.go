package vtp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"comet/voevent"
)

// Answers an author may get besides "Event rejected: <validation error>".
const (
	ReasonDuplicate      = "Event already seen: acknowledged, not relayed again"
	ReasonStorageFailure = "temporary storage failure"
)

// HandleAuthor plays the broker in the Author→Broker role on c: it reads
// events and answers each with ack or nak, until the author disconnects,
// fails to deliver a complete event within AuthorTimeout of connecting or
// of its previous event, sends a bad frame, or the broker shuts down.
// Frames that are not events do not extend that time, so a peer cannot
// hold a connection open with them. Several events on one connection each
// get their answer (Comet answers the first and closes).
func (b *Broker) HandleAuthor(c net.Conn) {
	defer c.Close()
	peer := c.RemoteAddr().String()
	defer b.recovered(peer, func() { c.Close() })
	if !b.track(b.authors, c) {
		return
	}
	defer b.untrack(b.authors, c)
	who := peerPublisher(c) // restricted only if a TLS client certificate was verified
	log := b.log.With(append([]any{"peer", peer}, identityArgs(who.identity)...)...)
	source := "author " + peer // for Snapshot's last event
	if who.identity != "" {
		source += " " + voevent.Clip(who.identity)
	}
	log.Debug("author connected")
	start, messages := time.Now(), 0
	deadline := start.Add(b.cfg.Timers.AuthorTimeout)
	var warn warnings
	r := bufio.NewReader(c)
	for ; ; messages++ {
		c.SetReadDeadline(deadline)
		if b.closing.Load() { // checked after the deadline: Shutdown sets closing, then the deadline
			return
		}
		raw, err := ReadFrame(r, b.cfg.MaxFrame)
		if big, ok := skipOversized(r, err); ok {
			b.stats.oversized.Add(1)
			warn.warn(log, "event refused: over the frame limit", "bytes", big.Length, "limit", big.Limit)
			reason := fmt.Sprintf("event of %d bytes exceeds this broker's limit of %d bytes", big.Length, big.Limit)
			c.SetWriteDeadline(time.Now().Add(b.cfg.Timers.WriteTimeout))
			WriteFrame(c, Nak("", b.cfg.LocalIVO, reason, time.Now()))
			continue
		}
		if err != nil {
			// One line for the connection's whole life: it opened, carried
			// these events, and ended for this reason.
			b.readEnded(log.With("messages", messages, "duration", time.Since(start).Round(time.Millisecond)),
				"author", err, b.cfg.Timers.AuthorTimeout)
			return
		}
		reply, ev, isEvent := b.fromPublisher(raw, who, log, &warn)
		if isEvent {
			deadline = time.Now().Add(b.cfg.Timers.AuthorTimeout)
		}
		// An accepted event is queued for subscribers and handlers before
		// the ack goes out: an author that waits for each ack then sees its
		// events relayed in the order it sent them. Queueing never blocks,
		// so neither subscribers nor handlers delay the ack. The event is
		// recorded as seen, so it is delivered even if the ack cannot be
		// written.
		if ev != nil {
			b.stats.fromAuthors.Add(1)
			b.accepted(ev, source)
		}
		if reply != nil {
			c.SetWriteDeadline(time.Now().Add(b.cfg.Timers.WriteTimeout))
			if err := WriteFrame(c, reply); err != nil {
				log.Warn("cannot answer author", "err", err)
			}
		}
	}
}

// accepted passes a new event on: to every subscriber, then to the
// handlers. Neither waits. source says where it came from, for Snapshot.
func (b *Broker) accepted(ev *voevent.Event, source string) {
	b.last.Store(&LastEvent{IVORN: ev.IVORN, Time: time.Now(), Source: source})
	b.broadcastAccepted(ev)
	if b.cfg.Deliver != nil {
		b.cfg.Deliver(ev)
	}
}

// readEnded logs why a connection's read loop stopped.
func (b *Broker) readEnded(log *slog.Logger, who string, err error, timeout time.Duration) {
	switch {
	case b.closing.Load():
		log.Debug(who+" connection closed: broker shutting down", "err", err)
	case errors.Is(err, io.EOF):
		log.Info(who + " disconnected")
	case errors.Is(err, os.ErrDeadlineExceeded):
		log.Warn(who+" sent no complete message in time: closing", "timeout", timeout)
	case errors.Is(err, ErrFrameTooLarge):
		log.Warn(who+" sent a bad frame: closing", "err", err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		log.Warn(who + " closed the connection in the middle of a frame")
	default:
		log.Warn(who+" connection failed", "err", err)
	}
}

// fromAuthor decides the answer to one message from an author: nil if it
// deserves none (it has no event role), and the event if it was accepted.
// isEvent says whether the message was an event at all, accepted or not.
// A document with an event role is an event whatever its root element, so
// a wrong root gets a nak from validation saying so. An author with an
// identity ("" for none) may publish only ivorns under it.
func (b *Broker) fromAuthor(raw []byte, identity string, log *slog.Logger, warn *warnings) (reply []byte, accepted *voevent.Event, isEvent bool) {
	return b.fromPublisher(raw, publisher{identity: identity, certified: identity != ""}, log, warn)
}

// fromPublisher is fromAuthor for an author who may publish what who
// allows: a certified TLS author without an identity publishes nothing.
func (b *Broker) fromPublisher(raw []byte, who publisher, log *slog.Logger, warn *warnings) (reply []byte, accepted *voevent.Event, isEvent bool) {
	now := time.Now()
	ev, err := voevent.Parse(raw)
	if err != nil {
		b.stats.notWellFormed.Add(1)
		warn.warn(log, "event rejected: not well-formed", "err", err)
		return Nak("", b.cfg.LocalIVO, "not well-formed XML: "+err.Error(), now), nil, false
	}
	if !IsEventRole(ev.Role) {
		warn.warn(log, "incomprehensible message from author: ignored", "root", voevent.Clip(ev.Root), "role", voevent.Clip(ev.Role))
		return nil, nil, false
	}
	log = log.With("ivorn", voevent.Clip(ev.IVORN))
	if reason := who.refusal(ev.IVORN); reason != "" {
		b.stats.outsideIdentity.Add(1)
		log.Info("event rejected", "verdict", "nak", "err", reason)
		return Nak(ev.IVORN, b.cfg.LocalIVO, reason, now), nil, true
	}
	if b.cfg.Validate != nil {
		if err := b.cfg.Validate(ev); err != nil {
			b.stats.invalid.Add(1)
			log.Info("event rejected", "verdict", "nak", "err", err)
			return Nak(ev.IVORN, b.cfg.LocalIVO, err.Error(), now), nil, true
		}
	}
	if reason := b.signatureRefusal(ev, true); reason != "" {
		log.Info("event rejected: signature", "verdict", "nak", "reason", reason)
		return Nak(ev.IVORN, b.cfg.LocalIVO, reason, now), nil, true
	}
	if b.cfg.Seen != nil {
		first, err := b.record(ev, false)
		if err != nil {
			b.stats.storageFailure.Add(1)
			log.Error("event rejected: cannot record it as seen", "verdict", "nak", "err", err)
			return Nak(ev.IVORN, b.cfg.LocalIVO, ReasonStorageFailure, now), nil, true
		}
		if !first {
			b.stats.duplicates.Add(1)
			log.Info("duplicate event: not relayed again", "verdict", "ack")
			return Ack(ev.IVORN, b.cfg.LocalIVO, ReasonDuplicate, now), nil, true
		}
	}
	log.Info("event accepted", "verdict", "ack", "role", ev.Role, "bytes", len(raw))
	return Ack(ev.IVORN, b.cfg.LocalIVO, "", now), ev, true
}
