package vtp

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// A peer that repeats a fault, or anything else that logs a line, must
// not be able to flood the log: each connection logs the first warnBurst
// lines of a kind, then at most one per warnEvery, saying how many it
// left out.
const (
	warnBurst = 5
	warnEvery = time.Minute
)

// warnings rate-limits one connection's repeated warnings, by message.
// The zero value is ready to use; it is safe for concurrent use.
type warnings struct {
	mu    sync.Mutex
	kinds map[string]*warnCount
}

type warnCount struct {
	n       int
	next    time.Time // when the next one may be logged, after the burst
	dropped int
}

// warn logs msg at WARNING unless this connection has said it too often.
func (w *warnings) warn(log *slog.Logger, msg string, args ...any) {
	w.logAt(log, slog.LevelWarn, msg, args...)
}

// info logs msg at INFO unless this connection has said it too often:
// for a line a peer causes in the normal course, such as a subscriber's
// authenticate answer, which a hostile peer can repeat at will.
func (w *warnings) info(log *slog.Logger, msg string, args ...any) {
	w.logAt(log, slog.LevelInfo, msg, args...)
}

// logAt logs msg at level, rate-limited by message as warn describes.
func (w *warnings) logAt(log *slog.Logger, level slog.Level, msg string, args ...any) {
	w.mu.Lock()
	if w.kinds == nil {
		w.kinds = map[string]*warnCount{}
	}
	c := w.kinds[msg]
	if c == nil {
		c = &warnCount{}
		w.kinds[msg] = c
	}
	c.n++
	now := time.Now()
	if c.n > warnBurst {
		if now.Before(c.next) {
			c.dropped++
			w.mu.Unlock()
			return
		}
		if c.dropped > 0 {
			args = append(args, "suppressed", c.dropped)
			c.dropped = 0
		}
	}
	if c.n >= warnBurst {
		c.next = now.Add(warnEvery)
	}
	w.mu.Unlock()
	log.Log(context.Background(), level, msg, args...)
}
