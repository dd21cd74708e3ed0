package voevent

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
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
		hostileRoot(230, 1300), // over MaxDocNodes in 10 KB: ParseRoot once accepted it
	} {
		f.Add([]byte(s))
	}
}

// hostileRoot is a root with decls namespace declarations and children
// empty children, each of which gets decls+1 namespace nodes.
func hostileRoot(decls, children int) string {
	var b strings.Builder
	b.WriteString("<r")
	for i := range decls {
		fmt.Fprintf(&b, ` xmlns:p%d="urn:%d"`, i, i)
	}
	b.WriteString(">" + strings.Repeat("<b/>", children) + "</r>")
	return b.String()
}

// checkMessage fails unless err's message is one line of at most 512 bytes.
func checkMessage(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); len(msg) > 512 || strings.ContainsAny(msg, "\n\t") {
		t.Fatalf("error of %d bytes, not one line of at most 512: %.600q", len(msg), msg)
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
			checkMessage(t, err)
			return
		}
		checkEvent(t, data, e)
		err = Validate(e)
		if err != nil {
			var ve *Error
			if !errors.As(err, &ve) || ve.Line < 1 || ve.Line > bytes.Count(data, []byte{'\n'})+1 {
				t.Fatalf("Validate error %#v", err)
			}
			checkMessage(t, err)
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
	if attr, _ := root.Attr("", "ivorn"); e.IsVOEvent() && e.IVORN != trimBlank(attr) || !e.IsVOEvent() && e.IVORN != "" {
		t.Fatalf("ivorn attribute %q read as %q", attr, e.IVORN)
	}
	switch e.Encoding {
	case "utf-8", "us-ascii":
	case "iso-8859-1":
		if EncodingProblem(e) == "" {
			t.Fatal("a Latin-1 event can carry a valid signature")
		}
	default:
		t.Fatalf("encoding %q", e.Encoding)
	}
	if n := e.Doc.Len(); n > MaxDocNodes {
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

// FuzzParseXML compares Parse with encoding/xml, strict, as the
// reference. A document both accept must give the same elements,
// attributes and text. Where one accepts what the other refuses, the
// difference must be one of the deliberate ones stdInput, stdRefusal and
// parseRefusal describe; any other fails.
func FuzzParseXML(f *testing.F) {
	addSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<16 {
			return
		}
		want, stdErr := stdEvents(stdInput(data))
		e, err := Parse(data)
		switch {
		case stdErr != nil && err == nil:
			if !stdRefusal(stdErr) {
				t.Fatalf("encoding/xml refuses (%v), Parse accepts:\n%q", stdErr, data)
			}
		case stdErr == nil && err != nil:
			if why := parseRefusal(err.(*SyntaxError).Msg, data); why == "" {
				t.Fatalf("encoding/xml accepts, Parse refuses (%v):\n%q", err, data)
			}
		case err == nil:
			if got := modelEvents(e.Doc); want != got {
				t.Fatalf("documents differ\nencoding/xml: %s\nParse:        %s\ninput: %q", want, got, data)
			}
		}
	})
}

// stdInput is data as encoding/xml is given it: with an XML declaration
// Parse can read rewritten as <?xml version="1.0" encoding="E"?>, E being
// the encoding as Parse understood it ("utf-8", "us-ascii", "iso-8859-1"
// or a name it does not support). The declaration's syntax and which
// labels name an encoding (libxml2's aliases, "UTF8" among them) are
// Parse's rules, checked against xmllint by the unit tests: encoding/xml
// knows no label but "utf-8", and finds version= and encoding= with a
// loose search that misses, for one, white space around the '='.
func stdInput(data []byte) []byte {
	bom := 0
	if bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		bom = 3
	}
	rest := data[bom:]
	if !bytes.HasPrefix(rest, []byte("<?xml")) || len(rest) < 6 || !isSpace(rest[5]) && rest[5] != '?' {
		return data
	}
	n, enc, err := xmlDecl(rest)
	if err != nil {
		return data // Parse refuses it: see parseRefusal
	}
	return slices.Concat(data[:bom], []byte(`<?xml version="1.0" encoding="`+enc+`"?>`), rest[n:])
}

// stdRefusal reports whether encoding/xml's refusal of a document Parse
// accepts is deliberate. There is one such difference: names. Parse
// follows XML 1.0 Fifth Edition, as libxml2 does, whose name characters
// are a superset of the older tables encoding/xml uses (U+2070, U+0387 and
// characters above U+FFFF, for instance, only in the Fifth Edition). The
// name must be one by the Fifth Edition's productions, written out below
// independently of the parser's tables.
func stdRefusal(stdErr error) bool {
	var se *xml.SyntaxError
	if !errors.As(stdErr, &se) {
		return false
	}
	name, ok := strings.CutPrefix(se.Msg, "invalid XML name: ")
	if !ok || name == "" {
		return false
	}
	for i, r := range name {
		if !nameChar5(r) || i == 0 && !nameStartChar5(r) {
			return false
		}
	}
	return true
}

// nameStartChar5 and nameChar5 are productions [4] and [4a] of XML 1.0
// Fifth Edition.
func nameStartChar5(r rune) bool {
	for _, rg := range [][2]rune{{':', ':'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}, {0xC0, 0xD6}, {0xD8, 0xF6},
		{0xF8, 0x2FF}, {0x370, 0x37D}, {0x37F, 0x1FFF}, {0x200C, 0x200D}, {0x2070, 0x218F}, {0x2C00, 0x2FEF},
		{0x3001, 0xD7FF}, {0xF900, 0xFDCF}, {0xFDF0, 0xFFFD}, {0x10000, 0xEFFFF}} {
		if rg[0] <= r && r <= rg[1] {
			return true
		}
	}
	return false
}

func nameChar5(r rune) bool {
	return nameStartChar5(r) || r == '-' || r == '.' || '0' <= r && r <= '9' || r == 0xB7 ||
		0x300 <= r && r <= 0x36F || r == 0x203F || r == 0x2040
}

// xmlChar5 is production [2], Char.
func xmlChar5(r rune) bool {
	return r == 0x9 || r == 0xA || r == 0xD || 0x20 <= r && r <= 0xD7FF || 0xE000 <= r && r <= 0xFFFD || 0x10000 <= r && r <= 0x10FFFF
}

// parseRefusal returns why Parse is right to refuse, with message msg, a
// document encoding/xml accepts, or "" if it is not. encoding/xml's Token
// checks tags, names, references, and characters in text and attribute
// values, but not the structure of the document, the namespace rules,
// unique attributes, the XML declaration, or what comments and processing
// instructions hold; libxml2, whose verdicts Parse follows, refuses those
// as not well-formed or not namespace-well-formed. The rest are the
// broker's policy and limits. Where the message names the offending
// character, it is checked to be one.
func parseRefusal(msg string, data []byte) string {
	for _, d := range []struct{ prefix, why string }{
		{"DOCTYPE not allowed", "policy: no DTD, so no entity is ever declared or expanded"},
		{"byte 0x", "a document declared US-ASCII must be ASCII; encoding/xml reads it as UTF-8"},
		{"elements nested deeper than", "the MaxDepth limit"},
		{fmt.Sprintf("more than %d attributes", MaxAttrs), "the MaxAttrs limit"},
		{fmt.Sprintf("more than %d elements", MaxNodes), "the MaxNodes limit"},
		{"document model larger than", "the MaxDocNodes limit"},
		{"no root element", "a document has one root element (production [1])"},
		{"text before the root element", "production [1]: only markup, white space and a BOM before the root"},
		{"text after the root element", "production [1]"},
		{"more than one root element", "production [1]"},
		{"markup not allowed outside the root element", "production [27]: only comments, PIs and white space after the root"},
		{"markup declaration not allowed in content", "production [43]; encoding/xml returns any <!...> as a Directive"},
		{"XML declaration", "production [23], and only at the start; encoding/xml looks for version= and encoding= in any <?xml"},
		{"unterminated XML declaration", "production [23]"},
		{"expected white space before attribute", "production [40] separates attributes with white space"},
		{"expected white space after processing instruction target", "production [16]"},
		{"duplicate attribute", "the Unique Att Spec constraint, and its Namespaces in XML counterpart"},
		{"undeclared namespace prefix", "Namespaces in XML: encoding/xml takes an unknown prefix for a namespace name"},
		{"malformed element name", "Namespaces in XML: a QName has at most one colon, between two NCNames"},
		{"malformed attribute name", "the same"},
		{"the prefix xmlns must not be declared", "Namespaces in XML: reserved prefixes"},
		{"the prefix xml must not be bound", "reserved prefixes"},
		{"only the prefix xml may be bound", "reserved namespaces"},
		{"no prefix may be bound", "reserved namespaces"},
		{"empty namespace name for prefix", "policy: Namespaces in XML 1.0 forbids xmlns:p=\"\" (libxml2 only warns)"},
	} {
		if strings.HasPrefix(msg, d.prefix) {
			return d.why
		}
	}
	// Characters are checked everywhere, encoding/xml's Token checks them
	// in text and attribute values only; it turns a reference to a
	// surrogate into U+FFFD.
	var r rune
	if _, err := fmt.Sscanf(msg, "illegal character U+%X", &r); err == nil && !xmlChar5(r) {
		return "production [2], in comments, PIs and CDATA sections too"
	}
	if ref, ok := strings.CutPrefix(msg, "character reference &#"); ok {
		if _, err := fmt.Sscanf(ref, "x%x;", &r); err != nil {
			fmt.Sscanf(ref, "%d;", &r)
		}
		if !xmlChar5(r) {
			return "the Legal Character constraint"
		}
	}
	if strings.HasPrefix(msg, "invalid UTF-8 byte") && !utf8.Valid(data) {
		return "a UTF-8 document must be UTF-8 throughout, comments and PIs included"
	}
	return ""
}

// stdEvents reads data with encoding/xml and returns its elements,
// attributes and text in a canonical form.
func stdEvents(data []byte) (string, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		switch label { // as stdInput writes them
		case "us-ascii":
			return r, nil
		case "iso-8859-1":
			b, err := io.ReadAll(r)
			var u []byte
			for _, c := range b {
				u = utf8.AppendRune(u, rune(c))
			}
			return bytes.NewReader(u), err
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
			fmt.Fprintf(&b, "S{%s}%s", normAttr(tok.Name.Space), tok.Name.Local)
			for _, a := range tok.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				fmt.Fprintf(&b, " @{%s}%s=%q", normAttr(a.Name.Space), a.Name.Local, normAttr(a.Value))
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
		fmt.Fprintf(&b, "S{%s}%s", normAttr(n.URI()), n.Local())
		for a := range n.Attributes() {
			fmt.Fprintf(&b, " @{%s}%s=%q", normAttr(a.URI()), a.Local(), normAttr(a.Value()))
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
// normalise attribute values (XML 1.0 §3.3.3), namespace names included
// (they are the values of xmlns attributes), and once character
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
// validator: the input is spliced into a valid event (which: a 2.0 one,
// the same moved to 2.1, or one of the 2.1 documents of testdata/v21) at
// a position it chooses.
func FuzzValidate(f *testing.F) {
	raw, err := os.ReadFile("../testdata/voevent/event-1k.xml")
	if err != nil {
		f.Fatal(err)
	}
	bases := [][]byte{raw, to21(raw)}
	for _, name := range []string{"grb-position.xml", "solar-wind-interval.xml", "position3d-error3.xml"} {
		doc, err := os.ReadFile("testdata/v21/valid/" + name)
		if err != nil {
			f.Fatal(err)
		}
		bases = append(bases, doc)
	}
	for _, s := range []string{"<Who/>", `<Param dataType="Float"/>`, "<Group><Group/></Group>", " ", "x", "<![CDATA[]]>", `version="2.1"`} {
		for _, at := range []uint16{0, 150, 300, 600, 900} {
			f.Add(s, at, uint8(0))
		}
	}
	for _, s := range []string{"<Contributor/>", `<Contributor role="Other">x</Contributor>`, "<TimeInterval/>", "<TimeInstant/>",
		"<PositionName>x</PositionName>", "<Error2><C3/></Error2>", "<Error3/>", "<TimeFrame/><SpaceFrame/>", ` id="UTC-FK5-GEO"`,
		` ucd="x"`, "?", "#", `version="2.0"`, " ", "<Error>1</Error>"} {
		for which := range uint8(len(bases)) {
			for _, at := range []uint16{0, 300, 700, 1100, 1500, 1900} {
				f.Add(s, at, which)
			}
		}
	}
	f.Fuzz(func(t *testing.T, ins string, at uint16, which uint8) {
		base := bases[int(which)%len(bases)]
		pos := int(at) % (len(base) + 1)
		doc := make([]byte, 0, len(base)+len(ins))
		doc = append(append(append(doc, base[:pos]...), ins...), base[pos:]...)
		e, err := Parse(doc)
		if err != nil {
			return
		}
		checkEvent(t, doc, e)
		err = Validate(e)
		if err == nil && Version(e) == "" {
			t.Fatalf("valid, but no version\n%s", doc)
		}
		if err != nil {
			var ve *Error
			if !errors.As(err, &ve) || ve.Line < 1 || !utf8.ValidString(ve.Msg) {
				t.Fatalf("Validate error %#v", err)
			}
			checkMessage(t, err)
		}
	})
}

// checkParseRoot fails unless ParseRoot gives the same verdict as Parse
// (e, err) on data: both fail, with the same message, or both succeed
// with the same root, role, ivorn and span, and ParseRoot's model holding
// the root element alone. ParseRoot is Parse with a builder that keeps
// only the root, so there is no deliberate difference to allow for. The
// parser must also count the same document-model nodes (the count
// MaxDocNodes applies to) and do the same work in both, and on success
// the count must be the size of Parse's model.
func checkParseRoot(t *testing.T, data []byte, e *Event, err error) {
	t.Helper()
	r, rerr := ParseRoot(data)
	if (err == nil) != (rerr == nil) || fmt.Sprint(err) != fmt.Sprint(rerr) {
		t.Fatalf("Parse: %v; ParseRoot: %v\ninput: %.200q", err, rerr, data)
	}
	pRoot, pRole, perr := ParseRole(data)
	if fmt.Sprint(err) != fmt.Sprint(perr) || err == nil && (pRoot != e.Root || pRole != e.Role) {
		t.Fatalf("Parse: %v; ParseRole: %q %q %v\ninput: %.200q", err, pRoot, pRole, perr, data)
	}
	_, full, _ := parse(data, false)
	_, rootOnly, _ := parse(data, true)
	if full != rootOnly {
		t.Fatalf("Parse counted %+v, ParseRoot %+v", full, rootOnly)
	}
	if err != nil {
		return
	}
	if full.nodes != e.Doc.Len() {
		t.Fatalf("parser counted %d model nodes, the model has %d", full.nodes, e.Doc.Len())
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
