// Command comet is a VOEvent broker, a drop-in replacement for Comet 3.1:
// the same command line, wire protocol and defaults, as one static binary.
//
//	comet --receive --broadcast --local-ivo=ivo://example.org/broker
//
// It also carries the author's and operator's tools, one subcommand each:
//
//	comet sendvo     submit an event as an author (also run as comet-sendvo)
//	comet validate   check events as the broker would
//	comet xpath      try a subscriber's filter on saved events
//	comet status     summarise a running broker's --status pages
//	comet journal    list or extract the events the broker's journal holds
//	comet keygen     make an Ed25519 signing key and its trust-file line
//	comet sign       append an event's signature
//	comet verify     check events' signatures against a trust file
//	comet help       the commands, and the documentation built into the binary
//
// The files of this package:
//
//   - main.go: this index and main, which only dispatches.
//   - command.go: the command type, the table of subcommands, the
//     dispatcher (help, the comet-sendvo name, exit statuses) and "comet help".
//   - flaglist.go: the flag definitions help is written from.
//   - cmd_*.go: one subcommand each.
//   - broker.go: the broker: flag rules, loading what extension flags
//     name, wiring the core and serving; setup.go: logging, handlers
//     and the pidfile before serving.
//   - flags.go, args.go, endpoint.go: the broker's command line.
//   - flags_tls.go, flags_sign.go, flags_journal.go, flags_spool.go,
//     flags_status.go: each extension's flags and wiring, one file each.
//   - helpers.go: what several commands share.
//   - logfile.go, pidfile*.go: --logfile and --pidfile.
package main

import (
	"os"
	"path/filepath"
)

// version is reported by --version and in test events.
const version = "1.0.0"

func main() {
	os.Exit(dispatch(filepath.Base(os.Args[0]), os.Args[1:], stdio{in: os.Stdin, out: os.Stdout, err: os.Stderr, name: "comet"}))
}
