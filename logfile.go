package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
)

// logOutput is where the log goes: standard error, or the --logfile file,
// which reopen opens anew after log rotation. With a file, lines logged
// before open (while handlers are set up) wait in memory, so that nothing
// is created until the whole command line is known to be good.
type logOutput struct {
	mu      sync.Mutex
	path    string // "" for standard error
	stderr  io.Writer
	f       *os.File // the open log file, nil before open
	pending bytes.Buffer
}

// newLogOutput logs to the file at path; "" or "-" (twistd's spelling
// for the standard stream) is standard error.
func newLogOutput(path string, stderr io.Writer) *logOutput {
	if path == "-" {
		path = ""
	}
	return &logOutput{path: path, stderr: stderr}
}

// Write writes one log line.
func (o *logOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case o.path == "":
		return o.stderr.Write(p)
	case o.f == nil:
		return o.pending.Write(p)
	}
	return o.f.Write(p)
}

// open opens the log file, if there is one, and writes the lines logged so far.
func (o *logOutput) open() error {
	if o.path == "" {
		return nil
	}
	f, err := openLogFile(o.path)
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.f = f
	_, err = o.pending.WriteTo(f)
	return err
}

// reopen opens the log file at its path again, for a file renamed by log
// rotation. If that fails the log goes on to the file already open.
func (o *logOutput) reopen() error {
	f, err := openLogFile(o.path)
	if err != nil {
		return err
	}
	o.mu.Lock()
	old := o.f
	o.f = f
	o.mu.Unlock()
	if old == nil {
		return nil
	}
	return old.Close()
}

// Close closes the log file. Lines that never reached one, because it
// could not be opened, go to standard error.
func (o *logOutput) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f == nil {
		o.pending.WriteTo(o.stderr)
		return nil
	}
	return o.f.Close()
}

// hup handles SIGHUP: the log file, if any, is reopened.
func (o *logOutput) hup(log *slog.Logger) {
	if o.path == "" {
		log.Info("SIGHUP received: no --logfile to reopen; still serving")
		return
	}
	if err := o.reopen(); err != nil {
		log.Error("SIGHUP received: cannot reopen the log file; still logging to the old one", "logfile", o.path, "err", err)
		return
	}
	log.Info("SIGHUP received: log file reopened", "logfile", o.path)
}

func openLogFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("--logfile: %w", err)
	}
	return f, nil
}

// newLogger logs to w in format ("text" or "json") at INFO, one level
// more per -v, one less per -q.
func newLogger(w io.Writer, format string, verbosity int) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo - slog.Level(4*verbosity)}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
