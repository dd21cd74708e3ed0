package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"os"

	"comet/voevent"
)

var keygenCmd = &command{
	name:  "keygen",
	args:  "[--prefix=IVORN-PREFIX] NAME",
	short: "make an Ed25519 signing key and print its trust-file line",
	long: `Writes a new Ed25519 private key to NAME.key (PEM "PRIVATE KEY", PKCS #8,
mode 0600; an existing file is never overwritten) and prints the
trust-file line for its public key: IVORN-PREFIX ed25519:PUBLIC-KEY.
Exit status: 0 written, 1 the file could not be written, 2 usage.
`,
	flags: func(fl *flagList) func([]string, stdio) int {
		var prefix string
		fl.String(&prefix, "prefix", "IVORN-PREFIX", "the ivorns the key signs, for the trust-file line "+
			"[default: the placeholder IVORN-PREFIX, to be replaced]")
		return func(args []string, std stdio) int { return runKeygen(args, prefix, std) }
	},
}

// runKeygen is "comet keygen [--prefix=IVORN-PREFIX] NAME".
func runKeygen(args []string, prefix string, std stdio) int {
	stdout, stderr := std.out, std.err
	if len(args) != 1 {
		return std.fail(2, "want one NAME (the key is written to NAME.key)")
	}
	if prefix != "" {
		if err := voevent.ValidTrustPrefix(prefix); err != nil {
			return std.fail(2, err)
		}
	}
	pub, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		fmt.Fprintln(stderr, "comet keygen:", err)
		return 1
	}
	pemKey, err := voevent.MarshalSigningKey(key)
	if err != nil {
		fmt.Fprintln(stderr, "comet keygen:", err)
		return 1
	}
	path := args[0] + ".key"
	if err := writeNew(path, pemKey); err != nil {
		fmt.Fprintln(stderr, "comet keygen:", err)
		return 1
	}
	p := prefix
	if p == "" {
		p = "IVORN-PREFIX"
		fmt.Fprintf(stderr, "comet keygen: wrote %s; in the trust file, replace IVORN-PREFIX with the ivorns this key signs (or give --prefix)\n", path)
	}
	fmt.Fprintln(stdout, voevent.TrustedKey(p, pub))
	return 0
}

// writeNew creates path with mode 0600 and writes data, refusing to
// replace an existing file. A failed write removes the partial file.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return fmt.Errorf("%s already exists: not overwriting a key", path)
	}
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}
