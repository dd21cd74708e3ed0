package voevent

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"comet/xpath"
)

// addSeeds adds the test documents and a few hand-written ones.
func addSeeds(f *testing.F) {
	files, _ := filepath.Glob("../testdata/voevent/*.xml")
	more, _ := filepath.Glob("../testdata/voevent/*/*.xml")
	for _, name := range append(files, more...) {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	for _, s := range []string{
		ev("", ""),
		ev("", `<Who><Date>2020-01-01T00:00:00Z</Date></Who><Citations><EventIVORN cite="followup">x</EventIVORN><Description/></Citations>`),
		ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:token">a</Description>`),
		`<a xmlns:p="urn:p" p:b="&#10;&amp;"><![CDATA[x]]><!--c--><?p d?>&lt;</a>`,
		"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\r\n<a b=\"\xE9\">\xE9</a>",
		"\xEF\xBB\xBF<a/>",
	} {
		f.Add([]byte(s))
	}
}

// FuzzParse checks that Parse never panics or hangs, that an accepted
// document has a sound span and model, and that Validate never panics.
func FuzzParse(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<20 {
			return
		}
		e, err := Parse(data)
		checkParseRoot(t, data, e, err)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || e != nil {
				t.Fatalf("Parse error %#v, event %v", err, e)
			}
			return
		}
		checkEvent(t, data, e)
		err = Validate(e)
		if err != nil {
			var ve *Error
			if !errors.As(err, &ve) || ve.Line < 1 || ve.Line > bytes.Count(data, []byte{'\n'})+1 {
				t.Fatalf("Validate error %#v", err)
			}
			if strings.ContainsAny(err.Error(), "\n\t") {
				t.Fatalf("Validate error %q is not one line", err)
			}
		}
		if err2 := Validate(e); fmt.Sprint(err) != fmt.Sprint(err2) {
			t.Fatalf("Validate not deterministic: %v, then %v", err, err2)
		}
	})
}

// checkEvent checks the invariants of an accepted document.
func checkEvent(t *testing.T, data []byte, e *Event) {
	t.Helper()
	if e.Doc == nil || &e.Raw[0] != &data[0] {
		t.Fatal("no model, or Raw is not the input")
	}
	if e.Start < 0 || e.End > len(data) || e.Start >= e.End || data[e.Start] != '<' || data[e.End-1] != '>' {
		t.Fatalf("span [%d:%d] of %d bytes", e.Start, e.End, len(data))
	}
	root := e.Doc.Element()
	if !root.Valid() || root.Local() != e.Root {
		t.Fatalf("root %q", e.Root)
	}
	if n := e.Doc.Len(); n > MaxDocNodes+2*MaxAttrs+2 {
		t.Fatalf("%d nodes", n)
	}
	depth := 0
	for n := root; n.Valid() && n.Kind() == xpath.ElementNode; {
		depth++
		next := xpath.Node{}
		for c := range n.Children() {
			if c.Kind() == xpath.ElementNode {
				next = c
				break
			}
		}
		n = next
	}
	if depth > MaxDepth {
		t.Fatalf("depth %d", depth)
	}
	for i, c := range e.cdata {
		if i > 0 && c <= e.cdata[i-1] {
			t.Fatalf("cdata indexes not sorted: %v", e.cdata)
		}
	}
}

// FuzzParseXML compares Parse with encoding/xml: whatever encoding/xml
// refuses, Parse must refuse too; a document both accept must give the
// same elements, attributes and text.
func FuzzParseXML(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		want, stdErr := stdEvents(data)
		e, err := Parse(data)
		if stdErr != nil {
			if err == nil {
				t.Fatalf("encoding/xml refuses (%v), Parse accepts:\n%q", stdErr, data)
			}
			return
		}
		if err != nil {
			return // we refuse more than encoding/xml does
		}
		got := modelEvents(e.Doc)
		if want != got {
			t.Fatalf("documents differ\nencoding/xml: %s\nParse:        %s\ninput: %q", want, got, data)
		}
	})
}

// stdEvents reads data with encoding/xml and returns its elements,
// attributes and text in a canonical form.
func stdEvents(data []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(label) {
		case "us-ascii", "ascii":
			return r, nil
		case "iso-8859-1", "iso_8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso-latin-1":
			b, err := io.ReadAll(r)
			return bytes.NewReader(latin1ToUTF8(b)), err
		}
		return nil, fmt.Errorf("unsupported charset %q", label)
	}
	var b strings.Builder
	var text strings.Builder
	flush := func() {
		if text.Len() > 0 {
			fmt.Fprintf(&b, "T%q ", text.String())
			text.Reset()
		}
	}
	depth := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return "", err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			flush()
			depth++
			fmt.Fprintf(&b, "S{%s}%s", tok.Name.Space, tok.Name.Local)
			for _, a := range tok.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				fmt.Fprintf(&b, " @{%s}%s=%q", a.Name.Space, a.Name.Local, normAttr(a.Value))
			}
			b.WriteString(" ")
		case xml.EndElement:
			flush()
			depth--
			b.WriteString("E ")
		case xml.CharData:
			if depth > 0 {
				text.Write(tok)
			}
		case xml.Comment, xml.ProcInst, xml.Directive:
			if depth > 0 {
				flush()
			}
		}
	}
	return b.String(), nil
}

// modelEvents renders a document model as stdEvents does.
func modelEvents(doc *xpath.Document) string {
	var b strings.Builder
	var walk func(n xpath.Node)
	walk = func(n xpath.Node) {
		fmt.Fprintf(&b, "S{%s}%s", n.URI(), n.Local())
		for a := range n.Attributes() {
			fmt.Fprintf(&b, " @{%s}%s=%q", a.URI(), a.Local(), normAttr(a.Value()))
		}
		b.WriteString(" ")
		for c := range n.Children() {
			switch c.Kind() {
			case xpath.ElementNode:
				walk(c)
			case xpath.TextNode:
				fmt.Fprintf(&b, "T%q ", c.Value())
			}
		}
		b.WriteString("E ")
	}
	walk(doc.Element())
	return b.String()
}

// normAttr maps XML white space to spaces: encoding/xml does not
// normalise attribute values (XML 1.0 §3.3.3), and once character
// references are decoded the difference cannot be told.
func normAttr(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// FuzzValidate mutates valid events so that the fuzzer explores the
// validator: the input is spliced into a valid event at a position it
// chooses.
func FuzzValidate(f *testing.F) {
	base, err := os.ReadFile("../testdata/voevent/event-1k.xml")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"<Who/>", `<Param dataType="Float"/>`, "<Group><Group/></Group>", " ", "x", "<![CDATA[]]>", `version="2.1"`} {
		for _, at := range []uint16{0, 150, 300, 600, 900} {
			f.Add(s, at)
		}
	}
	f.Fuzz(func(t *testing.T, ins string, at uint16) {
		pos := int(at) % (len(base) + 1)
		doc := make([]byte, 0, len(base)+len(ins))
		doc = append(append(append(doc, base[:pos]...), ins...), base[pos:]...)
		e, err := Parse(doc)
		if err != nil {
			return
		}
		checkEvent(t, doc, e)
		err = Validate(e)
		if err != nil {
			var ve *Error
			if !errors.As(err, &ve) || ve.Line < 1 || !utf8.ValidString(ve.Msg) {
				t.Fatalf("Validate error %#v", err)
			}
		}
	})
}

// checkParseRoot fails unless ParseRoot gives the same verdict as Parse
// (e, err) on data, and the same root, role, ivorn and span.
func checkParseRoot(t *testing.T, data []byte, e *Event, err error) {
	t.Helper()
	r, rerr := ParseRoot(data)
	if fmt.Sprint(err) != fmt.Sprint(rerr) {
		t.Fatalf("Parse: %v; ParseRoot: %v\ninput: %q", err, rerr, data)
	}
	if err != nil {
		return
	}
	if r.Root != e.Root || r.Role != e.Role || r.IVORN != e.IVORN || r.Start != e.Start || r.End != e.End {
		t.Fatalf("ParseRoot %q %q %q %d-%d, Parse %q %q %q %d-%d", r.Root, r.Role, r.IVORN, r.Start, r.End,
			e.Root, e.Role, e.IVORN, e.Start, e.End)
	}
	root := r.Doc.Element()
	for c := range root.Children() {
		t.Fatalf("ParseRoot kept a child of the root: %s %q", c.Kind(), c.QName())
	}
	var want, got []string
	for a := range e.Doc.Element().Attributes() {
		want = append(want, a.QName()+"="+a.Value())
	}
	for a := range root.Attributes() {
		got = append(got, a.QName()+"="+a.Value())
	}
	if fmt.Sprint(want) != fmt.Sprint(got) {
		t.Fatalf("ParseRoot root attributes %q, Parse %q", got, want)
	}
}
