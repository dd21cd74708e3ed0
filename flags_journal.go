package main

import (
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"comet/handlers"
	"comet/journal"
	"comet/seen"
	"comet/vtp"
)

// journalFlags are --journal-age and --journal-size, and the limits of
// replay: --max-replays, --max-replay-bytes and --journal-replay.
type journalFlags struct {
	age    time.Duration // 0: no journal
	size   int64
	replay vtp.Replay
}

// register defines the journal flags on fl, with their defaults.
func (j *journalFlags) register(fl *flagList) {
	j.age, j.size = journal.DefaultAge, journal.DefaultSize
	fl.Func("journal-age", "S", `keep accepted events this long for replay to comet subscribers and "comet journal", `+
		"0 for no journal [default: 72h]", func(s string) error {
		d, err := handlers.ParseSeconds(s)
		if err != nil || d != 0 && d < time.Second {
			return errors.New("want 0 (no journal) or a duration of at least 1 second (259200, 72h)")
		}
		j.age = d
		return nil
	})
	fl.Func("journal-size", "BYTES", "most the journal may take on disk (or 512MiB, 1GiB) [default: 1GiB]", func(s string) error {
		n, err := parseSize(s)
		if err != nil || n < 1<<20 {
			return errors.New("want a size of at least 1 MiB (1073741824, 512MiB, 1GiB)")
		}
		j.size = n
		return nil
	})
	j.replay = vtp.Replay{Max: vtp.DefaultMaxReplays, Budget: vtp.DefaultReplayBudget, Who: vtp.ReplayAny}
	fl.Func("max-replays", "N", "replays to subscribers running at once; more are told to ask again later [default: 16]", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1<<20 {
			return errors.New("want a whole number from 1 to 1048576")
		}
		j.replay.Max = n
		return nil
	})
	fl.Func("max-replay-bytes", "BYTES", "journal one connection's replay may read, then it stops and the subscriber "+
		"resumes on its next connection [default: 32MiB]", func(s string) error {
		n, err := parseSize(s)
		if err != nil || n < 1<<20 {
			return errors.New("want a size of at least 1 MiB (33554432, 32MiB, 1GiB)")
		}
		j.replay.Budget = n
		return nil
	})
	fl.Func("journal-replay", "WHO", "who may ask for replay: any, mtls (subscribers with a trusted client certificate) "+
		"or none [default: any]", func(s string) error {
		for _, w := range []vtp.ReplayWho{vtp.ReplayAny, vtp.ReplayMTLS, vtp.ReplayNone} {
			if s == w.String() {
				j.replay.Who = w
				return nil
			}
		}
		return errors.New("want any, mtls or none")
	})
}

// open opens the seen-events store in dir and, when the journal is on,
// the journal as its write-ahead log. The journal comes back twice: as
// itself (nil when off), for the status pages, and as the broker's
// vtp.Journal, a true nil interface when off. The broker sets the
// journal's commit hook when it is built.
func (j *journalFlags) open(dir string, log *slog.Logger) (*seen.Store, *journal.Journal, vtp.Journal, error) {
	opts := seen.Options{Logger: log}
	o := j.options()
	if o == nil {
		store, err := seen.Open(dir, opts)
		return store, nil, nil, err
	}
	o.Logger = log
	jr := journal.New(*o)
	opts.WAL = jr.OpenWAL
	store, err := seen.Open(dir, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	return store, jr, jr, nil
}

// options returns the journal's options, nil when it is off.
func (j *journalFlags) options() *journal.Options {
	if j.age == 0 {
		return nil
	}
	return &journal.Options{MaxAge: j.age, MaxSize: j.size}
}

// parseSize reads a byte count, optionally with a binary suffix: KiB,
// MiB, GiB (K, M, G are taken to mean the same).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"K", 1 << 10}, {"M", 1 << 20}, {"G", 1 << 30}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = rest, u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, errors.New("not a size")
	}
	return n * mult, nil
}
