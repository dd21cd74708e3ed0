package main

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"time"

	"comet/handlers"
	"comet/journal"
	"comet/kafka"
	"comet/seen"
	"comet/status"
	"comet/vtp"
)

// registerStatus defines --status on fl: where to serve the status
// pages, set in *ep (nil when off).
func registerStatus(fl *flagList, ep **endpoint) {
	fl.Func("status", "ENDPOINT", "serve /healthz, /status, /metrics and / over HTTP (tcp:PORT[:interface=ADDR], "+
		"loopback by default; unix:PATH)", func(s string) error {
		e, err := parseStatusEndpoint(s)
		*ep = &e
		return err
	})
}

// parseStatusEndpoint reads --status: tcp:PORT[:interface=ADDR] or
// unix:PATH. Without an interface a TCP endpoint is on loopback only.
func parseStatusEndpoint(s string) (endpoint, error) {
	ep, err := parseEndpoint(s)
	if err != nil {
		return endpoint{}, err
	}
	switch ep.network {
	case "unix":
	case "tcp":
		if strings.HasPrefix(ep.address, ":") {
			ep.address = "127.0.0.1" + ep.address
		}
	default:
		return endpoint{}, fmt.Errorf("endpoint %q: want tcp:PORT[:interface=ADDR] or unix:PATH", s)
	}
	return ep, nil
}

// startStatus opens the --status listener and serves the status pages
// on it; stop closes it.
func startStatus(ep endpoint, localIVO string, broker *vtp.Broker, disp *handlers.Dispatcher, store *seen.Store, jr *journal.Journal, dir string,
	kafkaSources func() []kafka.Status, log *slog.Logger) (stop func(), err error) {
	l, err := listen(ep)
	if err != nil {
		return nil, fmt.Errorf("--status: %w", err)
	}
	log.Info("listening for status requests", "addr", l.Addr().Network()+":"+l.Addr().String())
	srv := status.Serve(l, &status.Source{
		Version: version, LocalIVO: localIVO, Start: time.Now(),
		Broker: broker.Snapshot, Handlers: disp.Stats,
		StoreErr: store.Err, StoreLen: store.Len, StoreCompacted: store.LastCompaction, StoreFile: filepath.Join(dir, "seen.log"),
		Journal: jr.Stats, Kafka: kafkaSources,
	})
	return func() {
		if err := srv.Close(); err != nil {
			log.Error("status server had stopped", "err", err)
		}
	}, nil
}
