package xpath

import (
	"strings"
	"testing"
)

// TestInternURI checks the numbering of namespace URIs: one number per
// distinct URI in a document, "" always 0, a fresh numbering after Reset,
// and no long URIs kept across Reset beyond keepURIBytes.
func TestInternURI(t *testing.T) {
	b := NewBuilder()
	for doc := range 3 {
		if n := b.InternURI(nil); n != 0 {
			t.Errorf("document %d: \"\" is %d", doc, n)
		}
		u1, u2 := b.InternURI([]byte("urn:a")), b.InternURI([]byte("urn:b"))
		if u1 != 1 || u2 != 2 || b.InternURI([]byte("urn:a")) != u1 {
			t.Errorf("document %d: urn:a %d, urn:b %d", doc, u1, u2)
		}
		b.StartElement(nil, []byte("e"), u2, 1)
		b.InheritNamespaces()
		b.EndElement()
		d := b.Document()
		if e := d.Element(); e.URI() != "urn:b" || len(d.uris) != 4 { // "", urn:a, urn:b and xml's
			t.Errorf("document %d: element in %q, uris %q", doc, e.URI(), d.uris)
		}
		b.Reset()
	}

	long := strings.Repeat("u", keepURIBytes)
	b.InternURI([]byte(long + "1"))
	b.Reset()
	if b.uriBytes != 0 || len(b.uriIndex) != 0 {
		t.Errorf("after a %d-byte URI, Reset kept %d URIs, %d bytes", len(long)+1, len(b.uriIndex), b.uriBytes)
	}
	b.InternURI([]byte("urn:a"))
	b.Reset()
	if len(b.uriIndex) != 1 {
		t.Errorf("Reset kept %d URIs, want urn:a", len(b.uriIndex))
	}
}
