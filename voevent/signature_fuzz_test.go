package voevent

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
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
