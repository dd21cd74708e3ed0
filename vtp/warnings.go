package vtp

import (
	"log/slog"
	"sync"
	"time"
)

// A peer that repeats a fault must not be able to flood the log: each
// connection logs the first warnBurst warnings of a kind, then at most one
// per warnEvery, saying how many it left out.
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
	log.Warn(msg, args...)
}
