package voevent

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite ../testdata/voevent/reasons.golden and testdata/v21/reasons.golden")

// TestGoldenReasons runs the checks on every document under
// ../testdata/voevent/{valid,invalid} and compares the verdicts and
// reasons with reasons.golden (go test -run Golden -update rewrites it).
// The documents in invalid/ are invalid for xmllint too, except those the
// broker refuses by design (a DOCTYPE, UTF-16) and those that break only
// the IVOID rule (ivorn-*).
func TestGoldenReasons(t *testing.T) {
	checkGolden(t, "../testdata/voevent", "../testdata/voevent/reasons.golden")
}

// TestGoldenReasons21 does the same for the VOEvent 2.1 documents of
// testdata/v21, whose verdicts are xmllint's with VOEvent-v2.1-draft.xsd
// plus the IVOID rule (ivorn-* break only the latter).
func TestGoldenReasons21(t *testing.T) {
	checkGolden(t, "testdata/v21", "testdata/v21/reasons.golden")
}

// checkGolden checks the documents of root/valid and root/invalid
// against the verdicts and reasons in golden (or rewrites it).
func checkGolden(t *testing.T, root, golden string) {
	var b strings.Builder
	for _, dir := range []string{"valid", "invalid"} {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.xml"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no documents in %s: %v", dir, err)
		}
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			reason := "valid"
			e, err := Parse(raw)
			if err == nil {
				err = Validate(e)
			}
			if err != nil {
				reason = err.Error()
			}
			if (dir == "valid") != (err == nil) {
				t.Errorf("%s: %s", f, reason)
			}
			fmt.Fprintf(&b, "%s/%s: %s\n", dir, filepath.Base(f), reason)
		}
	}
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("reasons differ from %s (run with -update if intended):\n%s", golden, diffLines(string(want), got))
	}
}

// diffLines lists the lines only in want (-) or only in got (+).
func diffLines(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	inW, inG := map[string]bool{}, map[string]bool{}
	for _, l := range w {
		inW[l] = true
	}
	for _, l := range g {
		inG[l] = true
	}
	var b strings.Builder
	for _, l := range w {
		if !inG[l] {
			fmt.Fprintf(&b, "- %s\n", l)
		}
	}
	for _, l := range g {
		if !inW[l] {
			fmt.Fprintf(&b, "+ %s\n", l)
		}
	}
	return b.String()
}
