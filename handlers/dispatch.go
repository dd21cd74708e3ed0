package handlers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"comet/voevent"
)

// QueueLen is how many events may wait for one handler. A handler whose
// queue is full skips the event: the skip is counted and logged, and the
// other handlers still get the event.
const QueueLen = 4096

// warnEvery is the least time between two warnings about the events one
// handler skipped.
const warnEvery = 10 * time.Second

// stopGrace is how long before a closing deadline the handlers are told
// to stop (their context cancelled, commands killed), so that they can
// stop and be closed by the deadline itself.
const stopGrace = 250 * time.Millisecond

// ContextCloser is implemented by handlers that need to know by when they
// must be closed. CloseContext must return by ctx's deadline. The
// Dispatcher calls it in preference to Close (io.Closer).
type ContextCloser interface {
	CloseContext(ctx context.Context) error
}

// Dispatcher hands every accepted event to each handler. Each handler runs
// on its own goroutine with its own bounded queue and sees events in the
// order they were accepted. Deliver never waits, so a slow or stuck
// handler delays neither the broker nor the other handlers.
type Dispatcher struct {
	log      *slog.Logger
	ctx      context.Context // the handlers'; cancelled when Close is running out of time
	cancel   context.CancelFunc
	mu       sync.RWMutex // Deliver holds it shared; Close exclusively
	closed   bool
	closeCtx context.Context // Close's, passed on to the handlers' CloseContext
	workers  []*worker
}

// HandlerStats counts one handler's events since it was added.
type HandlerStats struct {
	Name    string
	Queued  int   // waiting in its queue now, not counting one being handled
	Done    int64 // handled without error
	Failed  int64 // Handle returned an error or panicked
	Skipped int64 // never handled: the queue was full, or Close ran out of time
}

type worker struct {
	name     string
	h        Handler
	log      *slog.Logger // names the handler
	queue    chan *voevent.Event
	drained  chan struct{} // closed when it has stopped handling events
	stopped  chan struct{} // closed when, after that, it has been closed
	closeErr error         // from closing it; set before stopped is closed

	done, failed, skipped atomic.Int64

	warnMu       sync.Mutex
	unwarned     int64       // events skipped since the last warning
	firstSkipped string      // the ivorn of the first of them
	quiet        *time.Timer // running for warnEvery after a warning
}

// NewDispatcher returns a Dispatcher with no handlers.
func NewDispatcher(log *slog.Logger) *Dispatcher {
	ctx, cancel := context.WithCancel(context.Background())
	return &Dispatcher{log: log, ctx: ctx, cancel: cancel}
}

// Add starts a handler. Add all handlers before the first Deliver or Stats.
func (d *Dispatcher) Add(name string, h Handler) {
	w := &worker{name: name, h: h, log: d.log.With("handler", name),
		queue: make(chan *voevent.Event, QueueLen), drained: make(chan struct{}), stopped: make(chan struct{})}
	d.workers = append(d.workers, w)
	go d.run(w)
}

// Deliver queues ev for every handler and returns without waiting for any.
func (d *Dispatcher) Deliver(ev *voevent.Event) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		d.log.Error("event not handled: handlers already stopped", "ivorn", voevent.Clip(ev.IVORN))
		return
	}
	for _, w := range d.workers {
		select {
		case w.queue <- ev:
		default:
			w.skip(ev)
		}
	}
}

// Stats returns each handler's counters, in the order they were added.
// It takes no lock.
func (d *Dispatcher) Stats() []HandlerStats {
	stats := make([]HandlerStats, len(d.workers))
	for i, w := range d.workers {
		stats[i] = HandlerStats{Name: w.name, Queued: len(w.queue),
			Done: w.done.Load(), Failed: w.failed.Load(), Skipped: w.skipped.Load()}
	}
	return stats
}

// skip counts ev as skipped by w. The first skip is logged at once; those
// that follow within warnEvery are summed into the next warning.
func (w *worker) skip(ev *voevent.Event) {
	w.skipped.Add(1)
	w.warnMu.Lock()
	defer w.warnMu.Unlock()
	if w.unwarned == 0 {
		w.firstSkipped = voevent.Clip(ev.IVORN)
	}
	w.unwarned++
	if w.quiet == nil {
		w.warnSkipped()
	}
}

// warnSkipped logs the skips not yet logged, if there are any, and holds
// the next warning back for warnEvery. w.warnMu must be held.
func (w *worker) warnSkipped() {
	w.quiet = nil
	if w.unwarned == 0 {
		return
	}
	w.log.Warn("handler falling behind: events skipped", "skipped", w.unwarned, "first", w.firstSkipped, "queue", QueueLen)
	w.unwarned = 0
	w.quiet = time.AfterFunc(warnEvery, func() {
		w.warnMu.Lock()
		defer w.warnMu.Unlock()
		w.warnSkipped()
	})
}

// run handles w's events until its queue is closed, then closes the
// handler. Once the handlers' context is cancelled, the events still
// queued are skipped.
func (d *Dispatcher) run(w *worker) {
	defer close(w.stopped)
	var unhandled int64
	for ev := range w.queue {
		if d.ctx.Err() != nil {
			unhandled++
			w.skipped.Add(1)
			continue
		}
		d.handle(w, ev)
	}
	if unhandled > 0 {
		w.log.Warn("handler stopped before its queue was empty", "skipped", unhandled)
	}
	close(w.drained)
	switch c := w.h.(type) {
	case ContextCloser:
		w.closeErr = c.CloseContext(d.closeCtx)
	case io.Closer:
		w.closeErr = c.Close()
	}
}

// handle runs one handler on one event; a panic in a site's handler is
// logged, not allowed to take the broker down.
func (d *Dispatcher) handle(w *worker, ev *voevent.Event) {
	defer func() {
		if r := recover(); r != nil {
			w.failed.Add(1)
			w.log.Error("handler panicked", "ivorn", voevent.Clip(ev.IVORN), "panic", voevent.Clip(fmt.Sprint(r)))
		}
	}()
	if err := w.h.Handle(d.ctx, ev); err != nil {
		w.failed.Add(1)
		w.log.Warn("handler failed", "ivorn", voevent.Clip(ev.IVORN), "err", err)
		return
	}
	w.done.Add(1)
}

// Close stops accepting events and lets each handler work through its
// queue, then closes it (CloseContext gets ctx). stopGrace before ctx's
// deadline (when ctx is done, if it has no deadline) the handlers' context
// is cancelled and the events still queued are skipped. Close returns by
// ctx's deadline: a handler that has not stopped by then, busy or closing,
// is logged, named in the error, and left running. A second Close does
// nothing.
func (d *Dispatcher) Close(ctx context.Context) error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	d.closeCtx = ctx
	for _, w := range d.workers {
		close(w.queue)
	}
	d.mu.Unlock()

	stopCtx, stop := beforeDeadline(ctx)
	defer stop()
	context.AfterFunc(stopCtx, d.cancel) // stop, too, cancels stopCtx
	var errs []error
	for _, w := range d.workers {
		switch {
		case !closedBy(ctx, w.stopped):
			doing := "closing"
			if !closedBy(ctx, w.drained) {
				doing = "handling an event"
			}
			w.log.Error("handler did not stop by the deadline", "while", doing)
			errs = append(errs, fmt.Errorf("handler %s did not stop by the deadline (%s)", w.name, doing))
		case w.closeErr != nil:
			errs = append(errs, fmt.Errorf("handler %s: %w", w.name, w.closeErr))
		}
		// Log the skips still held back; a timer left running finds none.
		w.warnMu.Lock()
		w.warnSkipped()
		w.warnMu.Unlock()
	}
	return errors.Join(errs...)
}

// beforeDeadline returns a context done stopGrace before ctx's deadline,
// or when ctx is done if it has no deadline.
func beforeDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(ctx, deadline.Add(-stopGrace))
	}
	return context.WithCancel(ctx)
}

// closedBy waits until ch is closed or ctx is done, and reports whether
// ch is closed.
func closedBy(ctx context.Context, ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
