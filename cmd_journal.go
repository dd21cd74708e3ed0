package main

import (
	"bufio"
	"errors"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"comet/handlers"
	"comet/journal"
	"comet/seen"
	"comet/voevent"
	"comet/vtp"
)

var journalCmd = &command{
	name:  "journal",
	args:  "[--eventdb DIR] [--since TIME] [--ivorn-prefix P] [--cat [--out DIR]]",
	short: "list the events the broker's journal holds, or write them out",
	long: `Lists the events the broker's journal holds (see --journal-age), oldest
first, one tab-separated line each:

	SEQ  RECEIVED  BYTES  IVORN

RECEIVED is when the broker accepted it (UTC, RFC 3339). With --cat the
events themselves are written instead: framed as on the VTP wire (a
4-byte big-endian length, then the bytes as received) on standard output,
or with --out DIR one file per event, DIR/SEQ.xml, so that a handler can
be run again over them. The journal is only read, without a lock: this
works while the broker runs.

Exit status: 0 on success, 1 if the journal cannot be read, 2 for bad arguments.
`,
	flags: journalFlagsOf,
}

// journalFlagsOf defines "comet journal"'s flags and returns what runs it.
func journalFlagsOf(fl *flagList) func([]string, stdio) int {
	j := &journalView{}
	fl.String(&j.dir, "eventdb", "DIR", "the broker's --eventdb [default: as the broker's]")
	fl.String(&j.since, "since", "TIME", "only events received at or after TIME: RFC 3339 (2026-12-01T10:00:00Z) "+
		"or a duration before now (90m, 3600)")
	fl.String(&j.prefix, "ivorn-prefix", "P", "only events whose ivorn starts with P")
	fl.Bool(&j.cat, "cat", "write the events, not the list")
	fl.String(&j.out, "out", "DIR", "with --cat: one file per event in DIR (created if missing; "+
		"a symbolic link in it is an error, never followed)")
	return j.run
}

// journalView is one "comet journal": its flags, once parsed.
type journalView struct {
	dir, since, prefix, out string
	cat                     bool
}

// run is "comet journal", the operator's view of the journal: what it
// holds, and the events themselves for reprocessing.
func (v *journalView) run(args []string, std stdio) int {
	stdout, stderr := std.out, std.err
	if len(args) > 0 {
		return std.fail(2, fmt.Sprintf("unexpected argument %q", args[0]))
	}
	if v.out != "" && !v.cat {
		return std.fail(2, "--out needs --cat")
	}
	var from time.Time
	if v.since != "" {
		var err error
		if from, err = parseSince(v.since, time.Now()); err != nil {
			return std.fail(2, err)
		}
	}
	if v.dir == "" {
		d, err := seen.DefaultDir()
		if err != nil {
			fmt.Fprintln(stderr, "comet journal:", err)
			return 1
		}
		v.dir = d
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	j, err := journal.OpenReader(v.dir, log)
	if err != nil {
		fmt.Fprintln(stderr, "comet journal:", err)
		return 1
	}
	defer j.Close()
	var outDir *os.Root
	if v.out != "" {
		if err := os.MkdirAll(v.out, 0o755); err != nil {
			fmt.Fprintln(stderr, "comet journal:", err)
			return 1
		}
		if outDir, err = os.OpenRoot(v.out); err != nil {
			fmt.Fprintln(stderr, "comet journal:", err)
			return 1
		}
		defer outDir.Close()
	}
	w := bufio.NewWriter(stdout)
	err = j.Read(0, ^uint64(0), func(r journal.Record) error {
		if !from.IsZero() && time.Unix(0, r.Received).Before(from) {
			return nil
		}
		iv := ""
		if ev, err := voevent.ParseRoot(r.Raw); err == nil {
			iv = ev.IVORN
		}
		if !strings.HasPrefix(iv, v.prefix) {
			return nil
		}
		switch {
		case outDir != nil:
			return writeOutFile(outDir, v.out, strconv.FormatUint(r.Seq, 10)+".xml", r.Raw)
		case v.cat:
			return vtp.WriteFrame(w, r.Raw)
		}
		_, err := fmt.Fprintf(w, "%d\t%s\t%d\t%s\n", r.Seq,
			time.Unix(0, r.Received).UTC().Format(time.RFC3339Nano), len(r.Raw), escapeField(iv))
		return err
	})
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(stderr, "comet journal:", err)
		return 1
	}
	return 0
}

// writeOutFile writes raw as name in dir (called dirName in errors) for
// --out, never through a symbolic link: anyone who can write to the
// directory could have planted DIR/NAME.xml -> /etc/something. A link
// found there is an error naming it; the bytes go to a new file (O_EXCL,
// which never follows one) renamed over name, which replaces a link put
// there meanwhile rather than following it.
func writeOutFile(dir *os.Root, dirName, name string, raw []byte) error {
	path := filepath.Join(dirName, name)
	fi, err := dir.Lstat(name)
	switch {
	case err == nil && fi.Mode()&iofs.ModeSymlink != 0:
		return fmt.Errorf("%s is a symbolic link, which --out does not follow: remove it or choose another directory", path)
	case err == nil && !fi.Mode().IsRegular():
		return fmt.Errorf("%s exists and is not a regular file", path)
	case err != nil && !errors.Is(err, iofs.ErrNotExist):
		return err
	}
	tmp := "." + name + ".tmp-" + strconv.FormatUint(rand.Uint64(), 36)
	f, err := dir.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(raw)
	if e := f.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = dir.Rename(tmp, name)
	}
	if err != nil {
		dir.Remove(tmp)
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// parseSince reads --since: an RFC 3339 time, or a duration before now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := handlers.ParseSeconds(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, errors.New("--since: want an RFC 3339 time (2026-12-01T10:00:00Z) or a duration (90m, 3600)")
}
