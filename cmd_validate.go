package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"comet/voevent"
)

// maxValidateFile bounds what "comet validate" reads into memory; it is
// far above any frame a broker accepts (1 MiB by default).
const maxValidateFile = 64 << 20

const validateUsage = `usage: comet validate [--] FILE...

Checks each FILE as the broker checks an event an author submits: safe,
well-formed XML, valid against the VOEvent schema its root element's
namespace names (2.0 or 2.1), and an ivorn that is an IVOA identifier
with a local part after '#' (or, in a 2.1 event, '?'); there is no
duplicate check. A FILE of "-" is standard input.
Prints one line per file, tab-separated: FILE, "valid" or "invalid", for
an invalid file the reason, and last the schema checked against
("VOEvent 2.0", "VOEvent 2.1", or "-" when the file is not XML or its
root is not a VOEvent in either namespace). Exit status: 0 if every file
is valid, 1 if any is invalid, 2 on a usage error or a file that cannot
be read.
`

// runValidate implements "comet validate FILE...".
func runValidate(args []string, stdout, stderr io.Writer) int {
	return runValidateFrom(args, os.Stdin, stdout, stderr)
}

// runValidateFrom is runValidate with "-" read from stdin.
func runValidateFrom(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("comet validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // printed below: on stdout for -h, stderr otherwise
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, validateUsage)
			return 0
		}
		fmt.Fprint(stderr, validateUsage) // flag has printed the error
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "comet validate: no files given")
		fmt.Fprint(stderr, validateUsage)
		return 2
	}
	status := 0
	for _, name := range fs.Args() {
		var raw []byte
		var err error
		if name == "-" {
			raw, err = readAllLimited(stdin, "standard input", maxValidateFile)
		} else {
			raw, err = readLimited(name, maxValidateFile)
		}
		if err != nil {
			fmt.Fprintf(stderr, "comet validate: %v\n", err)
			status = 2
			continue
		}
		against := "-"
		e, err := voevent.Parse(raw)
		if err == nil {
			if v := voevent.Version(e); v != "" {
				against = "VOEvent " + v
			}
			err = voevent.Validate(e)
		}
		if err == nil {
			fmt.Fprintf(stdout, "%s\tvalid\t%s\n", name, against)
			continue
		}
		fmt.Fprintf(stdout, "%s\tinvalid\t%s\t%s\n", name, oneLine(err.Error()), against)
		if status == 0 {
			status = 1
		}
	}
	return status
}

// readLimited reads a whole file of at most limit bytes.
func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllLimited(f, name, limit)
}

// readAllLimited reads r to its end, refusing more than limit bytes; name
// is what the error for a larger one calls r.
func readAllLimited(r io.Reader, name string, limit int64) ([]byte, error) {
	raw, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(raw)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, limit)
	}
	return raw, nil
}

// oneLine keeps a reason on one line of tab-separated output.
func oneLine(s string) string { return lineBreaks.Replace(s) }

var lineBreaks = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ")
