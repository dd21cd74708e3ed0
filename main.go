// Command comet is a VOEvent broker, a drop-in replacement for Comet 3.1:
// the same command line, wire protocol and defaults, as one static binary.
//
//	comet --receive --broadcast --local-ivo=ivo://example.org/broker
//
// It also carries the author's tools: "comet sendvo" (or the binary
// invoked as comet-sendvo) submits an event, "comet validate" checks
// events as the broker would, "comet xpath" tries a filter on files, and
// "comet status" summarises a running broker's --status pages.
// See README.md for the flags and the differences from Comet.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"comet/handlers"
	"comet/journal"
	"comet/seen"
	"comet/voevent"
	"comet/vtp"
)

// version is reported by --version and in test events.
const version = "1.0.0"

// SIGINT/SIGTERM must exit within 5 s. Connections get shutdownBudget;
// handlers (commands still running are killed at their deadline) get
// handlersBudget from the same moment, which leaves time for the rest
// of the exit even on a loaded machine.
const (
	shutdownBudget = 4500 * time.Millisecond
	handlersBudget = 3 * time.Second
)

func main() {
	if filepath.Base(os.Args[0]) == "comet-sendvo" {
		os.Exit(runSendvo(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches the subcommands, or runs the broker, and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "sendvo":
			return runSendvo(args[1:], os.Stdin, stdout, stderr)
		case "validate":
			return runValidate(args[1:], stdout, stderr)
		case "xpath":
			return runXPath(args[1:], stdout, stderr)
		case "status":
			return runStatus(args[1:], stdout, stderr)
		case "keygen":
			return runKeygen(args[1:], stdout, stderr)
		case "sign":
			return runSign(args[1:], os.Stdin, stdout, stderr)
		case "verify":
			return runVerify(args[1:], os.Stdin, stdout, stderr)
		case "journal":
			return runJournal(args[1:], stdout, stderr)
		}
	}
	cfg, err := parseFlags(args, stderr)
	if err == nil {
		err = cfg.check()
	}
	if err == nil && !cfg.help && !cfg.version {
		err = cfg.tls.load(cfg)
	}
	var nothing *nothingToDo
	switch {
	case errors.As(err, &nothing):
		fmt.Fprintln(stderr, "comet:", err)
		return 1
	case err != nil:
		fmt.Fprintln(stderr, "comet:", err)
		return 2
	case cfg.help:
		usage(stdout)
		return 0
	case cfg.version:
		fmt.Fprintln(stdout, "comet (Go)", version)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGHUP, sent after log rotation, must not kill the broker (its
	// default action): it is caught from the start and logged.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log, cleanUp, code := setUp(cfg, stderr)
	if log == nil {
		return code
	}
	defer cleanUp()
	if err := serve(ctx, hup, cfg, log); err != nil {
		if cfg.logFile != "" {
			log.Error("comet failed", "err", err)
		}
		fmt.Fprintln(stderr, "comet:", err)
		return 1
	}
	return 0
}

type nothingToDo struct{}

func (nothingToDo) Error() string {
	return "nothing to do: give --receive, --broadcast or --remote (see --help)"
}

// check enforces the rules between flags.
func (c *config) check() error {
	if c.help || c.version {
		return nil
	}
	if !c.receiveOn && !c.broadOn && len(c.remotes) == 0 {
		return &nothingToDo{}
	}
	for _, ep := range c.broadcast {
		if ep.network == "dir" {
			return &usageError{fmt.Sprintf("invalid value %q for flag --broadcast: a spool directory is for --receive", "dir:"+ep.address)}
		}
	}
	if c.localIVO == "" && (c.receiveOn || c.broadOn) {
		return &usageError{"--local-ivo is required with --receive or --broadcast"}
	}
	if c.localIVO != "" {
		if err := voevent.ValidIVOID(c.localIVO); err != nil {
			return &usageError{fmt.Sprintf("invalid value %q for flag --local-ivo: %v", c.localIVO, err)}
		}
	}
	return c.sign.load()
}

// serve runs the broker until ctx is done, then shuts it down within
// shutdownBudget: listeners close, author transactions in progress finish,
// handlers drain, and the seen store is flushed. Each value on hup is a
// SIGHUP.
func serve(ctx context.Context, hup <-chan os.Signal, cfg *config, log *slog.Logger) (err error) {
	dir := cfg.eventDB
	if dir == "" {
		if dir, err = seen.DefaultDir(); err != nil {
			return err
		}
	}
	var broker *vtp.Broker // the journal's commit hook needs it; no event arrives before it is set
	so := seen.Options{Logger: log}
	var jr *journal.Journal
	var vj vtp.Journal
	if o := cfg.journal.options(func(seq uint64, p any) { broker.Journaled(seq, p) }); o != nil {
		o.Logger = log
		jr = journal.New(*o)
		so.WAL, vj = jr.OpenWAL, jr
	}
	store, err := seen.Open(dir, so)
	if err != nil {
		return err
	}
	disp := handlers.NewDispatcher(log)
	broker = vtp.New(vtp.Config{
		LocalIVO:            cfg.localIVO,
		MaxFrame:            cfg.maxFrame,
		AuthorWhitelist:     cfg.authorWL,
		SubscriberWhitelist: cfg.subWL,
		Filters:             cfg.filters,
		MaxFilters:          cfg.maxFilters,
		MaxFilterBytes:      cfg.maxFilterBytes,
		MaxConns:            cfg.maxConns,
		MaxConnsPerAddr:     cfg.maxConnsPerAddr,
		Timers:              vtp.Timers{BackoffMax: cfg.remoteBackoffMax},
		TLS:                 cfg.tls.brokerConf,
		Validate:            voevent.Validate,
		Signatures:          cfg.sign.hook(log),
		Seen:                func(el []byte) (bool, error) { return store.CheckAndRecord(seen.KeyOf(el)) },
		SeenRemote:          func(el []byte) (bool, error) { return store.CheckAndKeep(seen.KeyOf(el)) },
		Deliver:             disp.Deliver,
		Journal:             vj,
		Replay:              cfg.journal.replay,
		Logger:              log,
	})
	var serving sync.WaitGroup
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownBudget)
		defer cancel()
		hctx, hcancel := context.WithTimeout(context.Background(), handlersBudget)
		defer hcancel()
		if e := broker.Shutdown(sctx); e != nil {
			log.Warn("connections still open at exit", "err", e)
		}
		serving.Wait()
		if e := disp.Close(hctx); e != nil {
			log.Warn("handlers did not finish", "err", e)
		}
		if e := store.Close(); e != nil && err == nil {
			err = e
		}
		log.Info("comet stopped")
	}()

	for _, nh := range cfg.handlers {
		disp.Add(nh.name, nh.h)
		log.Info("handler enabled", "handler", nh.name)
	}
	if cfg.status != nil {
		stopStatus, err := startStatus(*cfg.status, cfg.localIVO, broker, disp, store, jr, dir, log)
		if err != nil {
			return err
		}
		defer stopStatus()
	}

	listeners := []struct {
		flag            string
		eps             []endpoint
		serve, serveTLS func(net.Listener) error
	}{
		{"--receive", endpoints(cfg.receiveOn, cfg.receive, cfg.receivePort, cfg.authorWL), broker.ServeAuthors, broker.ServeAuthorsTLS},
		{"--broadcast", endpoints(cfg.broadOn, cfg.broadcast, cfg.broadcastPort, cfg.subWL), broker.ServeSubscribers, broker.ServeSubscribersTLS},
	}
	for _, ls := range listeners {
		for _, ep := range ls.eps {
			if ep.network == "dir" {
				sp, err := broker.OpenSpool(ep.address)
				if err != nil {
					return fmt.Errorf("--receive: %w", err)
				}
				serving.Go(func() { sp.Serve() })
				continue
			}
			l, err := listen(ep)
			if err != nil {
				return fmt.Errorf("%s: %w", ls.flag, err)
			}
			what := "authors"
			if ls.flag == "--broadcast" {
				what = "subscribers"
			}
			serve, network := ls.serve, l.Addr().Network()
			if ep.network == "tls" {
				serve, network = ls.serveTLS, "tls"
			}
			log.Info("listening for "+what, "addr", network+":"+l.Addr().String())
			if ep.network == "tcp4" {
				log.Info(ls.flag+" listens on IPv4 only: every entry of its whitelist is IPv4; add an IPv6 entry to accept IPv6 too", "addr", l.Addr().String())
			}
			serving.Go(func() { serve(l) })
		}
	}
	for _, r := range cfg.remotes {
		broker.Subscribe(r)
	}
	if cfg.broadOn && cfg.testInterval > 0 {
		broker.SendTestEvents(cfg.testInterval, func(now time.Time) []byte {
			return voevent.TestEvent(cfg.localIVO, now, "comet (Go) "+version)
		})
	}
	log.Info("comet started", "version", version, "local-ivo", cfg.localIVO)
	for {
		select {
		case <-hup:
			cfg.logs.hup(log)
			cfg.sign.reload(log)
			cfg.tls.reload(log)
		case <-ctx.Done():
			log.Info("shutting down")
			return nil
		}
	}
}

// listen opens an endpoint. A Unix socket left behind by a broker that
// died is removed first, but only if nothing answers on it.
func listen(ep endpoint) (net.Listener, error) {
	if ep.network == "unix" {
		if fi, err := os.Lstat(ep.address); err == nil && fi.Mode()&os.ModeSocket != 0 {
			if c, err := net.Dial("unix", ep.address); err == nil {
				c.Close()
			} else {
				os.Remove(ep.address)
			}
		}
	}
	if ep.network == "tls" {
		return net.Listen("tcp", ep.address)
	}
	return net.Listen(ep.network, ep.address)
}
