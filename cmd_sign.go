package main

import (
	"crypto/ed25519"
	"fmt"
	"io"
	"os"

	"comet/voevent"
)

var signCmd = &command{
	name:  "sign",
	args:  "-k KEYFILE [FILE]",
	short: "append an Ed25519 signature to an event",
	long: `Prints the VOEvent in FILE (standard input when absent or "-") with the
signature comment of KEYFILE's key appended after its root element.
KEYFILE is a PEM "PRIVATE KEY", as written by "comet keygen" or
"openssl genpkey -algorithm ed25519".
Exit status: 0 signed, 1 the event cannot be signed (not well-formed,
not a VOEvent), 2 usage, an unreadable file or a bad key.
`,
	flags: func(fl *flagList) func([]string, stdio) int {
		var keyFile string
		fl.String(&keyFile, "k,key", "KEYFILE", "the signing key (required)")
		return func(args []string, std stdio) int { return runSign(args, keyFile, std) }
	},
}

// runSign is "comet sign -k KEYFILE [FILE]".
func runSign(args []string, keyFile string, std stdio) int {
	stdin, stdout, stderr := std.in, std.out, std.err
	switch {
	case keyFile == "":
		return std.fail(2, "-k KEYFILE is required")
	case len(args) > 1:
		return std.fail(2, fmt.Sprintf("unexpected argument %q: one FILE at most", args[1]))
	}
	var err error
	file := ""
	if len(args) == 1 {
		file = args[0]
	}
	var raw []byte
	if file == "" || file == "-" {
		file = "standard input"
		raw, err = io.ReadAll(stdin)
	} else {
		raw, err = os.ReadFile(file)
	}
	if err != nil {
		fmt.Fprintln(stderr, "comet sign:", err)
		return 2
	}
	key, err := voevent.LoadSigningKey(keyFile)
	if err != nil {
		fmt.Fprintln(stderr, "comet sign:", err)
		return 2
	}
	signed, err := signEvent(raw, key)
	if err != nil {
		fmt.Fprintf(stderr, "comet sign: %s: %v\n", file, err)
		return 1
	}
	if _, err := stdout.Write(signed); err != nil {
		fmt.Fprintln(stderr, "comet sign:", err)
		return 1
	}
	return 0
}

// signEvent parses raw and returns it with key's signature appended.
func signEvent(raw []byte, key ed25519.PrivateKey) ([]byte, error) {
	ev, err := voevent.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("not well-formed XML: %w", err)
	}
	return voevent.Sign(ev, key)
}

// signWithKeyFile is signEvent with the key read from keyFile, for
// "comet sendvo --sign-key".
func signWithKeyFile(keyFile string, raw []byte) ([]byte, error) {
	key, err := voevent.LoadSigningKey(keyFile)
	if err != nil {
		return nil, err
	}
	return signEvent(raw, key)
}
