package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"comet/voevent"
)

func init() {
	Register(Plugin{
		Name:  "cmd",
		Arg:   "PATH",
		Usage: "run PATH for every event, with the event on its standard input (repeatable)",
		Options: []Option{
			{Name: "timeout", Default: "60s", Usage: "kill a command still running after this long (0: never)"},
			{Name: "concurrency", Default: "4", Usage: "commands of one PATH that may run at once"},
			{Name: "queue", Default: "1000", Usage: "events that may wait for a free slot before new ones are skipped"},
		},
		New: newSpawner,
	})
}

// maxOutput bounds how much of a command's stdout and stderr is kept for
// the log, so a chatty command cannot use up memory.
const maxOutput = 64 << 10

// spawner runs the --cmd programs. Each PATH has a fixed pool of workers
// fed by a bounded queue: a command that hangs occupies its slot until the
// timeout kills it, and when the queue is full new events skip that
// command (logged) instead of piling up processes or blocking the broker.
type spawner struct {
	log       *slog.Logger
	timeout   time.Duration
	pools     []*pool
	ctx       context.Context // cancelled at shutdown: no more runs start
	cancel    context.CancelFunc
	wg        sync.WaitGroup // the pools' workers
	idle      chan struct{}  // closed when every worker has returned
	closeOnce sync.Once

	mu      sync.Mutex
	running map[*exec.Cmd]bool // started, and Wait has not returned
}

type pool struct {
	path   string
	queue  chan *voevent.Event
	notRun atomic.Int64 // events taken from the queue after shutdown began
}

func newSpawner(s Setup) (Handler, error) {
	timeout, err := ParseSeconds(s.Option("timeout"))
	if err != nil {
		return nil, fmt.Errorf("--cmd-timeout: %w", err)
	}
	conc, err := strconv.Atoi(s.Option("concurrency"))
	if err != nil || conc < 1 {
		return nil, fmt.Errorf("--cmd-concurrency: %q is not a positive integer", s.Option("concurrency"))
	}
	qlen, err := strconv.Atoi(s.Option("queue"))
	if err != nil || qlen < 0 {
		return nil, fmt.Errorf("--cmd-queue: %q is not a non-negative integer", s.Option("queue"))
	}
	ctx, cancel := context.WithCancel(context.Background())
	sp := &spawner{log: s.Logger, timeout: timeout, ctx: ctx, cancel: cancel,
		idle: make(chan struct{}), running: map[*exec.Cmd]bool{}}
	for _, path := range s.Args {
		if _, err := exec.LookPath(path); err != nil {
			// It may be installed later; every failed run is logged too.
			s.Logger.Warn("--cmd: not runnable now", "cmd", path, "err", err)
		}
		p := &pool{path: path, queue: make(chan *voevent.Event, qlen)}
		sp.pools = append(sp.pools, p)
		for range conc {
			sp.wg.Go(func() {
				for ev := range p.queue {
					if sp.ctx.Err() != nil {
						p.notRun.Add(1)
						continue
					}
					sp.run(p.path, ev)
				}
			})
		}
	}
	return sp, nil
}

// ParseSeconds reads a duration as Comet-style seconds ("30", "0.5") or a
// Go duration ("90s", "5m").
func ParseSeconds(s string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil && f >= 0 {
		return time.Duration(f * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	return d, nil
}

// Handle queues ev for every command without waiting.
func (sp *spawner) Handle(_ context.Context, ev *voevent.Event) error {
	var errs []error
	for _, p := range sp.pools {
		select {
		case p.queue <- ev:
		default:
			errs = append(errs, fmt.Errorf("cmd %s: %d events already waiting: not run for this one", p.path, cap(p.queue)))
		}
	}
	return errors.Join(errs...)
}

// run executes one command for one event.
func (sp *spawner) run(path string, ev *voevent.Event) {
	ctx := sp.ctx
	if sp.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, sp.timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, path)
	cmd.Stdin = bytes.NewReader(ev.Raw)
	var stdout, stderr capped
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ownGroup(cmd)
	cmd.WaitDelay = 5 * time.Second // stop waiting for output from orphaned grandchildren
	start := time.Now()
	err := cmd.Start()
	if err == nil {
		sp.mu.Lock()
		sp.running[cmd] = true
		sp.mu.Unlock()
		err = cmd.Wait()
		sp.mu.Lock()
		delete(sp.running, cmd)
		sp.mu.Unlock()
	}
	log := sp.log.With("cmd", path, "ivorn", voevent.Clip(ev.IVORN))
	if stdout.Len() > 0 {
		log.Debug("command output", "stdout", stdout.String())
	}
	if stderr.Len() > 0 {
		log.Debug("command output", "stderr", stderr.String())
	}
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		log.Warn("command failed: killed after timeout", "timeout", sp.timeout)
	case err != nil && sp.ctx.Err() != nil:
		log.Warn("command failed: stopped at shutdown", "err", err)
	case err != nil:
		log.Warn("command failed", "err", err)
	default:
		log.Debug("command succeeded", "elapsed", time.Since(start).Round(time.Millisecond))
	}
}

// CloseContext lets the commands queued and running go on until
// stopGrace before ctx's deadline (until ctx is done, if it has none).
// Then it kills the process group of every command not yet waited for,
// which includes one that has exited but left processes holding its
// output open, and drops the events still queued. It returns by ctx's
// deadline even if a process outside the group keeps the output open.
func (sp *spawner) CloseContext(ctx context.Context) error {
	sp.closeOnce.Do(func() {
		for _, p := range sp.pools {
			close(p.queue)
		}
		go func() { sp.wg.Wait(); close(sp.idle) }()
	})
	stopCtx, stop := beforeDeadline(ctx)
	defer stop()
	var err error
	if !closedBy(stopCtx, sp.idle) {
		sp.cancel()
		sp.mu.Lock()
		for cmd := range sp.running {
			killGroup(cmd)
		}
		sp.mu.Unlock()
		if !closedBy(ctx, sp.idle) {
			sp.mu.Lock()
			err = fmt.Errorf("cmd: %d commands still being waited for at the deadline", len(sp.running))
			sp.mu.Unlock()
		}
	}
	sp.cancel()
	for _, p := range sp.pools {
		if n := p.notRun.Load(); n > 0 {
			sp.log.Warn("command not run for queued events: shutting down", "cmd", p.path, "events", n)
		}
	}
	return err
}

// capped is a buffer that keeps the first maxOutput bytes written to it.
type capped struct{ bytes.Buffer }

func (c *capped) Write(p []byte) (int, error) {
	if room := maxOutput - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
