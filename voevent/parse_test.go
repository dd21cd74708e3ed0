package voevent

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"comet/xpath"
)

func TestParseAccepts(t *testing.T) {
	for _, c := range []struct{ name, doc string }{
		{"minimal", `<a/>`},
		{"declaration", `<?xml version="1.0"?><a/>`},
		{"declaration-full", "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?>\n<a/>"},
		{"declaration-utf8-alias", `<?xml version="1.0" encoding="utf8"?><a/>`},
		{"declaration-ascii", `<?xml version="1.0" encoding="US-ASCII"?><a>x</a>`},
		{"declaration-ascii-alias", `<?xml version="1.0" encoding="ascii"?><a>x</a>`},
		{"bom", "\xEF\xBB\xBF<a/>"},
		{"bom-declaration", "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?><a/>"},
		{"bom-ascii", "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"US-ASCII\"?><a>x</a>"},
		{"misc", "<!-- c --><?pi data?>\n<a/>\n<!-- c --><?pi?>\n"},
		{"pi-xml-prefix", `<?xml-stylesheet href="s"?><a/>`},
		{"pi-colons", `<?p:i x?><a><?:a:b:?></a>`}, // libxml2 only warns
		{"encoding-aliases", `<?xml version="1.0" encoding="ISO_8859-1"?><?xml-x?><a/>`},
		{"comment-dash", `<a><!-- - a-b - --></a>`},
		{"cdata", `<a><![CDATA[<not markup> & ]] ]>]]></a>`},
		{"entities", `<a b="&lt;&gt;&amp;&apos;&quot;">&lt;&gt;&amp;&apos;&quot;&#65;&#x42;&#x10FFFF;</a>`},
		{"gt-in-text", `<a>a > b ]] ></a>`},
		{"quotes", `<a b='"' c="'"/>`},
		{"namespaces", `<p:a xmlns:p="urn:p" xmlns="urn:d"><b p:x="1" x="2"/><p:c xmlns:p="urn:q"/></p:a>`},
		{"xml-prefix", `<a xml:lang="en" xmlns:xml="http://www.w3.org/XML/1998/namespace"><xml:b/></a>`},
		{"default-undeclared", `<a xmlns="urn:d"><b xmlns=""/></a>`},
		{"same-local-different-namespace", `<a xmlns:p="urn:p" xmlns:q="urn:q" p:x="1" q:x="2"/>`},
		{"names", "<\u00e9l\u00e9ment _a.b-c=\"1\" x\u00b7\u0300=\"2\"/>"},
		{"whitespace-in-tags", "<a\n\tb = \"1\"\r\n></a\n>"},
		{"crlf", "<a>\r\n</a>\r\n"},
		{"depth-64", strings.Repeat("<a>", MaxDepth) + strings.Repeat("</a>", MaxDepth)},
		{"attrs-256", "<a" + attrs(MaxAttrs) + "/>"},
		{"non-ascii", "<a b=\"\u00e9\U0001F600\">\u00e9\U0001F600\uFFFD</a>"},
		{"tab-nl-chars", "<a>\t\n</a>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := Parse([]byte(c.doc)); err != nil {
				t.Errorf("Parse: %v\n%q", err, c.doc)
			}
		})
	}
}

func attrs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, " a%d=\"\"", i)
	}
	return b.String()
}

func TestParseRefuses(t *testing.T) {
	ns := func(n int) string { // n namespace declarations
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, ` xmlns:p%d="urn:%d"`, i, i)
		}
		return b.String()
	}
	for _, c := range []struct{ name, doc, want string }{
		// What the broker refuses although libxml2 parses it.
		{"doctype", `<!DOCTYPE a><a/>`, "line 1: DOCTYPE not allowed"},
		{"doctype-entities", "<?xml version=\"1.0\"?>\n<!DOCTYPE a [<!ENTITY e \"x\">]><a>&e;</a>", "line 2: DOCTYPE not allowed"},
		{"entity", `<a>&e;</a>`, "entity reference &e; not allowed"},
		{"entity-in-attribute", `<a b="&nbsp;"/>`, "entity reference &nbsp; not allowed"},
		{"depth-65", strings.Repeat("<a>", MaxDepth+1) + strings.Repeat("</a>", MaxDepth+1), "elements nested deeper than 64"},
		{"attrs-257", "<a" + attrs(MaxAttrs+1) + "/>", "more than 256 attributes"},
		{"nodes", "<a>" + strings.Repeat(`<b c="" d=""/>`, MaxNodes/3+1) + "</a>", "more than 100000 elements and attributes"},
		{"namespace-nodes", "<a" + ns(200) + ">" + strings.Repeat("<b/>", 2000) + "</a>", "document model larger than 300000 nodes"},
		{"comment-nodes", "<a>" + strings.Repeat("x<!---->", MaxDocNodes/2+1) + "</a>", "document model larger than"},
		{"empty-prefix", `<a xmlns:p=""/>`, "empty namespace name for prefix p"},
		{"utf16-bom-be", "\xFE\xFF\x00<\x00a\x00/\x00>", "UTF-16"},
		{"utf16-bom-le", "\xFF\xFE<\x00a\x00/\x00>\x00", "UTF-16"},
		{"utf16-no-bom", "\x00<\x00a\x00/\x00>", "UTF-16"},
		{"utf16-declared", `<?xml version="1.0" encoding="UTF-16"?><a/>`, `unsupported encoding "utf-16"`},
		{"windows-1252", `<?xml version="1.0" encoding="windows-1252"?><a/>`, "unsupported encoding"},
		{"xml-1.1", `<?xml version="1.1"?><a/>`, "unsupported XML version"},
		// Not well-formed.
		{"empty", ``, "no root element"},
		{"blank", " \n", "line 2: no root element"},
		{"text-only", `hello`, "text before the root element"},
		{"two-roots", `<a/><b/>`, "more than one root element"},
		{"trailing-text", "<a/>\nx", "line 2: text after the root element"},
		{"trailing-cdata", `<a/><![CDATA[x]]>`, "markup not allowed outside the root element"},
		{"unclosed", "<a>\n<b>", "line 2: unexpected end of document: <b> not closed"},
		{"mismatch", `<a></b>`, "end tag </b> does not match <a>"},
		{"mismatch-prefix", `<p:a xmlns:p="urn:p" xmlns:q="urn:p"></q:a>`, "does not match"},
		{"duplicate-attribute", `<a b="1" b="2"/>`, "duplicate attribute b"},
		{"duplicate-expanded", `<a xmlns:p="urn:x" xmlns:q="urn:x" p:b="1" q:b="2"/>`, "duplicate attribute q:b (same namespace as p:b)"},
		{"duplicate-xmlns", `<a xmlns:p="urn:x" xmlns:p="urn:y"/>`, "duplicate attribute xmlns:p"},
		{"undeclared-element-prefix", `<p:a/>`, `undeclared namespace prefix "p"`},
		{"undeclared-attribute-prefix", `<a p:b="1"/>`, `undeclared namespace prefix "p"`},
		{"prefix-out-of-scope", `<a><b xmlns:p="urn:p"/><p:c/></a>`, "undeclared namespace prefix"},
		{"declare-xmlns", `<a xmlns:xmlns="urn:x"/>`, "the prefix xmlns must not be declared"},
		{"rebind-xml", `<a xmlns:xml="urn:x"/>`, "the prefix xml must not be bound"},
		{"bind-xml-namespace", `<a xmlns:p="http://www.w3.org/XML/1998/namespace"/>`, "only the prefix xml"},
		{"bind-xmlns-namespace", `<a xmlns:p="http://www.w3.org/2000/xmlns/"/>`, "no prefix may be bound"},
		{"double-colon", `<a:b:c xmlns:a="urn:a"/>`, "malformed element name"},
		{"trailing-colon", `<a: xmlns:a="urn:a"/>`, "malformed element name"},
		{"leading-colon", `<:a/>`, "malformed element name"},
		{"bad-name-start", `<1a/>`, "expected element name"},
		{"space-after-lt", `< a/>`, "expected element name"},
		{"no-space-between-attributes", `<a b="1"c="2"/>`, "expected white space before attribute"},
		{"unquoted", `<a b=1/>`, "value must be quoted"},
		{"no-equals", `<a b "1"/>`, "expected '=' after attribute b"},
		{"lt-in-attribute", `<a b="<"/>`, "'<' not allowed in a value"},
		{"unterminated-attribute", `<a b="1/>`, "unexpected end of document in attribute b"},
		{"bad-slash", `<a / >`, "expected '>' after '/'"},
		{"cdata-end-in-text", `<a>]]></a>`, "']]>' not allowed in character data"},
		{"double-dash", `<a><!-- a -- b --></a>`, "'--' not allowed inside a comment"},
		{"comment-ending-dash", `<a><!-- a ---></a>`, "'--' not allowed"},
		{"unterminated-comment", `<a><!-- a</a>`, "unterminated comment"},
		{"unterminated-cdata", `<a><![CDATA[ a</a>`, "unterminated CDATA section"},
		{"unterminated-pi", `<a><?pi a</a>`, "unterminated processing instruction"},
		{"pi-no-space", `<a><?pi"x"?></a>`, "expected white space after processing instruction target pi"},
		{"late-declaration", ` <?xml version="1.0"?><a/>`, "XML declaration allowed only at the start"},
		{"declaration-in-root", `<a><?xml version="1.0"?></a>`, "XML declaration allowed only"},
		{"declaration-no-version", `<?xml encoding="UTF-8"?><a/>`, "version required"},
		{"declaration-order", `<?xml version="1.0" standalone="yes" encoding="UTF-8"?><a/>`, "unexpected"},
		{"declaration-standalone", `<?xml version="1.0" standalone="maybe"?><a/>`, "standalone must be yes or no"},
		{"declaration-unterminated", `<?xml version="1.0"`, "unterminated XML declaration"},
		{"declaration-bad-encoding-name", `<?xml version="1.0" encoding="8bit"?><a/>`, "malformed encoding name"},
		{"markup-declaration-in-content", `<a><!ELEMENT a ANY></a>`, "markup declaration not allowed in content"},
		{"char-ref-zero", `<a>&#0;</a>`, "character reference &#0; to an illegal character"},
		{"char-ref-fffe", `<a>&#xFFFE;</a>`, "illegal character"},
		{"char-ref-surrogate", `<a>&#xD800;</a>`, "illegal character"},
		{"char-ref-huge", `<a>&#x110000;</a>`, "illegal character"},
		{"char-ref-overflow", `<a>&#99999999999999999999;</a>`, "illegal character"},
		{"char-ref-uppercase-x", `<a>&#X41;</a>`, "malformed character reference"},
		{"char-ref-empty", `<a>&#;</a>`, "malformed character reference"},
		{"char-ref-unterminated", `<a>&#65</a>`, "malformed character reference"},
		{"amp-alone", `<a>a & b</a>`, "expected entity name"},
		{"entity-unterminated", `<a>&amp</a>`, "malformed entity reference"},
		{"control-char-text", "<a>\x01</a>", "illegal character U+0001"},
		{"control-char-attribute", "<a b=\"\x1F\"/>", "illegal character U+001F"},
		{"control-char-comment", "<a><!--\x0B--></a>", "illegal character U+000B"},
		{"fffe-text", "<a>\uFFFE</a>", "illegal character U+FFFE"},
		{"bad-utf8-text", "<a>\xC3</a>", "invalid UTF-8 byte 0xC3"},
		{"bad-utf8-attribute", "<a b=\"\xFF\"/>", "invalid UTF-8 byte 0xFF"},
		{"bad-utf8-name", "<a\xE9/>", "invalid UTF-8 byte 0xE9"},
		{"bad-utf8-comment", "<a><!--\x80--></a>", "invalid UTF-8 byte 0x80"},
		{"overlong-utf8", "<a>\xC0\xAF</a>", "invalid UTF-8"},
		{"surrogate-utf8", "<a>\xED\xA0\x80</a>", "invalid UTF-8"},
		{"ascii-declared-non-ascii", "<?xml version=\"1.0\" encoding=\"US-ASCII\"?>\n<a>\xC3\xA9</a>", "line 2: byte 0xC3 in a document declared US-ASCII"},
		{"end-in-tag", `<a b="1"`, "unexpected end of document in start tag <a>"},
		{"end-in-end-tag", `<a></a`, "expected '>' to end </a>"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := Parse([]byte(c.doc))
			if err == nil {
				t.Fatalf("Parse accepted %q (root %s)", trunc(c.doc), e.Root)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("Parse: %v\nwant it to contain %q", err, c.want)
			}
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 {
				t.Errorf("error %v is not a *SyntaxError with a line", err)
			}
		})
	}
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// TestParseModel checks the document model the parser builds: text with
// references decoded, line ends and attribute values normalised as XML
// 1.0 §2.11 and §3.3.3 require, CDATA merged into text.
func TestParseModel(t *testing.T) {
	raw := "<r a=\"x\ty\nz\r\nw\rv\" b=\"&#9;&#10;&#13;&lt;\" c='\"'>" +
		"1\r\n2\r3&amp;<![CDATA[&lt;\r\n]]>4<!-- c\r\n --><e>é</e>\u00a0</r>"
	e, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	r := e.Doc.Element()
	for _, c := range []struct{ attr, want string }{
		{"a", "x y z w v"},
		{"b", "\t\n\r<"},
		{"c", `"`},
	} {
		if got, _ := r.Attr("", c.attr); got != c.want {
			t.Errorf("attribute %s = %q, want %q", c.attr, got, c.want)
		}
	}
	var kinds []string
	for c := range r.Children() {
		kinds = append(kinds, fmt.Sprintf("%s:%q", c.Kind(), c.Value()))
	}
	want := []string{`text:"1\n2\n3&&lt;\n4"`, `comment:" c\n "`, `element:"é"`, `text:"\u00a0"`}
	if fmt.Sprint(kinds) != fmt.Sprint(want) {
		t.Errorf("children:\n got %v\nwant %v", kinds, want)
	}
}

// TestParseNamespaces checks names and namespaces in the model.
func TestParseNamespaces(t *testing.T) {
	raw := `<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" xmlns="urn:d" ivorn="x"><Who xmlns=""><a/></Who><b xml:lang="en"/></voe:VOEvent>`
	e, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	r := e.Doc.Element()
	if r.Prefix() != "voe" || r.Local() != "VOEvent" || r.URI() != Namespace || r.QName() != "voe:VOEvent" {
		t.Errorf("root %q %q %q", r.Prefix(), r.Local(), r.URI())
	}
	var got []string
	for c := range r.Children() {
		got = append(got, c.Local()+"="+c.URI())
		for g := range c.Children() {
			got = append(got, g.Local()+"="+g.URI())
		}
		for a := range c.Attributes() {
			got = append(got, "@"+a.QName()+"="+a.URI())
		}
	}
	want := []string{"Who=", "a=", "b=urn:d", "@xml:lang=" + xpath.XMLNamespace}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// TestParseEventFields checks Root, Role and IVORN.
func TestParseEventFields(t *testing.T) {
	for _, c := range []struct{ doc, root, role, ivorn string }{
		{`<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d" role="utility"/>`, "VOEvent", "utility", "ivo://a.b/c#d"},
		{`<VOEvent ivorn="i"/>`, "VOEvent", "observation", "i"},
		{`<v:VOEvent xmlns:v="http://www.ivoa.net/xml/VOEvent/v1.1" role="test"/>`, "VOEvent", "test", ""},
		{`<trn:Transport xmlns:trn="http://www.telescope-networks.org/xml/Transport/v1.1" role="iamalive" ivorn="x"/>`, "Transport", "iamalive", ""},
		{`<Transport/>`, "Transport", "", ""},
		{`<other role="x"/>`, "other", "x", ""},
	} {
		e, err := Parse([]byte(c.doc))
		if err != nil {
			t.Fatalf("%s: %v", c.doc, err)
		}
		if e.Root != c.root || e.Role != c.role || e.IVORN != c.ivorn {
			t.Errorf("%s: root %q role %q ivorn %q, want %q %q %q", c.doc, e.Root, e.Role, e.IVORN, c.root, c.role, c.ivorn)
		}
		if e.IsVOEvent() != (c.root == "VOEvent") || e.IsTransport() != (c.root == "Transport") {
			t.Errorf("%s: IsVOEvent %v IsTransport %v", c.doc, e.IsVOEvent(), e.IsTransport())
		}
	}
}

// TestParseSpan checks Raw[Start:End]: the root element exactly, the span
// VTP 2.0 §8 hashes.
func TestParseSpan(t *testing.T) {
	const elem = `<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d">` + "\n  <Who/>\n</voe:VOEvent>"
	const empty = `<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d"/>`
	for _, c := range []struct{ name, before, elem, after string }{
		{"bare", "", elem, ""},
		{"declaration", "<?xml version='1.0' encoding='UTF-8'?>\n", elem, "\n"},
		{"misc", "<?xml version=\"1.0\"?>\r\n<!-- >< -->\n<?pi <x>?>\n\t", elem, "\n<!-- <voe:VOEvent> -->\n  \n"},
		{"bom", "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n", elem, "\n"},
		{"empty", "<?xml version=\"1.0\"?>\n", empty, "\n"},
		{"empty-bare", "", empty, ""},
		{"ascii", "<?xml version=\"1.0\" encoding=\"US-ASCII\"?>", elem, ""},
		{"latin1-ascii-only", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>", elem, ""},
		{"latin1", "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><!-- \xE9\xE8 -->\n", "<a b=\"\xE0\">\xFF\xE9<c>\xB5</c></a>", "<!--\xE9-->"},
		{"bom-latin1", "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"latin1\"?><!--\xA0-->", "<a>\xE9</a>", "<!--\xA0-->"},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw := []byte(c.before + c.elem + c.after)
			e, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if e.Start != len(c.before) || e.End != len(c.before)+len(c.elem) {
				t.Errorf("span [%d:%d], want [%d:%d]", e.Start, e.End, len(c.before), len(c.before)+len(c.elem))
			}
			if got := string(e.Element()); got != c.elem {
				t.Errorf("Element() = %q, want %q", got, c.elem)
			}
			if &e.Raw[0] != &raw[0] || len(e.Raw) != len(raw) {
				t.Error("Raw is not the input")
			}
		})
	}
}

// TestParseLatin1 checks that ISO-8859-1 text reaches the model as UTF-8.
func TestParseLatin1(t *testing.T) {
	raw := []byte("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?>\n<a b=\"caf\xE9\">\xB5\xFF</a>")
	e, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	r := e.Doc.Element()
	if b, _ := r.Attr("", "b"); b != "café" {
		t.Errorf("attribute = %q, want café", b)
	}
	if v := r.Value(); v != "µÿ" {
		t.Errorf("text = %q, want µÿ", v)
	}
	if r.Line() != 2 {
		t.Errorf("line %d, want 2", r.Line())
	}
}

// TestParseLines checks the line numbers of elements, attributes and text.
func TestParseLines(t *testing.T) {
	raw := "<?xml version=\"1.0\"?>\r\n<a\r\n  b=\"1\"\n  c=\"2\r\n3\">\n<!-- \n -->text<d/>\r\n<![CDATA[\n]]><e\n/></a>"
	e, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	r := e.Doc.Element()
	got = append(got, fmt.Sprintf("a:%d", r.Line()))
	for a := range r.Attributes() {
		got = append(got, fmt.Sprintf("@%s:%d", a.Local(), a.Line()))
	}
	for c := range r.Children() {
		got = append(got, fmt.Sprintf("%s %s:%d", c.Kind(), c.Local(), c.Line()))
	}
	want := "[a:2 @b:3 @c:4 text :5 comment :6 text :7 element d:7 text :7 element e:9]"
	if fmt.Sprint(got) != want {
		t.Errorf("lines\n got %v\nwant %s", got, want)
	}
}

func TestSyntaxErrorLine(t *testing.T) {
	_, err := Parse([]byte("<a>\n\n<b></c></a>"))
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 3 || err.Error() != "line 3: end tag </c> does not match <b>" {
		t.Errorf("error %#v", err)
	}
}

// TestParseReuse checks that pooled scratch space leaks nothing between
// documents.
func TestParseReuse(t *testing.T) {
	docs := []string{
		`<a xmlns:p="urn:p" p:x="1"><![CDATA[x]]><b c="&amp;"/></a>`,
		`<q/>`,
		"<a>\n<b></c></a>",
		`<z y="2"><w/></z>`,
	}
	for range 3 {
		for _, d := range docs {
			e, err := Parse([]byte(d))
			if d == docs[2] {
				if err == nil {
					t.Fatal("bad document accepted")
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if d == docs[1] && (e.Doc.Len() != 3 || len(e.cdata) != 0) {
				t.Errorf("%s: %d nodes, cdata %v", d, e.Doc.Len(), e.cdata)
			}
		}
	}
}

// TestParseReuseBindings checks that a prefix bound when a parse failed
// is not bound in the next parse, which may reuse the pooled prefix table.
func TestParseReuseBindings(t *testing.T) {
	for range 3 {
		if _, err := Parse([]byte(`<a xmlns:p="urn:p" xmlns="urn:d"><b></c></a>`)); err == nil {
			t.Fatal("mismatched tags accepted")
		}
		if _, err := Parse([]byte(`<p:x/>`)); err == nil || !strings.Contains(err.Error(), "undeclared namespace prefix") {
			t.Fatalf("after a failed parse binding p: %v", err)
		}
		e, err := Parse([]byte(`<x/>`))
		if err != nil || e.Doc.Element().URI() != "" {
			t.Fatalf("after a failed parse binding the default namespace: %v", err)
		}
	}
}
