package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
)

// ---- a small DOM that round-trips what the mutations need ----

type nodeKind int

const (
	elemNode nodeKind = iota
	textNode
	cdataNode
	commentNode
	piNode
)

type node struct {
	kind     nodeKind
	name     xml.Name // Space is the prefix as written
	attrs    []xml.Attr
	children []*node
	text     string
}

func parseTree(data []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) { return r, nil }
	top := &node{kind: elemNode} // document
	stack := []*node{top}
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		cur := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{kind: elemNode, name: t.Name, attrs: append([]xml.Attr(nil), t.Attr...)}
			cur.children = append(cur.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			cur.children = append(cur.children, &node{kind: textNode, text: string(t)})
		case xml.Comment:
			cur.children = append(cur.children, &node{kind: commentNode, text: string(t)})
		case xml.ProcInst:
			if t.Target == "xml" {
				continue
			}
			cur.children = append(cur.children, &node{kind: piNode, name: xml.Name{Local: t.Target}, text: string(t.Inst)})
		}
	}
	for _, c := range top.children {
		if c.kind == elemNode {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no root")
}

func (n *node) clone() *node {
	c := *n
	c.attrs = append([]xml.Attr(nil), n.attrs...)
	c.children = make([]*node, len(n.children))
	for i, ch := range n.children {
		c.children[i] = ch.clone()
	}
	return &c
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

var attrEsc = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "\t", "&#9;", "\n", "&#10;", "\r", "&#13;")
var textEsc = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#13;")

func (n *node) write(b *bytes.Buffer) {
	switch n.kind {
	case textNode:
		b.WriteString(textEsc.Replace(n.text))
	case cdataNode:
		b.WriteString("<![CDATA[" + n.text + "]]>")
	case commentNode:
		b.WriteString("<!--" + n.text + "-->")
	case piNode:
		b.WriteString("<?" + n.name.Local + " " + n.text + "?>")
	case elemNode:
		b.WriteString("<" + qname(n.name))
		for _, a := range n.attrs {
			b.WriteString(" " + qname(a.Name) + `="` + attrEsc.Replace(a.Value) + `"`)
		}
		if len(n.children) == 0 {
			b.WriteString("/>")
			return
		}
		b.WriteString(">")
		for _, c := range n.children {
			c.write(b)
		}
		b.WriteString("</" + qname(n.name) + ">")
	}
}

func serialize(root *node) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	root.write(&b)
	b.WriteString("\n")
	return b.Bytes()
}

// ---- mutations ----

// elems lists every element of the tree with its parent, in document order.
type site struct {
	n, parent *node
	idx       int // index in parent.children
}

func sites(root *node) []site {
	out := []site{{n: root, idx: -1}}
	var walk func(p *node)
	walk = func(p *node) {
		for i, c := range p.children {
			if c.kind == elemNode {
				out = append(out, site{c, p, i})
				walk(c)
			}
		}
	}
	walk(root)
	return out
}

var (
	floats = []string{"1", "-1.5e-3", "1e", "1e+", ".5", "5.", ".", "", " 1 ", "\n1\n", "NaN", " NaN", "NaN ", "INF", " INF", "INF ",
		"-INF", "+INF", "inf", "1.0.0", "abc", "1,5", "+1", "0x1", "1e99999", "1 2", "-0", "1E5", "e5", "+-1"}
	dates = []string{"2020-01-01T00:00:00", " 2020-01-01T00:00:00", "2020-01-01T00:00:00 ", "2020-01-01T00:00:00Z ",
		"2020-01-01T24:00:00", "2020-01-01T24:00:01", "2020-02-30T00:00:00", "2020-02-29T12:00:00", "2021-02-29T12:00:00",
		"2020-01-01", "2020-01-01T00:00:00+14:00", "2020-01-01T00:00:00+14:01", "2020-01-01T00:00:00-05:30",
		"0000-01-01T00:00:00", "2020-01-01T00:00:60", "2020-01-01 00:00:00", "2020-01-01T00:00:00.", "12020-01-01T00:00:00",
		"02020-01-01T00:00:00", "2020-01-01T00:00:59.9999999999999999", "2020-01-01T00:00:00.123456", "2020-1-1T0:0:0",
		"1900-02-29T00:00:00", "2000-02-29T00:00:00", "-0001-01-01T00:00:00", "2020-01-01T00:00:00z", "2020-01-01T00:00"}
	uris = []string{"", " ", "http://a b/", "%zz", "http://h:/", "http://h:80/", "x:##", "a#b#c", "1abc:foo", ":x", "ivo://x/y#z",
		"http://[::1]/", "http://[::1/", "a[b]", "a#[b]", "é", `a\b`, "mailto:a@b", "//a@b@c", "x:", " ivo://a.b/c ", "a:b:c"}
	enums = []string{"string", "float", "int", "Float", "bool", " float", "float ", "", "followup", "supersedes", "retraction",
		"FOLLOWUP", "test", "Test", "observation", "utility", "prediction", "observe", "UTC-FK5-GEO", "UTC-FK5-GEO ",
		"TT-ICRS-TOPO", "GPS-FK5-TOPO", "utc-fk5-geo"}
	smalls  = []string{"0", "1", "0.5", "1.00000005", "1.0000001", "-0", "-1e-45", "-0.7e-45", "2", "0.5e", "NaN", "INF", " 0.5 ", "1e0", "10e-1"}
	ids     = []string{"a", "1a", " a ", "a b", "é", "ǅ", "_x", "a:b", "a-b.c", "", "Ⅰ"}
	strs    = []string{"", "x", "  ", "<&>", "é"}
	version = []string{"2.0", " 2.0 ", "2.0\t", "2.1", " 2.1\n", "2.10", "2", "", "2.00", "2. 0", "1.1"}
	roles   = []string{"Editor", "Other", "editor", " Editor", "Editor ", "", "ContactPerson", "WorkPackageLeader", "Author"}
	ivorns  = []string{"ivo://a.b/c#d", "ivo://a.b/c", "ivo://a.b/c#", "ivo://ab/c#d", "ivo://a.b/c/#d", "ivo://a.b//c#d",
		"ivo://a.b/./c#d", "ivo://a.b/c/..#d", "ivo://a.b/c#d#e", "ivo://a.b/c#d%", "ivo://a.b/c#d%41", "ivo://a.b/c#d e", "ivo://a.b/c#é",
		"IVO://a.b/c#d", " ivo://a.b/c#d", "ivo://a.b#d", "ivo://_ab/c#d", "ivo://a.b/c?x#d", "ivo://a.b/c#[d]",
		"ivo://a.b/c#d/e?f", "ivo://a~b/c(d)#x", "ivo://a.b/c%41#d", "ivo://a b/c#d", "http://a.b/c#d",
		"ivo://a.b/c?d", "ivo://a.b/c?", "ivo://a.b?d", "ivo://a.b/c?d?e", "ivo://a.b/c?d#e", "ivo://a.b/c?d/e", "ivo://a.b/c/?d",
		"ivo://a.b/c?d%4", "ivo://a.b/c?é", "ivo://a.b/./c?d"}
	allValues = concat(floats, dates, uris, enums, smalls, ids, strs, version, roles)
)

func concat(ss ...[]string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s...)
	}
	return out
}

func pick(rng *rand.Rand, s []string) string { return s[rng.IntN(len(s))] }

var strayNames = []string{"Foo", "Param", "Group", "Who", "What", "Description", "Reference", "EventIVORN", "TD", "C1", "Name",
	"ObsDataLocation", "AstroCoords", "Time", "Value", "Field", "Data", "TR", "Table", "Inference", "Author", "Date"}

// mutate returns n random mutations of the tree rooted at root.
