package voevent

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const corpusDir = "../../shared/voevents/real"

// ivornRule is the broker's ivorn rule as a regular expression, independent of
// ivoid.go: an IVOID with a non-empty local part.
var (
	ivornRule = regexp.MustCompile(`^ivo://[A-Za-z0-9][A-Za-z0-9_~*'().-]{2,}((/[A-Za-z0-9_~*'().-]+)*)#(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})+$`)
	dotSeg    = regexp.MustCompile(`/\.\.?(/|$)`)
)

// TestCorpus checks the verdict on every real packet of the shared corpus
// against the schema verdict SOURCES.md records for it (xmllint's) and the
// IVOID rule. It is skipped when the corpus is absent. Packets in the
// VOEvent 2.1 namespace are checked against 2.1 by TestCorpus21 instead.
func TestCorpus(t *testing.T) {
	want := corpusVerdicts(t)
	v21 := corpusVersions(t, "2.1")
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.xml"))
	if len(files) == 0 {
		t.Skip("no corpus in " + corpusDir)
	}
	valid := 0
	for _, f := range files {
		name := filepath.Base(f)
		if v21[name] {
			continue
		}
		schemaValid, ok := want[name]
		if !ok {
			t.Errorf("%s: not in SOURCES.md", name)
			continue
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		e, err := Parse(raw)
		if err == nil {
			err = Validate(e)
		}
		expect := schemaValid
		if schemaValid {
			m := ivornRule.FindStringSubmatch(e.IVORN)
			expect = m != nil && !dotSeg.MatchString(m[1])
		}
		if (err == nil) != expect {
			t.Errorf("%s: got %v, want valid=%v", name, err, expect)
		}
		if err == nil {
			valid++
		}
	}
	t.Logf("%d packets, %d valid", len(files), valid)
}

// corpusVerdicts reads the "XSD 2.0" column of SOURCES.md: valid,
// invalid or NOT well-formed.
func corpusVerdicts(t *testing.T) map[string]bool {
	f, err := os.Open(filepath.Join(corpusDir, "../SOURCES.md"))
	if err != nil {
		t.Skip("no corpus: ", err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "|")
		if len(cols) < 9 || !strings.HasSuffix(strings.TrimSpace(cols[1]), ".xml") {
			continue
		}
		switch v := strings.TrimSpace(cols[7]); v {
		case "valid", "invalid", "NOT well-formed":
			out[strings.TrimSpace(cols[1])] = v == "valid"
		}
	}
	return out
}

// corpusVersions lists the packets whose "Version" column in SOURCES.md
// is version.
func corpusVersions(t *testing.T, version string) map[string]bool {
	raw, err := os.ReadFile(filepath.Join(corpusDir, "../SOURCES.md"))
	if err != nil {
		t.Skip("no corpus: ", err)
	}
	out := map[string]bool{}
	for line := range strings.Lines(string(raw)) {
		cols := strings.Split(line, "|")
		if len(cols) >= 9 && strings.HasSuffix(strings.TrimSpace(cols[1]), ".xml") && strings.TrimSpace(cols[5]) == version {
			out[strings.TrimSpace(cols[1])] = true
		}
	}
	return out
}
