package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestValidateStdin(t *testing.T) {
	for _, c := range []struct {
		in, out string
		status  int
	}{
		{validEvent, "-\tvalid\tVOEvent 2.0\n", 0},
		{validEvent21, "-\tvalid\tVOEvent 2.1\n", 0},
		{strings.Replace(validEvent, "#1", "", 1), "-\tinvalid\t", 1},
	} {
		var stdout, stderr bytes.Buffer
		status := cmdValidateFrom([]string{"-"}, strings.NewReader(c.in), &stdout, &stderr)
		if status != c.status || !strings.HasPrefix(stdout.String(), c.out) {
			t.Errorf("validate -: status %d, stdout %q, stderr %q; want %d, %q", status, stdout.String(), stderr.String(), c.status, c.out)
		}
	}
}
