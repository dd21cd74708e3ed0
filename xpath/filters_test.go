package xpath_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"comet/xpath"
)

var update = flag.Bool("update", false, "rewrite testdata/xpath/filters.golden")

// goldenFilters are the typical filters of Comet's documentation and
// tests, and others in the style subscribers write.
var goldenFilters = append(slices.Clone(specFilters),
	// Why the documentation says to use local-name(): the root is in a
	// namespace, so /VOEvent matches nothing, prefixed or not.
	`/VOEvent`,
	`/*[local-name()="VOEvent"]/@ivorn`,
	// Relative to the context node, the root element.
	`Who/AuthorIVORN`,
	`@role = "test"`,
	`.//Param[@name="TrigID"]/@value`,
	// Others.
	`//Param[@name="FAR" and @value < 1e-10]`,
	`//Group[@type="Classification"]/Param[@name="BNS" and @value > 0.9]`,
	`//Why/@importance >= 0.9`,
	`count(//Param)`,
	`sum(//Group[@type="Classification"]/Param/@value)`,
	`//Param[@name="Burst_Flux"]/@value * 1e7`,
	`number(//Param[@name="SC_Lat"]/@value)`,
	`//*[local-name()="Param" and @name="Sun_Distance"]/@value`,
	`string(//Param[@name="TrigID"]/@value)`,
	`//Param[@name="internal"]/@value = 0 and //Param[@name="HardwareInj"]/@value = 0`,
	`local-name(/*)`,
	`namespace-uri(/*) = "http://www.ivoa.net/xml/VOEvent/v2.0"`,
	`//Description`,
	`normalize-space(//How/Description[last()])`,
	`//Param[starts-with(@value, "0x")]/@name`,
	`//ISOTime`,
	`substring-before(//ISOTime, "T")`,
	`//C1 > 100 and //C2 > 40`,
	`//Param[@name="Packet_Type" and (@value=61 or @value=150)]`,
	`//Param[@dataType="float"][last()]/@name`,
)

var goldenFiles = []string{"swift_bat_grb.xml", "lvc_test.xml", "default_ns.xml", "axes.xml"}

// TestFilterGolden evaluates each filter on each event the way the broker
// does (Matches) and the way "comet xpath" reports it (Evaluate with the
// root element as context), and compares with testdata/xpath/filters.golden.
// The golden values were checked against xmllint --xpath, with /*/
// prefixed to the relative filters.
func TestFilterGolden(t *testing.T) {
	var b bytes.Buffer
	for _, f := range goldenFilters {
		fmt.Fprintf(&b, "# %s\n", f)
		e, err := xpath.Compile(f)
		if err != nil {
			t.Fatalf("Compile(%q): %v", f, err)
		}
		for _, file := range goldenFiles {
			d := loadDoc(t, file)
			ok, err := e.Matches(d)
			if err != nil {
				t.Fatalf("%s on %s: %v", f, file, err)
			}
			v, err := e.Evaluate(d.Element())
			if err != nil {
				t.Fatalf("%s on %s: %v", f, file, err)
			}
			if ok != v.Match() {
				t.Errorf("%s on %s: Matches %v but Evaluate(...).Match() %v", f, file, ok, v.Match())
			}
			match := "nomatch"
			if ok {
				match = "match"
			}
			fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", file, match, v.Type(), goldenValue(v))
		}
	}
	path := filepath.Join(testdataDir, "filters.golden")
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("results differ from %s (go test -run TestFilterGolden -update to rewrite):\n%s", path, lineDiff(string(want), b.String()))
	}
}

// goldenValue writes a value as "comet xpath" does, quoting strings.
func goldenValue(v xpath.Value) string {
	switch v.Type() {
	case xpath.NodeSet:
		first := ""
		if v.Len() > 0 {
			first = v.Node(0).Value()
		}
		return strconv.Itoa(v.Len()) + "\t" + strconv.Quote(first)
	case xpath.String:
		return strconv.Quote(v.String())
	}
	return v.String()
}

// lineDiff lists the lines that differ, a few at most.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var out []string
	for i := 0; i < max(len(w), len(g)) && len(out) < 20; i++ {
		var a, b string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			b = g[i]
		}
		if a != b {
			out = append(out, fmt.Sprintf("line %d:\n  want %q\n   got %q", i+1, a, b))
		}
	}
	return strings.Join(out, "\n")
}

// TestMatchesContext checks the context Comet uses: the root
// element, so that relative paths start there and absolute ones at the
// root node above it.
func TestMatchesContext(t *testing.T) {
	d := loadDoc(t, "swift_bat_grb.xml")
	for expr, want := range map[string]bool{
		"Who/AuthorIVORN":                   true,
		"self::*[local-name() = 'VOEvent']": true,
		"parent::node()":                    true, // the root node
		"../Who":                            false,
		"/Who":                              false,
		"name() = 'voe:VOEvent'":            true,
		"/*[name() = 'voe:VOEvent']":        true,
		"count(ancestor::node()) = 1":       true,
		"position() = 1 and last() = 1":     true,
	} {
		ok, err := xpath.MustCompile(expr).Matches(d)
		if err != nil || ok != want {
			t.Errorf("Matches(%s) = %v, %v; want %v", expr, ok, err, want)
		}
	}
}
