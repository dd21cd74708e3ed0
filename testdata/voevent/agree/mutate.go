package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"strings"

	"comet/voevent"
)

func mutate(src string, root *node, rng *rand.Rand, n int) []*doc {
	type mutation struct {
		kind string
		fn   func(r *node, s site) bool // false: not applicable
	}
	muts := []mutation{
		{"insert-new", func(r *node, s site) bool {
			if !*v21 {
				return false
			}
			c := newElement(rng)
			s.n.children = insert(s.n.children, rng.IntN(len(s.n.children)+1), c)
			return true
		}},
		{"remove", func(r *node, s site) bool {
			if s.parent == nil {
				return false
			}
			s.parent.children = append(s.parent.children[:s.idx], s.parent.children[s.idx+1:]...)
			return true
		}},
		{"duplicate", func(r *node, s site) bool {
			if s.parent == nil {
				return false
			}
			s.parent.children = insert(s.parent.children, s.idx+1, s.n.clone())
			return true
		}},
		{"swap-next", func(r *node, s site) bool {
			if s.parent == nil {
				return false
			}
			for j := s.idx + 1; j < len(s.parent.children); j++ {
				if s.parent.children[j].kind == elemNode {
					c := s.parent.children
					c[s.idx], c[j] = c[j], c[s.idx]
					return true
				}
			}
			return false
		}},
		{"rename", func(r *node, s site) bool {
			if s.parent == nil {
				return false
			}
			s.n.name.Local = pick(rng, strayNames)
			return true
		}},
		{"stray-child", func(r *node, s site) bool {
			c := &node{kind: elemNode, name: xml.Name{Local: pick(rng, strayNames)}}
			s.n.children = insert(s.n.children, rng.IntN(len(s.n.children)+1), c)
			return true
		}},
		{"text", func(r *node, s site) bool {
			s.n.children = insert(s.n.children, rng.IntN(len(s.n.children)+1), &node{kind: textNode, text: pick(rng, []string{"x", " x ", "1"})})
			return true
		}},
		{"whitespace", func(r *node, s site) bool {
			s.n.children = insert(s.n.children, rng.IntN(len(s.n.children)+1), &node{kind: textNode, text: pick(rng, []string{" ", "\n  ", "\t"})})
			return true
		}},
		{"cdata", func(r *node, s site) bool {
			s.n.children = insert(s.n.children, rng.IntN(len(s.n.children)+1), &node{kind: cdataNode, text: pick(rng, []string{"", " ", "x"})})
			return true
		}},
		{"comment-pi", func(r *node, s site) bool {
			c := &node{kind: commentNode, text: "c"}
			if rng.IntN(2) == 0 {
				c = &node{kind: piNode, name: xml.Name{Local: "pi"}, text: "x"}
			}
			s.n.children = insert(s.n.children, rng.IntN(len(s.n.children)+1), c)
			return true
		}},
		{"nest-group", func(r *node, s site) bool {
			if s.parent == nil || s.n.name.Local != "Param" && s.n.name.Local != "Group" {
				return false
			}
			g := &node{kind: elemNode, name: xml.Name{Local: "Group"}, children: []*node{s.n}}
			if rng.IntN(2) == 0 {
				g = &node{kind: elemNode, name: xml.Name{Local: "Group"}, children: []*node{g}}
			}
			s.parent.children[s.idx] = g
			return true
		}},
		{"move-up", func(r *node, s site) bool {
			// put a copy of the element into its grandparent
			if s.parent == nil || s.parent == r {
				return false
			}
			r.children = insert(r.children, rng.IntN(len(r.children)+1), s.n.clone())
			return true
		}},
		{"drop-attr", func(r *node, s site) bool {
			if len(s.n.attrs) == 0 {
				return false
			}
			i := rng.IntN(len(s.n.attrs))
			if strings.HasPrefix(qname(s.n.attrs[i].Name), "xmlns") {
				return false
			}
			s.n.attrs = append(s.n.attrs[:i], s.n.attrs[i+1:]...)
			return true
		}},
		{"attr-value", func(r *node, s site) bool {
			if len(s.n.attrs) == 0 {
				return false
			}
			i := rng.IntN(len(s.n.attrs))
			if strings.HasPrefix(qname(s.n.attrs[i].Name), "xmlns") {
				return false
			}
			pool := allValues
			switch s.n.attrs[i].Name.Local {
			case "ivorn":
				pool = ivorns
			case "version":
				pool = version
			case "probability":
				pool = smalls
			case "id":
				pool = ids
			}
			s.n.attrs[i].Value = pick(rng, pool)
			return true
		}},
		{"add-attr", func(r *node, s site) bool {
			a := pick(rng, []string{"foo", "name", "type", "value", "dataType", "id", "unit", "cite", "uri", "role", "ucd", "pos_unit", "ivorn", "altIdentifier",
				"xsi:schemaLocation", "xsi:noNamespaceSchemaLocation", "xsi:nil", "xsi:foo", "xml:lang", "xml:id", "voe:name"})
			name := xml.Name{Local: a}
			if p, l, ok := strings.Cut(a, ":"); ok {
				name = xml.Name{Space: p, Local: l}
				if p == "xsi" {
					s.n.attrs = ensureNS(s.n.attrs, "xsi", "http://www.w3.org/2001/XMLSchema-instance")
				}
				if p == "voe" {
					s.n.attrs = ensureNS(s.n.attrs, "voe", ns)
				}
			}
			for _, x := range s.n.attrs {
				if x.Name == name {
					return false
				}
			}
			s.n.attrs = append(s.n.attrs, xml.Attr{Name: name, Value: pick(rng, allValues)})
			return true
		}},
		{"xsi-type", func(r *node, s site) bool {
			for _, x := range s.n.attrs {
				if x.Name.Local == "type" && x.Name.Space == "xsi" {
					return false
				}
			}
			s.n.attrs = ensureNS(s.n.attrs, "xsi", "http://www.w3.org/2001/XMLSchema-instance")
			s.n.attrs = ensureNS(s.n.attrs, "xs", "http://www.w3.org/2001/XMLSchema")
			s.n.attrs = ensureNS(s.n.attrs, "voe", ns)
			t := pick(rng, []string{"voe:" + s.n.name.Local, "voe:Who", "voe:Param", "xs:string", "xs:token", "xs:float",
				"xs:anyURI", "xs:dateTime", "voe:smallFloat", "voe:dataType", "xs:NCName", "xs:int", "Foo", "voe:Foo", "x:y", "xs:anyType",
				"voe:EventIVORN", "voe:coord_value", "voe:Name", "voe:TimeInterval", "voe:Error2", "voe:contributorRole", "voe:idValues", "voe:TimeFrameType", "xs:ID"})
			s.n.attrs = append(s.n.attrs, xml.Attr{Name: xml.Name{Space: "xsi", Local: "type"}, Value: t})
			return true
		}},
		{"namespace", func(r *node, s site) bool {
			switch rng.IntN(3) {
			case 0: // default namespace on this element
				s.n.attrs = append(s.n.attrs, xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: pick(rng, []string{voevent.Namespace, "urn:x", ""})})
			case 1: // qualify it with the voe prefix
				s.n.attrs = ensureNS(s.n.attrs, "voe", ns)
				s.n.name.Space = "voe"
			default: // another prefix
				s.n.attrs = ensureNS(s.n.attrs, "x", pick(rng, []string{"urn:x", voevent.Namespace21, voevent.Namespace}))
				s.n.name.Space = "x"
			}
			return true
		}},
		{"root-attr", func(r *node, s site) bool {
			name := pick(rng, []string{"ivorn", "ivorn", "version", "role"})
			pool := map[string][]string{"ivorn": ivorns, "version": version, "role": enums}[name]
			for i, a := range r.attrs {
				if a.Name.Space == "" && a.Name.Local == name {
					if rng.IntN(5) == 0 {
						r.attrs = append(r.attrs[:i], r.attrs[i+1:]...)
					} else {
						r.attrs[i].Value = pick(rng, pool)
					}
					return true
				}
			}
			r.attrs = append(r.attrs, xml.Attr{Name: xml.Name{Local: name}, Value: pick(rng, pool)})
			return true
		}},
		{"typed-text", func(r *node, s site) bool {
			var leaves []*node
			for _, t := range sites(r) {
				switch t.n.name.Local {
				case "Date", "C1", "C2", "C3", "Error2Radius", "Error", "TimeOffset", "AuthorIVORN", "logoURL", "EventIVORN":
					leaves = append(leaves, t.n)
				}
			}
			if len(leaves) == 0 {
				return false
			}
			n := leaves[rng.IntN(len(leaves))]
			pool := uris
			switch n.name.Local {
			case "Date":
				pool = dates
			case "C1", "C2", "C3", "Error2Radius", "Error", "TimeOffset":
				pool = floats
			}
			v := pick(rng, pool)
			if rng.IntN(3) == 0 { // split by a comment: libxml2 joins the text
				i := rng.IntN(len(v) + 1)
				n.children = []*node{{kind: textNode, text: v[:i]}, {kind: commentNode, text: "c"}, {kind: textNode, text: v[i:]}}
			} else {
				n.children = []*node{{kind: textNode, text: v}}
			}
			return true
		}},
		{"leaf-text", func(r *node, s site) bool {
			for _, c := range s.n.children {
				if c.kind == elemNode {
					return false
				}
			}
			pool := allValues
			switch s.n.name.Local {
			case "Date":
				pool = dates
			case "C1", "C2", "C3", "Error2Radius", "Error", "TimeOffset":
				pool = floats
			case "AuthorIVORN", "logoURL":
				pool = uris
			}
			s.n.children = []*node{{kind: textNode, text: pick(rng, pool)}}
			return true
		}},
	}
	all := sites(root)
	var out []*doc
	for tries := 0; len(out) < n && tries < 20*n; tries++ {
		m := muts[rng.IntN(len(muts))]
		r := root.clone()
		ss := sites(r)
		i := rng.IntN(len(all))
		if m.kind == "attr-value" || m.kind == "drop-attr" {
			// favour the root: its attributes carry the required ones
			if rng.IntN(4) == 0 {
				i = 0
			}
		}
		if !m.fn(r, ss[i]) {
			continue
		}
		path := qname(ss[i].n.name)
		data := serialize(r)
		enc := "utf8"
		if rng.IntN(8) == 0 {
			data, enc = encode(data, rng)
		}
		out = append(out, &doc{name: fmt.Sprintf("%s#%d:%s@%s(%s)", src, len(out), m.kind, path, enc), kind: m.kind, data: data})
	}
	return out
}

// encode rewrites a serialised document: CRLF line ends, a byte-order
// mark, or Latin-1 when every character fits.
func encode(data []byte, rng *rand.Rand) ([]byte, string) {
	switch rng.IntN(3) {
	case 0:
		return bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")), "crlf"
	case 1:
		return append([]byte("\xEF\xBB\xBF"), data...), "bom"
	}
	var out []byte
	for _, r := range string(data) {
		if r > 0xFF {
			return data, "utf8"
		}
		out = append(out, byte(r))
	}
	return bytes.Replace(out, []byte(`encoding="UTF-8"`), []byte(`encoding="ISO-8859-1"`), 1), "latin1"
}

func insert(s []*node, i int, n *node) []*node {
	s = append(s, nil)
	copy(s[i+1:], s[i:])
	s[i] = n
	return s
}

func ensureNS(attrs []xml.Attr, prefix, uri string) []xml.Attr {
	for _, a := range attrs {
		if a.Name.Space == "xmlns" && a.Name.Local == prefix {
			return attrs
		}
	}
	return append(attrs, xml.Attr{Name: xml.Name{Space: "xmlns", Local: prefix}, Value: uri})
}
