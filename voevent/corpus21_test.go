package voevent

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// ivornRule21 is the ivorn rule of 2.1 events, independent of ivoid.go:
// '?' may separate the local part too.
var ivornRule21 = regexp.MustCompile(`^ivo://[A-Za-z0-9][A-Za-z0-9_~*'().-]{2,}((/[A-Za-z0-9_~*'().-]+)*)[#?](?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})+$`)

// TestCorpus21 moves every real packet of the shared corpus to the 2.1
// namespace (and version="2.1") and checks the verdict. xmllint with
// VOEvent-v2.1-draft.xsd gives each moved packet the verdict
// VOEvent-v2.0.xsd gives the original (recorded in SOURCES.md): none of
// them uses the elements whose order 2.1 fixes in another order. The
// packets already in the 2.1 namespace are valid for it. The IVOID rule
// then applies with '?' allowed. Skipped when the corpus is absent.
func TestCorpus21(t *testing.T) {
	want := corpusVerdicts(t)
	native := corpusVersions(t, "2.1")
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.xml"))
	if len(files) == 0 {
		t.Skip("no corpus in " + corpusDir)
	}
	valid := 0
	for _, f := range files {
		name := filepath.Base(f)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		schemaValid, ok := want[name]
		if native[name] {
			schemaValid = true
		} else if !ok {
			t.Errorf("%s: not in SOURCES.md", name)
			continue
		} else {
			raw = to21(raw)
		}
		e, err := Parse(raw)
		if err == nil {
			err = Validate(e)
		}
		expect := schemaValid
		if schemaValid {
			m := ivornRule21.FindStringSubmatch(e.IVORN)
			expect = m != nil && !dotSeg.MatchString(m[1])
			if v := Version(e); v != "2.1" {
				t.Errorf("%s: Version %q after the move", name, v)
			}
		}
		if (err == nil) != expect {
			t.Errorf("%s: got %v, want valid=%v", name, err, expect)
		}
		if err == nil {
			valid++
		}
	}
	t.Logf("%d packets moved to 2.1, %d valid", len(files), valid)
	if valid == 0 {
		t.Error("no packet is valid in the 2.1 namespace")
	}
}
