package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"comet/handlers"
	"comet/seen"
	"comet/voevent"
	"comet/vtp"
)

const journalUsage = `usage: comet journal [--eventdb DIR] [--since TIME] [--ivorn-prefix P] [--cat [--out DIR]]

Lists the events the broker's journal holds (see --journal-age), oldest
first, one tab-separated line each:

	SEQ  RECEIVED  BYTES  IVORN

RECEIVED is when the broker accepted it (UTC, RFC 3339). With --cat the
events themselves are written instead: framed as on the VTP wire (a
4-byte big-endian length, then the bytes as received) on standard output,
or with --out DIR one file per event, DIR/SEQ.xml, so that a handler can
be run again over them. The journal is only read, without a lock: this
works while the broker runs.

  --eventdb=DIR         the broker's --eventdb [default: as the broker's]
  --since=TIME          only events received at or after TIME: RFC 3339
                        (2026-12-01T10:00:00Z) or a duration before now (90m, 3600)
  --ivorn-prefix=P      only events whose ivorn starts with P
  --cat                 write the events, not the list
  --out=DIR             with --cat: one file per event in DIR (created if missing)

Exit status: 0 on success, 1 if the journal cannot be read, 2 for bad arguments.
`

// runJournal implements "comet journal", the operator's view of the
// journal: what it holds, and the events themselves for reprocessing.
func runJournal(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("comet journal", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("eventdb", "", "")
	since := fs.String("since", "", "")
	prefix := fs.String("ivorn-prefix", "", "")
	cat := fs.Bool("cat", false, "")
	out := fs.String("out", "", "")
	help := fs.Bool("help", false, "")
	fs.BoolVar(help, "h", false, "")
	usageErr := func(msg string) int {
		fmt.Fprintf(stderr, "comet journal: %s\n%s", oneLine(msg), journalUsage)
		return 2
	}
	if err := fs.Parse(args); err != nil {
		return usageErr(err.Error())
	}
	if *help {
		fmt.Fprint(stdout, journalUsage)
		return 0
	}
	if fs.NArg() > 0 {
		return usageErr(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if *out != "" && !*cat {
		return usageErr("--out needs --cat")
	}
	var from time.Time
	if *since != "" {
		var err error
		if from, err = parseSince(*since, time.Now()); err != nil {
			return usageErr(err.Error())
		}
	}
	if *dir == "" {
		d, err := seen.DefaultDir()
		if err != nil {
			fmt.Fprintln(stderr, "comet journal:", err)
			return 1
		}
		*dir = d
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	j, err := seen.OpenJournal(*dir, log)
	if err != nil {
		fmt.Fprintln(stderr, "comet journal:", err)
		return 1
	}
	defer j.Close()
	if *out != "" {
		if err := os.MkdirAll(*out, 0o755); err != nil {
			fmt.Fprintln(stderr, "comet journal:", err)
			return 1
		}
	}
	w := bufio.NewWriter(stdout)
	err = j.Read(0, ^uint64(0), func(r seen.JournalRecord) error {
		if !from.IsZero() && time.Unix(0, r.Received).Before(from) {
			return nil
		}
		iv := ""
		if ev, err := voevent.ParseRoot(r.Raw); err == nil {
			iv = ev.IVORN
		}
		if !strings.HasPrefix(iv, *prefix) {
			return nil
		}
		switch {
		case *out != "":
			name := filepath.Join(*out, strconv.FormatUint(r.Seq, 10)+".xml")
			return os.WriteFile(name, r.Raw, 0o644)
		case *cat:
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
