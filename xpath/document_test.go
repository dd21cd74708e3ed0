package xpath_test

import (
	"strings"
	"testing"

	"comet/voevent"
	"comet/xpath"
)

func parse(t *testing.T, src string) *xpath.Document {
	t.Helper()
	ev, err := voevent.Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return ev.Doc
}

// TestNamespaceNodeOrder checks the namespace nodes each element gets, in
// libxml2's order (checked with xmllint: name() and string() of
// namespace::*[i] for each i).
func TestNamespaceNodeOrder(t *testing.T) {
	d := parse(t, `<r xmlns:a="urn:a" xmlns:b="urn:b" xmlns="urn:d"><s xmlns:c="urn:c" xmlns:a="urn:a2" xmlns:e="urn:e"><t xmlns:b="urn:b2"><u/></t></s><v/></r>`)
	want := map[string]string{
		"r": "xml= =urn:d b=urn:b a=urn:a",
		"s": "xml= =urn:d b=urn:b e=urn:e a=urn:a2 c=urn:c",
		"t": "xml= =urn:d e=urn:e a=urn:a2 c=urn:c b=urn:b2",
		"u": "xml= =urn:d e=urn:e a=urn:a2 c=urn:c b=urn:b2",
		"v": "xml= =urn:d b=urn:b a=urn:a",
	}
	v, err := xpath.MustCompile("//*").Evaluate(d.Root())
	if err != nil {
		t.Fatal(err)
	}
	for _, el := range v.Nodes() {
		var got []string
		for ns := range el.Namespaces() {
			if ns.Kind() != xpath.NamespaceNode || ns.Parent() != el {
				t.Errorf("%s: namespace node %v has kind %v, parent %v", el.Local(), ns, ns.Kind(), ns.Parent())
			}
			uri := ns.Value()
			if ns.Local() == "xml" {
				uri = ""
			}
			got = append(got, ns.Local()+"="+uri)
		}
		if g := strings.Join(got, " "); g != want[el.Local()] {
			t.Errorf("%s: namespace nodes %s, want %s", el.Local(), g, want[el.Local()])
		}
	}
}

// TestNodeAPI checks the exported Node accessors voevent's validator uses.
func TestNodeAPI(t *testing.T) {
	d := parse(t, `<?xml version="1.0"?>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" role="test" ivorn="ivo://x/y#1"><Who>a<!--c-->b</Who><?pi data?></voe:VOEvent>`)
	root := d.Element()
	if root.QName() != "voe:VOEvent" || root.Local() != "VOEvent" || root.Prefix() != "voe" ||
		root.URI() != voevent.Namespace || root.Line() != 2 || root.Kind() != xpath.ElementNode {
		t.Errorf("root element: %q %q %q %q line %d %v", root.QName(), root.Local(), root.Prefix(), root.URI(), root.Line(), root.Kind())
	}
	if role, ok := root.Attr("", "role"); !ok || role != "test" {
		t.Errorf("role = %q, %v", role, ok)
	}
	var attrs []string
	for a := range root.Attributes() {
		attrs = append(attrs, a.QName()+"="+a.Value())
	}
	if strings.Join(attrs, " ") != "role=test ivorn=ivo://x/y#1" {
		t.Errorf("attributes %q", attrs)
	}
	var kids []string
	for c := range root.Children() {
		kids = append(kids, c.Kind().String()+":"+c.Value())
	}
	if strings.Join(kids, " ") != "element:ab processing-instruction:data" {
		t.Errorf("children %q", kids)
	}
	if root.Value() != "ab" || d.Root().Value() != "ab" || root.Parent() != d.Root() || d.Root().Parent().Valid() {
		t.Errorf("values or parents wrong")
	}
}
