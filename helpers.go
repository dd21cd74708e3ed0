package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

// Helpers shared by several commands.

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

var fieldEscaper = strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`)

// escapeField keeps a field on one line and free of tabs.
func escapeField(s string) string { return fieldEscaper.Replace(s) }
