package vtp

import (
	"fmt"
	"sync"
)

// queue is one subscriber's backlog of messages not yet written. It is a
// slice that grows with what is actually waiting, up to its limits, so an
// idle subscriber costs almost nothing and one that stalls is cut off
// instead of holding events forever. Pushing never blocks.
type queue struct {
	mu       sync.Mutex
	items    []item
	bytes    int
	maxItems int
	maxBytes int
}

func newQueue(maxItems, maxBytes int) *queue {
	return &queue{maxItems: maxItems, maxBytes: maxBytes}
}

// empty reports whether nothing is waiting.
func (q *queue) empty() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items) == 0
}

// push appends it, or returns why the subscriber is too far behind.
func (q *queue) push(it item) error {
	q.mu.Lock()
	if len(q.items) >= q.maxItems {
		q.mu.Unlock()
		return fmt.Errorf("too slow: %d messages waiting to be written", len(q.items))
	}
	if q.bytes+len(it.msg) > q.maxBytes {
		q.mu.Unlock()
		return fmt.Errorf("too slow: over %d bytes waiting to be written", q.maxBytes)
	}
	q.items = append(q.items, it)
	q.bytes += len(it.msg)
	q.mu.Unlock()
	return nil
}

// take moves up to max waiting items, oldest first, into dst[:0].
func (q *queue) take(dst []item, max int) []item {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(q.items), max)
	dst = append(dst[:0], q.items[:n]...)
	for _, it := range dst {
		q.bytes -= len(it.msg)
	}
	rest := copy(q.items, q.items[n:])
	clear(q.items[rest:]) // let the garbage collector have the events
	q.items = q.items[:rest]
	if cap(q.items) > 1024 && rest < cap(q.items)/8 {
		q.items = append([]item(nil), q.items...) // give back a burst's memory
	}
	return dst
}
