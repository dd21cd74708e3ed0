package voevent

import (
	"bytes"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"comet/xpath"
)

// FuzzParseSignatures feeds arbitrary bytes after a VOEvent's root
// element. ParseSignatures must stay within MaxSignatures, return only
// signatures whose carrier comment is in the input exactly, and, when the
// XML parser accepts the document, never mistake its trailing comments
// and processing instructions for stray bytes.
func FuzzParseSignatures(f *testing.F) {
	el := mustParse(f, sigEvent(sigTestIVORN)).Element()
	good := SignatureComment(testKey(1), el)
	f.Add(good)
	f.Add([]byte("\n<!-- x --><?pi a?>\n" + string(good) + "\n"))
	f.Add(bytes.Repeat(append(bytes.Clone(good), '\n'), MaxSignatures+2))
	f.Add([]byte("<!-- voevent-signature v=1 alg=ed25519 key= sig= -->"))
	f.Add([]byte("<!-- voevent-signature-->"))
	f.Add([]byte("<!--"))
	f.Add([]byte("<?"))
	f.Add([]byte("x"))
	root := sigEvent(sigTestIVORN)
	f.Fuzz(func(t *testing.T, tail []byte) {
		sigs, err := ParseSignatures(tail)
		if len(sigs) > MaxSignatures {
			t.Fatalf("%d signatures returned", len(sigs))
		}
		if err != nil && (!strings.HasPrefix(err.Error(), "malformed signature: ") || strings.Contains(err.Error(), "\n")) {
			t.Fatalf("error %q", err)
		}
		for _, s := range sigs {
			c := "<!-- voevent-signature v=1 alg=ed25519 key=" + s.KeyString() + " sig=" + base64.StdEncoding.EncodeToString(s.Sig) + " -->"
			if !bytes.Contains(tail, []byte(c)) {
				t.Fatalf("signature %s not in the input as a carrier comment", c)
			}
		}
		ev, perr := Parse(append(bytes.Clone(root), tail...))
		if perr != nil {
			return
		}
		again, err2 := ParseSignatures(ev.Raw[ev.End:])
		if len(again) != len(sigs) || (err == nil) != (err2 == nil) {
			t.Fatalf("tail alone: %d, %v; after the event: %d, %v", len(sigs), err, len(again), err2)
		}
		if err2 != nil && (strings.Contains(err2.Error(), "unexpected bytes") || strings.Contains(err2.Error(), "unterminated")) {
			t.Fatalf("the XML parser accepted what ParseSignatures calls %v", err2)
		}
		if v := (*Trust)(nil).Check(ev); v.Outcome == SigValid || v.Required {
			t.Fatalf("no trust file, verdict %+v", v)
		}
	})
}

// FuzzSignedProlog puts arbitrary bytes before a signed VOEvent holding
// non-ASCII text, where a relay could change them without touching the
// signed element. Whenever the signature is still valid, the document
// must read exactly as the one signed: same names, attribute values and
// text. Read in any encoding but UTF-8 (or US-ASCII), it is invalid.
func FuzzSignedProlog(f *testing.F) {
	k := testKey(7)
	raw := bytes.Replace(sigEvent(sigTestIVORN), []byte(`<Param name="x" value="7"/>`),
		[]byte(`<Param name="site" value="München"/><Description>Ω ≥ 3σ, 1 µs</Description>`), 1)
	signed := mustSign(f, raw, k)
	want := readAll(mustParse(f, signed).Doc.Element())
	decl := []byte(`<?xml version="1.0" encoding="UTF-8"?>`)
	body := bytes.TrimPrefix(signed, decl)
	trust := trustOf(f, "ivo://example.org/alerts", k)
	for _, p := range []string{
		string(decl), "", "\xEF\xBB\xBF", `<?xml version="1.0" encoding="ISO-8859-1"?>`, `<?xml version='1.0' encoding='latin1'?>`,
		"\xEF\xBB\xBF" + `<?xml version="1.0" encoding="iso-8859-1"?>`, `<?xml version="1.0" encoding="US-ASCII"?>`,
		`<?xml version="1.0" encoding="utf8" standalone="no"?>` + "\n<!-- relayed -->\n",
	} {
		f.Add([]byte(p))
	}
	f.Fuzz(func(t *testing.T, prolog []byte) {
		if len(prolog) > 4096 {
			return
		}
		ev, err := Parse(append(bytes.Clone(prolog), body...))
		if err != nil {
			return
		}
		v := trust.Check(ev)
		if v.Outcome == SigValid {
			if got := readAll(ev.Doc.Element()); got != want {
				t.Fatalf("valid signature, but the document reads\n%q\nnot as signed\n%q", got, want)
			}
		}
		if ev.Encoding != "utf-8" && ev.Encoding != "us-ascii" && v.Outcome != SigInvalid {
			t.Fatalf("read as %s, verdict %+v, want invalid", ev.Encoding, v)
		}
	})
}

// readAll is what a reader of n gets: every element's name, attributes
// and text, in document order.
func readAll(n xpath.Node) string {
	var b strings.Builder
	var walk func(n xpath.Node)
	walk = func(n xpath.Node) {
		switch n.Kind() {
		case xpath.ElementNode:
			b.WriteString("<" + n.URI() + " " + n.Local())
			for a := range n.Attributes() {
				b.WriteString(" " + a.URI() + " " + a.Local() + "=" + strconv.Quote(a.Value()))
			}
			b.WriteString(">")
			for c := range n.Children() {
				walk(c)
			}
			b.WriteString("</>")
		case xpath.TextNode:
			b.WriteString(strconv.Quote(n.Value()))
		}
	}
	walk(n)
	return b.String()
}
