package vtp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"comet/voevent"
	"comet/xpath"
)

// This file is the subscriber's side of the conversation: what it sends
// (acks, naks, iamalive answers, authenticate responses), read by
// readLoop, and what it asks for, its filters (setFilters, wants).

// subscriberReadBuffer is the read buffer of a subscriber connection:
// subscribers send small acks and iamalive answers, and larger messages
// (an authenticate response with many filters) are read through it.
const subscriberReadBuffer = 512

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
// ones sent; the rest are ignored and a warning says so. A subscriber may
// answer authenticate any number of times, so every line this logs is
// rate-limited per connection.
func (s *subscriber) setFilters(exprs []string) {
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
		s.warn.warn(s.log, "subscriber sent more filters than allowed: keeping the first ones, ignoring the rest",
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
		s.warn.logAt(s.log, slog.LevelDebug, "subscriber's filters", "filters", exprs)
	}
	s.nfilters.Store(int32(installed))
	if installed == 0 {
		s.filters.Store(nil)
		s.warn.info(s.log, "subscriber authenticated", "filters", 0)
		return
	}
	s.filters.Store(&fs)
	s.warn.info(s.log, "subscriber authenticated", "filters", installed)
}

// readLoop handles what the subscriber sends: acks, naks, iamalive and
// authenticate responses. A message is read into a buffer borrowed only
// once its length has arrived, so an idle subscriber holds none, and
// given back once handled: nearly every message is an ack, and a buffer
// for each would be most of what the broker allocates per delivery.
func (s *subscriber) readLoop() {
	r := bufio.NewReaderSize(s.c, subscriberReadBuffer)
	for {
		err := awaitFrame(r)
		var raw []byte
		var buf *[]byte
		if err == nil {
			buf = smallFrames.Get().(*[]byte)
			raw, err = readFrame(r, s.b.cfg.MaxFrame, *buf)
		}
		if err != nil {
			if buf != nil {
				smallFrames.Put(buf)
			}
			reason := "" // a plain disconnection, or our own drop
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				reason = "read failed: " + err.Error()
			}
			s.drop(reason)
			return
		}
		if s.quick(raw) {
			smallFrames.Put(buf)
			continue
		}
		if len(raw) <= len(*buf) {
			raw = bytes.Clone(raw) // it is in buf, and handle may keep it
		}
		smallFrames.Put(buf)
		s.offStack(func() { s.handle(raw) })
	}
}

// smallFrame is the size of the buffers readLoop borrows from smallFrames;
// an ack or iamalive answer is well under it, and larger messages get a
// buffer of their own.
const smallFrame = 2048

var smallFrames = sync.Pool{New: func() any { b := make([]byte, smallFrame); return &b }}

// quick deals with an ack or an iamalive answer on the reading goroutine
// itself, and reports whether raw was one: nearly everything a subscriber
// sends is, and ParseRole reads those without growing the reader's stack,
// which a goroutine per message would grow each time. Anything else,
// including a message that does not parse, is left to handle.
func (s *subscriber) quick(raw []byte) bool {
	if s.debug {
		return false // handle logs each one
	}
	_, role, err := voevent.ParseRole(raw)
	switch {
	case err != nil:
		return false
	case role == RoleAck:
		s.acked(role)
		return true
	case role == RoleIAmAlive:
		s.answered.Store(true)
		return true
	}
	return false
}

// offStack runs f on a goroutine of its own and waits for it. Parsing a
// message, and the logging that goes with it, would otherwise grow the
// reading goroutine's stack for the rest of the connection's life; a
// reader blocked in Read needs a quarter of that, and ten thousand idle
// subscribers each keep theirs.
func (s *subscriber) offStack(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer s.b.recovered(s.peer, func() { s.drop("internal error") })
		f()
	}()
	<-done
}

// handle deals with one message from the subscriber. Only the root's role
// matters for acks and iamalive answers, which are nearly all a subscriber
// sends: ParseRole checks the whole message but builds nothing. The rare
// messages whose content counts are parsed in full.
func (s *subscriber) handle(raw []byte) {
	root, role, err := voevent.ParseRole(raw)
	var ev *voevent.Event
	if err == nil && (role == RoleNak || role == RoleAuthenticate || role == RoleAck && s.debug) {
		ev, err = voevent.Parse(raw)
	}
	if err != nil {
		s.warn.warn(s.log, "unparsable message from subscriber: ignored", "err", err)
		return
	}
	switch role {
	case RoleAck, RoleNak:
		s.acked(role)
		if role == RoleNak {
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
		if s.ext != nil {
			s.ext.authenticated(ev)
		}
	default:
		s.warn.warn(s.log, "incomprehensible message from subscriber: ignored", "root", voevent.Clip(root), "role", voevent.Clip(role))
	}
}

// acked counts an ack or nak (role): the event it answers is no longer
// outstanding.
func (s *subscriber) acked(role string) {
	if role == RoleAck {
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
	if s.ext != nil {
		s.ext.acked()
	}
}
