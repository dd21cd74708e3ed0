package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"comet/voevent"
)

// runVerify implements "comet verify --trusted-keys FILE FILE...": one
// line per event file ("-" is standard input) saying whether it is
// validly signed by a key the trust file lists for a prefix covering its
// ivorn, and if not, why. Exit status: 0 every file valid, 1 any not,
// 2 usage or a bad trust file.
func runVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("verify", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	trustFile := fs.String("trusted-keys", "", "")
	help := fs.Bool("help", false, "")
	err := fs.Parse(args)
	if err == nil && *help {
		fmt.Fprintln(stdout, `Usage: comet verify --trusted-keys FILE EVENT...
Check that each EVENT ("-": standard input) is signed by a key FILE trusts for
its ivorn. One line per event; exit 0 all valid, 1 any not, 2 usage.`)
		return 0
	}
	switch {
	case err != nil:
	case *trustFile == "":
		err = fmt.Errorf("--trusted-keys FILE is required")
	case fs.NArg() == 0:
		err = fmt.Errorf("no event files given (\"-\" is standard input)")
	}
	if err != nil {
		fmt.Fprintln(stderr, "comet verify:", strings.Replace(err.Error(), " -", " --", 1))
		return 2
	}
	trust, err := voevent.LoadTrust(*trustFile)
	if err != nil {
		fmt.Fprintln(stderr, "comet verify:", err)
		return 2
	}
	code := 0
	for _, name := range fs.Args() {
		outcome, line := verifyFile(trust, name, stdin)
		if outcome != voevent.SigValid {
			code = 1
		}
		fmt.Fprintf(stdout, "%s: %s\n", name, line)
	}
	return code
}

// verifyFile checks one file and describes the result in one line.
// A file that cannot be read or parsed is reported as malformed.
func verifyFile(trust *voevent.Trust, name string, stdin io.Reader) (voevent.SignatureOutcome, string) {
	var raw []byte
	var err error
	if name == "-" {
		raw, err = io.ReadAll(stdin)
	} else {
		raw, err = os.ReadFile(name)
	}
	if err != nil {
		return voevent.SigMalformed, "error: " + oneLine(err.Error())
	}
	ev, err := voevent.Parse(raw)
	if err != nil {
		return voevent.SigMalformed, "not well-formed XML: " + oneLine(err.Error())
	}
	if !ev.IsVOEvent() {
		return voevent.SigMalformed, fmt.Sprintf("root element is %q, not VOEvent", voevent.Clip(ev.Root))
	}
	v := trust.Check(ev)
	return v.Outcome, v.Outcome.String() + ": " + v.Reason
}
