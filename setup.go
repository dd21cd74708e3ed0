package main

import (
	"fmt"
	"io"
	"log/slog"

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
