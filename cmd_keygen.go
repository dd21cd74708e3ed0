package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"comet/voevent"
)

// runKeygen implements "comet keygen [--prefix=IVORN-PREFIX] NAME": it
// writes a new Ed25519 private key to NAME.key (PEM "PRIVATE KEY", PKCS
// #8, mode 0600; an existing file is never overwritten) and prints the
// trust-file line for its public key. Exit status: 0 written, 1 the file
// could not be written, 2 usage.
func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	prefix := fs.String("prefix", "", "")
	help := fs.Bool("help", false, "")
	err := fs.Parse(args)
	if err == nil && *help {
		fmt.Fprintln(stdout, `Usage: comet keygen [--prefix=IVORN-PREFIX] NAME
Write a new Ed25519 signing key to NAME.key (mode 0600, never overwriting a file)
and print its trust-file line: IVORN-PREFIX ed25519:PUBLIC-KEY.`)
		return 0
	}
	if err == nil && fs.NArg() != 1 {
		err = errors.New("want one NAME (the key is written to NAME.key)")
	}
	if err == nil && *prefix != "" {
		err = voevent.ValidTrustPrefix(*prefix)
	}
	if err != nil {
		fmt.Fprintln(stderr, "comet keygen:", strings.Replace(err.Error(), " -", " --", 1))
		return 2
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
	path := fs.Arg(0) + ".key"
	if err := writeNew(path, pemKey); err != nil {
		fmt.Fprintln(stderr, "comet keygen:", err)
		return 1
	}
	p := *prefix
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
