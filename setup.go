package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"comet/handlers"
)

// setUp does what comes before serving, once the flags are good: the
// handlers are built (so a bad handler option opens nothing), then the
// log file is opened and the pidfile written. It returns the logger and
// what to undo at exit, or else nil and the exit status, having printed
// the one-line error.
func setUp(cfg *config, stderr io.Writer) (*slog.Logger, func(), int) {
	cfg.logs = newLogOutput(cfg.logFile, stderr)
	log := newLogger(cfg.logs, cfg.logFormat, cfg.verbose-cfg.quiet)
	var printTo io.Writer // nil: --print-event puts the XML in an attribute
	if cfg.logFormat == "text" {
		printTo = cfg.logs
	}
	handlers.SetPrintOutput(printTo)
	fail := func(code int, err error) (*slog.Logger, func(), int) {
		closeHandlers(cfg.handlers)
		cfg.logs.Close()
		fmt.Fprintln(stderr, "comet:", err)
		return nil, nil, code
	}
	var err error
	if cfg.handlers, err = buildHandlers(cfg, log); err != nil {
		return fail(2, err)
	}
	if err := cfg.logs.open(); err != nil {
		return fail(2, err)
	}
	var pid *pidfile
	if cfg.pidFile != "" {
		if pid, err = writePidfile(cfg.pidFile, log); err != nil {
			return fail(1, err)
		}
	}
	return log, func() { pid.remove(); cfg.logs.Close() }, 0
}

// namedHandler is a handler built from the command line.
type namedHandler struct {
	name string
	h    handlers.Handler
}

// buildHandlers sets up every handler the command line enables, so that a
// bad handler option stops comet before it opens anything else. On error
// the handlers already built are closed.
func buildHandlers(cfg *config, log *slog.Logger) ([]namedHandler, error) {
	var hs []namedHandler
	for _, pf := range cfg.plugins {
		if !pf.enabled {
			for _, o := range pf.set {
				log.Warn(fmt.Sprintf("--%s-%s is ignored without --%s", pf.p.Name, o, pf.p.Name))
			}
			continue
		}
		opts := map[string]string{}
		for k, v := range pf.opts {
			opts[k] = *v
		}
		h, err := pf.p.New(handlers.Setup{Args: pf.args, Options: opts, Logger: log.With("handler", pf.p.Name)})
		if err != nil {
			closeHandlers(hs)
			return nil, err
		}
		hs = append(hs, namedHandler{pf.p.Name, h})
	}
	return hs, nil
}

// closeHandlers closes handlers that were built but never started.
func closeHandlers(hs []namedHandler) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, nh := range hs {
		switch h := nh.h.(type) {
		case handlers.ContextCloser:
			h.CloseContext(ctx)
		case io.Closer:
			h.Close()
		}
	}
}
