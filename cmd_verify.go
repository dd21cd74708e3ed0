package main

import (
	"fmt"
	"io"
	"os"

	"comet/voevent"
)

var verifyCmd = &command{
	name:  "verify",
	args:  "--trusted-keys FILE EVENT...",
	short: "check events' signatures against a trust file",
	long: `Checks that each EVENT ("-": standard input) is validly signed by a key
the trust file lists for a prefix covering its ivorn, and prints one line
per event saying so, or why not.
Exit status: 0 every event valid, 1 any not, 2 usage or a bad trust file.
`,
	flags: func(fl *flagList) func([]string, stdio) int {
		var trustFile string
		fl.String(&trustFile, "trusted-keys", "FILE", `the trust file, "IVORN-PREFIX ed25519:KEY" a line (required)`)
		return func(args []string, std stdio) int { return runVerify(args, trustFile, std) }
	},
}

// runVerify is "comet verify --trusted-keys FILE EVENT...".
func runVerify(args []string, trustFile string, std stdio) int {
	stdin, stdout, stderr := std.in, std.out, std.err
	switch {
	case trustFile == "":
		return std.fail(2, "--trusted-keys FILE is required")
	case len(args) == 0:
		return std.fail(2, `no event files given ("-" is standard input)`)
	}
	trust, err := voevent.LoadTrust(trustFile)
	if err != nil {
		fmt.Fprintln(stderr, "comet verify:", err)
		return 2
	}
	code := 0
	for _, name := range args {
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
		return voevent.SigMalformed, "error: " + voevent.OneLine(err.Error())
	}
	ev, err := voevent.Parse(raw)
	if err != nil {
		return voevent.SigMalformed, "not well-formed XML: " + voevent.OneLine(err.Error())
	}
	if !ev.IsVOEvent() {
		return voevent.SigMalformed, fmt.Sprintf("root element is %q, not VOEvent", voevent.Clip(ev.Root))
	}
	v := trust.Check(ev)
	return v.Outcome, v.Outcome.String() + ": " + v.Reason
}
