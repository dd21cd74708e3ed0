package handlers

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"comet/voevent"
)

// QueueLen is how many events may wait for one handler. When a handler
// falls that far behind, Deliver waits for it: events are acknowledged and
// must not be dropped. Handlers that may hang (commands) keep their own
// bounded queues and never make Deliver wait.
const QueueLen = 4096

// Dispatcher hands every accepted event to each handler. Each handler runs
// on its own goroutine with its own queue, so a slow or failing handler
// never delays the others, and sees events in the order they were accepted.
type Dispatcher struct {
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	mu      sync.RWMutex // Deliver holds it shared; Close exclusively
	closed  bool
	workers []*worker
	wg      sync.WaitGroup
}

type worker struct {
	name  string
	h     Handler
	queue chan *voevent.Event
}

// NewDispatcher returns a Dispatcher with no handlers.
func NewDispatcher(log *slog.Logger) *Dispatcher {
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{log: log, ctx: ctx, cancel: cancel}
}

// Add starts a handler. Add all handlers before the first Deliver.
func (d *Dispatcher) Add(name string, h Handler) {
	w := &worker{name: name, h: h, queue: make(chan *voevent.Event, QueueLen)}
	d.workers = append(d.workers, w)
	d.wg.Go(func() { d.run(w) })
}

// Deliver queues ev for every handler.
func (d *Dispatcher) Deliver(ev *voevent.Event) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		d.log.Error("event not handled: handlers already stopped", "ivorn", ev.IVORN)
		return
	}
	for _, w := range d.workers {
		w.queue <- ev
	}
}

func (d *Dispatcher) run(w *worker) {
	for ev := range w.queue {
		d.handle(w, ev)
	}
}

// handle runs one handler on one event; a panic in a site's handler is
// logged, not allowed to take the broker down.
func (d *Dispatcher) handle(w *worker, ev *voevent.Event) {
	defer func() {
		if r := recover(); r != nil {
			d.log.Error("handler panicked", "handler", w.name, "ivorn", ev.IVORN, "panic", fmt.Sprint(r))
		}
	}()
	if err := w.h.Handle(d.ctx, ev); err != nil {
		d.log.Warn("handler failed", "handler", w.name, "ivorn", ev.IVORN, "err", err)
	}
}

// Close stops accepting events, lets the handlers finish what is queued
// until ctx is done, then cancels what still runs and closes the handlers
// that implement io.Closer.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	for _, w := range d.workers {
		close(w.queue)
	}
	d.mu.Unlock()

	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("handlers: stopped before finishing: %w", ctx.Err())
		d.cancel()
	}
	d.cancel()
	for _, w := range d.workers {
		if c, ok := w.h.(io.Closer); ok {
			if cerr := c.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}
	return err
}
