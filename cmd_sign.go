package main

import (
	"crypto/ed25519"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"comet/voevent"
)

// runSign implements "comet sign -k KEYFILE [FILE]": it prints the event
// in FILE (standard input when absent or "-") with the signature comment
// of KEYFILE's key appended after the root element. Exit status: 0
// signed, 1 the event cannot be signed (not well-formed, not a VOEvent),
// 2 usage, an unreadable file or a bad key.
func runSign(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sign", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var keyFile string
	for _, n := range []string{"k", "key"} {
		fs.StringVar(&keyFile, n, "", "")
	}
	help := fs.Bool("help", false, "")
	err := fs.Parse(args)
	if err == nil && *help {
		fmt.Fprintln(stdout, `Usage: comet sign -k KEYFILE [FILE]
Print the VOEvent in FILE (default: standard input) with an Ed25519 signature
comment appended after its root element. KEYFILE is a PEM "PRIVATE KEY", as
written by "comet keygen" or "openssl genpkey -algorithm ed25519".`)
		return 0
	}
	switch {
	case err != nil:
	case keyFile == "":
		err = fmt.Errorf("-k KEYFILE is required")
	case fs.NArg() > 1:
		err = fmt.Errorf("unexpected argument %q: one FILE at most", fs.Arg(1))
	}
	if err != nil {
		fmt.Fprintln(stderr, "comet sign:", strings.Replace(err.Error(), " -", " --", 1))
		return 2
	}
	file := fs.Arg(0)
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
