package main

import (
	"errors"
	"flag"
	"strconv"
	"strings"
	"time"

	"comet/handlers"
	"comet/journal"
	"comet/vtp"
)

// journalFlags are --journal-age and --journal-size, and the limits of
// replay: --max-replays, --max-replay-bytes and --journal-replay.
type journalFlags struct {
	age    time.Duration // 0: no journal
	size   int64
	replay vtp.Replay
}

// register adds the journal flags to fs, with their defaults.
func (j *journalFlags) register(fs *flag.FlagSet) {
	j.age, j.size = journal.DefaultAge, journal.DefaultSize
	fs.Var(funcFlag(func(s string) error {
		d, err := handlers.ParseSeconds(s)
		if err != nil || d != 0 && d < time.Second {
			return errors.New("want 0 (no journal) or a duration of at least 1 second (259200, 72h)")
		}
		j.age = d
		return nil
	}), "journal-age", "")
	fs.Var(funcFlag(func(s string) error {
		n, err := parseSize(s)
		if err != nil || n < 1<<20 {
			return errors.New("want a size of at least 1 MiB (1073741824, 512MiB, 1GiB)")
		}
		j.size = n
		return nil
	}), "journal-size", "")
	j.replay = vtp.Replay{Max: vtp.DefaultMaxReplays, Budget: vtp.DefaultReplayBudget, Who: vtp.ReplayAny}
	fs.Var(funcFlag(func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1<<20 {
			return errors.New("want a whole number from 1 to 1048576")
		}
		j.replay.Max = n
		return nil
	}), "max-replays", "")
	fs.Var(funcFlag(func(s string) error {
		n, err := parseSize(s)
		if err != nil || n < 1<<20 {
			return errors.New("want a size of at least 1 MiB (33554432, 32MiB, 1GiB)")
		}
		j.replay.Budget = n
		return nil
	}), "max-replay-bytes", "")
	fs.Var(funcFlag(func(s string) error {
		for _, w := range []vtp.ReplayWho{vtp.ReplayAny, vtp.ReplayMTLS, vtp.ReplayNone} {
			if s == w.String() {
				j.replay.Who = w
				return nil
			}
		}
		return errors.New("want any, mtls or none")
	}), "journal-replay", "")
}

// options returns the journal's options, nil when it is off. commit is
// the broker's hook for each durable record.
func (j *journalFlags) options(commit func(uint64, any)) *journal.Options {
	if j.age == 0 {
		return nil
	}
	return &journal.Options{MaxAge: j.age, MaxSize: j.size, OnCommit: commit}
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
