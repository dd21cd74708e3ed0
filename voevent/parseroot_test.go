package voevent

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParseRoot runs ParseRoot against Parse on every test document,
// well-formed or not, including faults deep inside the root element that a
// root-only parse must still catch.
func TestParseRoot(t *testing.T) {
	inputs := []string{
		`<a/>`,
		`<?xml version="1.0"?><!-- c --><x:r xmlns:x="urn:x" role="ack" ivorn="i"><b><c>text</c></b></x:r><?pi d?>`,
		`<VOEvent role="test" ivorn="ivo://a.b/c#1" version="2.0"><Who><Date>x</Date></Who></VOEvent>`,
		`<r><a></b></r>`,                     // mismatched tags deep inside
		`<r><a>&bogus;</a></r>`,              // entity deep inside
		`<r><a x="1" x="2"/></r>`,            // duplicate attribute on a child
		`<r><p:a/></r>`,                      // undeclared prefix on a child
		"<r><a>\x01</a></r>",                 // illegal character
		`<r><![CDATA[x]]><!-- -- --></r>`,    // bad comment
		`<r>` + string(make([]byte, 0)) + ``, // unclosed root
		`<r/><r/>`,
	}
	files, _ := filepath.Glob("../testdata/voevent/*/*.xml")
	more, _ := filepath.Glob("../testdata/voevent/*.xml")
	for _, f := range append(files, more...) {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, string(raw))
	}
	if len(inputs) < 30 {
		t.Fatalf("only %d inputs: testdata missing?", len(inputs))
	}
	for _, in := range inputs {
		e, err := Parse([]byte(in))
		checkParseRoot(t, []byte(in), e, err)
	}
}

func BenchmarkParseRootAck(b *testing.B) {
	raw := []byte(`<?xml version='1.0' encoding='UTF-8'?>
<trn:Transport xmlns:trn="http://www.telescope-networks.org/xml/Transport/v1.1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" role="ack" version="1.0" xsi:schemaLocation="http://telescope-networks.org/schema/Transport/v1.1 http://telescope-networks.org/schema/Transport-v1.1.xsd"><Origin>ivo://example.org/events#123</Origin><Response>ivo://example.org/sub</Response><TimeStamp>2026-11-24T12:00:00Z</TimeStamp></trn:Transport>`)
	for _, bb := range []struct {
		name  string
		parse func([]byte) (*Event, error)
	}{{"Parse", Parse}, {"ParseRoot", ParseRoot}, {"ParseRole", func(raw []byte) (*Event, error) {
		_, _, err := ParseRole(raw)
		return nil, err
	}}} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bb.parse(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestParseRootLimits checks that ParseRoot applies MaxDocNodes as Parse
// does. A root with 230 namespace declarations gives each of its children
// 231 namespace nodes: about 10 KB of XML reaches the limit, and a
// ParseRoot that counted only the nodes it keeps would accept the
// documents below that Parse refuses.
func TestParseRootLimits(t *testing.T) {
	// The root node, the root element with its 231 namespace nodes, and
	// children of 232 nodes each.
	const fit = (MaxDocNodes - 1 - 232) / 232
	for _, children := range []int{fit, fit + 1, fit + 100} {
		raw := []byte(hostileRoot(230, children))
		e, err := Parse(raw)
		r, rerr := ParseRoot(raw)
		if fmt.Sprint(err) != fmt.Sprint(rerr) {
			t.Fatalf("%d children: Parse: %v; ParseRoot: %v", children, err, rerr)
		}
		if children == fit {
			if err != nil {
				t.Fatalf("%d children: %v", children, err)
			}
			if want := 1 + 232*(children+1); e.Doc.Len() != want || r.Doc.Len() != 1+232 {
				t.Errorf("%d nodes (ParseRoot %d), want %d (%d)", e.Doc.Len(), r.Doc.Len(), want, 1+232)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), "document model larger than") {
			t.Errorf("%d children (%d bytes): %v", children, len(raw), err)
		}
	}
}

// TestParseRole: ParseRole names the root and its role as Parse does,
// taking only the role attribute in no namespace, and refuses what Parse
// refuses.
func TestParseRole(t *testing.T) {
	for _, c := range []struct{ in, root, role, err string }{
		{`<t:Transport xmlns:t="urn:t" role="ack"/>`, "Transport", "ack", ""},
		{`<!-- c --><?pi x?><Transport xmlns:o="urn:o" o:role="nak" role="iamalive"/>`, "Transport", "iamalive", ""},
		{`<Transport xmlns:o="urn:o" o:role="nak"/>`, "Transport", "", ""},
		{`<VOEvent ivorn="ivo://x/y#1"/>`, "VOEvent", "observation", ""},
		{`<Other role="odd &amp; rare"/>`, "Other", "odd & rare", ""},
		{`<Transport role="ack">`, "", "", "line 1"},
		{`<Transport role="ack"/><Transport/>`, "", "", "line 1"},
	} {
		root, role, err := ParseRole([]byte(c.in))
		if root != c.root || role != c.role || c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("ParseRole(%q) = %q, %q, %v; want %q, %q, error %q", c.in, root, role, err, c.root, c.role, c.err)
		}
		e, perr := Parse([]byte(c.in))
		checkParseRoot(t, []byte(c.in), e, perr)
	}
}
