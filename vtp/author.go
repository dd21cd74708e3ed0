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
	identity := PeerIdentity(c)
	log := b.log.With(append([]any{"peer", peer}, identityArgs(identity)...)...)
	src := &source{kind: authorSource, name: "author " + peer, who: peerPublisher(c), warn: new(warnings)}
	if identity != "" {
		src.name += " " + voevent.Clip(identity)
	}
	log.Debug("author connected")
	start, messages := time.Now(), 0
	deadline := start.Add(b.cfg.Timers.AuthorTimeout)
	r := bufio.NewReader(c)
	for ; ; messages++ {
		c.SetReadDeadline(deadline)
		if b.closing.Load() { // checked after the deadline: Shutdown sets closing, then the deadline
			return
		}
		raw, err := ReadFrame(r, b.cfg.MaxFrame)
		if big, ok := skipOversized(r, err); ok {
			b.stats.oversized.Add(1)
			src.warn.warn(log, "event refused: over the frame limit", "bytes", big.Length, "limit", big.Limit)
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
		v := b.submit(raw, src, log)
		if v.event {
			deadline = time.Now().Add(b.cfg.Timers.AuthorTimeout)
		}
		// An accepted event is queued for subscribers and handlers before
		// the ack goes out: an author that waits for each ack then sees its
		// events relayed in the order it sent them. Queueing never blocks,
		// so neither subscribers nor handlers delay the ack. The event is
		// recorded as seen, so it is delivered even if the ack cannot be
		// written.
		if v.kind == verdictAccepted {
			b.pass(v, src)
		}
		if reply := b.authorReply(v); reply != nil {
			c.SetWriteDeadline(time.Now().Add(b.cfg.Timers.WriteTimeout))
			if err := WriteFrame(c, reply); err != nil {
				log.Warn("cannot answer author", "err", err)
			}
		}
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

// authorReply is an author's answer to a verdict: an ack for an event
// accepted or already seen (saying it was not relayed again), a nak
// with the reason for one refused or not recorded, nothing for a
// message that is not an event.
func (b *Broker) authorReply(v verdict) []byte {
	now := time.Now()
	switch v.kind {
	case verdictAccepted:
		return Ack(v.ivorn, b.cfg.LocalIVO, "", now)
	case verdictDuplicate:
		return Ack(v.ivorn, b.cfg.LocalIVO, ReasonDuplicate, now)
	case verdictRefused, verdictFailed:
		return Nak(v.ivorn, b.cfg.LocalIVO, v.reason, now)
	}
	return nil
}
