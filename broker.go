package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"comet/handlers"
	"comet/seen"
	"comet/voevent"
	"comet/vtp"
)

// SIGINT/SIGTERM must exit within 5 s. Connections get shutdownBudget;
// handlers (commands still running are killed at their deadline) get
// handlersBudget from the same moment, which leaves time for the rest
// of the exit even on a loaded machine.
const (
	shutdownBudget = 4500 * time.Millisecond
	handlersBudget = 3 * time.Second
)

// runBroker runs the broker with the command line args, or prints its
// help or version, and returns the exit status: 2 for a bad command
// line, 1 for nothing to do or a failure while serving.
func runBroker(args []string, std stdio) int {
	cfg, err := parseFlags(args)
	if err == nil && !cfg.help && !cfg.version {
		err = cfg.check()
		if err == nil {
			err = cfg.load()
		}
	}
	var nothing *nothingToDo
	switch {
	case errors.As(err, &nothing):
		return std.fail(1, err)
	case err != nil:
		return std.fail(2, err)
	case cfg.help:
		usage(std.out)
		return 0
	case cfg.version:
		fmt.Fprintln(std.out, "comet (Go)", version)
		return 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// SIGHUP, sent after log rotation, must not kill the broker (its
	// default action): it is caught from the start and logged.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	log, cleanUp, code := setUp(cfg, std.err)
	if log == nil {
		return code
	}
	defer cleanUp()
	if err := serve(ctx, hup, cfg, log); err != nil {
		if cfg.logFile != "" {
			log.Error("comet failed", "err", err)
		}
		return std.fail(1, err)
	}
	return 0
}

type nothingToDo struct{}

func (nothingToDo) Error() string {
	return "nothing to do: give --receive, --broadcast, --remote or --subscribe (see --help)"
}

// check enforces the rules between flags. It reads no file.
func (c *config) check() error {
	if !c.receiveOn && !c.broadOn && len(c.remotes) == 0 && len(c.kafka) == 0 {
		return &nothingToDo{}
	}
	if err := c.checkKafka(); err != nil {
		return err
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
	return nil
}

// load reads what the extensions' flags name (the trust file, the TLS
// certificates and CAs), once the flags are known to fit together and
// before anything is opened. A bad file is a usage error naming it.
func (c *config) load() error {
	if err := c.sign.load(); err != nil {
		return err
	}
	if err := c.tls.load(c); err != nil {
		return err
	}
	return c.loadKafka()
}

// reload is SIGHUP: the log file is reopened and the files the
// extensions read at start-up are read again. A file that cannot be read
// leaves what is in force, with an ERROR.
func (c *config) reload(log *slog.Logger) {
	c.logs.hup(log)
	c.sign.reload(log)
	c.tls.reload(log)
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
	store, jr, journal, err := cfg.journal.open(dir, log)
	if err != nil {
		return err
	}
	disp := handlers.NewDispatcher(log)
	broker := vtp.New(vtp.Config{
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
		Journal:             journal,
		Replay:              cfg.journal.replay,
		Logger:              log,
	})
	var serving, consuming sync.WaitGroup
	kctx, stopKafka := context.WithCancel(context.Background())
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), shutdownBudget)
		defer cancel()
		hctx, hcancel := context.WithTimeout(context.Background(), handlersBudget)
		defer hcancel()
		// Kafka sources stop first, so that none submits into a broker
		// that is shutting down; each moves its offsets only past
		// records already durable, so stopping mid-fetch loses nothing.
		stopKafka()
		if !waitGroup(sctx, &consuming) {
			log.Warn("Kafka sources still stopping at exit")
		}
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
	sources, err := newKafkaSources(cfg, broker, dir, log)
	if err != nil {
		return err
	}
	if cfg.status != nil {
		stopStatus, err := startStatus(*cfg.status, cfg.localIVO, broker, disp, store, jr, dir, kafkaStatus(sources), log)
		if err != nil {
			return err
		}
		defer stopStatus()
	}

	listeners := []struct {
		flag, what      string
		eps             []endpoint
		serve, serveTLS func(net.Listener) error
	}{
		{"--receive", "authors", endpoints(cfg.receiveOn, cfg.receive, cfg.receivePort, cfg.authorWL), broker.ServeAuthors, broker.ServeAuthorsTLS},
		{"--broadcast", "subscribers", endpoints(cfg.broadOn, cfg.broadcast, cfg.broadcastPort, cfg.subWL), broker.ServeSubscribers, broker.ServeSubscribersTLS},
	}
	for _, ls := range listeners {
		for _, ep := range ls.eps {
			if ep.network == "dir" {
				if err := serveSpool(broker, ep.address, &serving); err != nil {
					return err
				}
				continue
			}
			l, err := listen(ep)
			if err != nil {
				return fmt.Errorf("%s: %w", ls.flag, err)
			}
			serve, network := ls.serve, l.Addr().Network()
			if ep.network == "tls" {
				serve, network = ls.serveTLS, "tls"
			}
			log.Info("listening for "+ls.what, "addr", network+":"+l.Addr().String())
			if ep.network == "tcp4" {
				log.Info(ls.flag+" listens on IPv4 only: every entry of its whitelist is IPv4; add an IPv6 entry to accept IPv6 too", "addr", l.Addr().String())
			}
			serving.Go(func() { serve(l) })
		}
	}
	for _, r := range cfg.remotes {
		broker.Subscribe(r)
	}
	for _, src := range sources {
		consuming.Go(func() { src.Run(kctx) })
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
			cfg.reload(log)
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

// endpoints returns where to listen: the explicit endpoints, or the
// given port on every interface. When every entry of the port's whitelist
// is an IPv4 network, that is every IPv4 interface only: IPv6 clients
// would be dropped, and a client that tries IPv6 first falls back to
// IPv4 only if the IPv6 connection is refused.
func endpoints(on bool, list []endpoint, port int, wl vtp.Whitelist) []endpoint {
	if !on {
		return nil
	}
	if len(list) > 0 {
		return list
	}
	if ipv4Only(wl) {
		return []endpoint{{"tcp4", "0.0.0.0:" + strconv.Itoa(port)}}
	}
	return []endpoint{{"tcp", ":" + strconv.Itoa(port)}}
}

// ipv4Only reports whether wl has entries and all are IPv4 networks.
func ipv4Only(wl vtp.Whitelist) bool {
	for _, p := range wl {
		if !p.Addr().Is4() {
			return false
		}
	}
	return len(wl) > 0
}
