package main

import (
	"fmt"

	"comet/voevent"
)

// maxValidateFile bounds what "comet validate" reads into memory; it is
// far above any frame a broker accepts (1 MiB by default).
const maxValidateFile = 64 << 20

var validateCmd = &command{
	name:  "validate",
	args:  "[--] FILE...",
	short: "check events as the broker checks an author's",
	long: `Checks each FILE as the broker checks an event an author submits: safe,
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
`,
	flags: func(*flagList) func([]string, stdio) int { return runValidate },
}

// runValidate is "comet validate FILE...".
func runValidate(args []string, std stdio) int {
	if len(args) == 0 {
		return std.fail(2, "no files given")
	}
	stdin, stdout, stderr := std.in, std.out, std.err
	status := 0
	for _, name := range args {
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
		fmt.Fprintf(stdout, "%s\tinvalid\t%s\t%s\n", name, voevent.OneLine(err.Error()), against)
		if status == 0 {
			status = 1
		}
	}
	return status
}
