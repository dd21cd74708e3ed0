package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runXPathCmd runs "comet xpath" with args and returns its exit status
// and output.
func runXPathCmd(args ...string) (status int, stdout, stderr string) {
	var out, errb bytes.Buffer
	status = cmdXPath(args, &out, &errb)
	return status, out.String(), errb.String()
}

const xpathTestdata = "testdata/xpath/"

func TestXPathCommandLines(t *testing.T) {
	bat, lvc := xpathTestdata+"swift_bat_grb.xml", xpathTestdata+"lvc_test.xml"
	tests := []struct {
		expr string
		want string // the lines for bat and lvc
	}{
		{`//Param[@name="Sun_Distance" and @value>40]`,
			bat + "\tmatch\tnode-set\t1\t\n" + lvc + "\tnomatch\tnode-set\t0\t\n"},
		{`/*[local-name()="VOEvent" and @role="test"]/@ivorn`,
			bat + "\tnomatch\tnode-set\t0\t\n" + lvc + "\tmatch\tnode-set\t1\tivo://gwnet/LVC#MS240412q-1-Preliminary\n"},
		{`Who/AuthorIVORN`, // relative to the root element
			bat + "\tmatch\tnode-set\t1\tivo://nasa.gsfc.tan/gcn\n" + lvc + "\tmatch\tnode-set\t1\tivo://gwnet/LVC\n"},
		{`contains(//Who/AuthorIVORN, "SWIFT") or starts-with(/*/@ivorn, "ivo://nasa")`,
			bat + "\tmatch\tboolean\ttrue\n" + lvc + "\tnomatch\tboolean\tfalse\n"},
		{`count(//Param[@value > 100])`,
			bat + "\tmatch\tnumber\t10\n" + lvc + "\tmatch\tnumber\t1\n"},
		{`//Param[@name="FAR"]/@value * 1`,
			bat + "\tmatch\tnumber\tNaN\n" + lvc + "\tmatch\tnumber\t0.0000000000000911\n"},
		{`count(//Param[@name="nothing"])`,
			bat + "\tnomatch\tnumber\t0\n" + lvc + "\tnomatch\tnumber\t0\n"},
		{`string(//Param[@name="GraceID"]/@value)`,
			bat + "\tnomatch\tstring\t\n" + lvc + "\tmatch\tstring\tMS240412q\n"},
		{`//Param[@name="Packet_Type"]`, // the first node's string-value, escaped
			bat + "\tmatch\tnode-set\t1\t\n" + lvc + "\tmatch\tnode-set\t1\t\\n      The Notice Type (150 = preliminary).\\n    \n"},
		{`concat("a\b", "	")`, // backslash and tab escaped
			bat + "\tmatch\tstring\ta\\\\b\\t\n" + lvc + "\tmatch\tstring\ta\\\\b\\t\n"},
	}
	for _, tt := range tests {
		status, out, errs := runXPathCmd(tt.expr, bat, lvc)
		if status != 0 || out != tt.want || errs != "" {
			t.Errorf("comet xpath %q: status %d\nstdout %q\nwant   %q\nstderr %q", tt.expr, status, out, tt.want, errs)
		}
	}
}

func TestXPathCommandBadFiles(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.xml")
	if err := os.WriteFile(bad, []byte("<VOEvent><Who></VOEvent>"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.xml")
	good := xpathTestdata + "lvc_test.xml"
	status, out, _ := runXPathCmd("@role", good, bad, missing)
	if status != 1 {
		t.Errorf("status %d, want 1", status)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || lines[0] != good+"\tmatch\tnode-set\t1\ttest" ||
		!strings.HasPrefix(lines[1], bad+"\terror\t") || !strings.HasPrefix(lines[2], missing+"\terror\t") {
		t.Errorf("output:\n%s", out)
	}
	for _, l := range lines[1:] {
		if f := strings.Split(l, "\t"); len(f) != 3 || f[2] == "" {
			t.Errorf("error line %q: want FILE, error, reason", l)
		}
	}
}

// TestXPathCommandTooExpensive: an evaluation cut off by the work budget
// is reported like a file that failed.
func TestXPathCommandTooExpensive(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" role="test" ivorn="ivo://x/y#1"><What>`)
	for b.Len() < 10<<10 {
		b.WriteString(`<Param name="p" value="1"/>`)
	}
	b.WriteString(`</What></voe:VOEvent>`)
	big := filepath.Join(t.TempDir(), "big.xml")
	if err := os.WriteFile(big, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	status, out, _ := runXPathCmd("count(//*[count(//*[count(//*) > 0]) > 0])", big)
	if status != 1 || !strings.Contains(out, "\terror\t") || !strings.Contains(out, "budget") {
		t.Errorf("status %d, output %q", status, out)
	}
}

func TestXPathCommandUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"//Param"}} {
		status, out, errs := runXPathCmd(args...)
		if status != 2 || out != "" || !strings.Contains(errs, "usage: comet xpath EXPR FILE...") {
			t.Errorf("args %q: status %d, stdout %q, stderr %q", args, status, out, errs)
		}
	}
	status, out, _ := runXPathCmd("-h")
	if status != 0 || !strings.Contains(out, "usage:") {
		t.Errorf("-h: status %d, stdout %q", status, out)
	}
}

func TestXPathCommandBadExpression(t *testing.T) {
	tests := []struct {
		expr, want string
	}{
		{`//Param[@value >> 5]`, "comet xpath: expected an expression, found '>' at offset 16\n\t//Param[@value >> 5]\n\t                ^\n"},
		{"Not a valid XPath expression", "at offset 4\n"},
		{`//voe:Param`, "undefined namespace prefix 'voe'"},
		{`$x`, "Comet would accept this filter and then match no event with it"},
	}
	for _, tt := range tests {
		status, out, errs := runXPathCmd(tt.expr, xpathTestdata+"lvc_test.xml")
		if status != 2 || out != "" || !strings.Contains(errs, tt.want) {
			t.Errorf("comet xpath %q: status %d, stdout %q, stderr %q, want it to contain %q", tt.expr, status, out, errs, tt.want)
		}
	}
}

func TestXPathCommandEscaping(t *testing.T) {
	for in, want := range map[string]string{
		"plain": "plain", `a\b`: `a\\b`, "a\tb": `a\tb`, "a\nb\r": `a\nb\r`, "é😀": "é😀",
	} {
		if got := escapeField(in); got != want {
			t.Errorf("escapeField(%q) = %q, want %q", in, got, want)
		}
	}
}
