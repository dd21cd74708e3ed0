package vtp

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"comet/voevent"
)

// FuzzNak: whatever ivorn and reason a peer's message gives, the nak is
// well-formed XML under 1 KiB whose Origin and reason are the peer's
// values, or a prefix of them ending in "…".
func FuzzNak(f *testing.F) {
	f.Add("ivo://example.org/a#b", "line 3: bad")
	f.Add(strings.Repeat("&", 500), strings.Repeat(`"<>`, 400))
	f.Add("\xff\xfe", "\r\n\t")
	f.Fuzz(func(t *testing.T, ivorn, reason string) {
		if !utf8.ValidString(ivorn) || !utf8.ValidString(reason) {
			return // the broker quotes only parsed, hence valid, text
		}
		nak := Nak(ivorn, brokerIVO, reason, time.Unix(0, 0))
		if len(nak) >= 1024 {
			t.Fatalf("nak of %d bytes", len(nak))
		}
		ev, err := voevent.Parse(nak)
		if strings.ContainsFunc(ivorn+reason, notXMLChar) {
			return // not representable in XML 1.0; the parser says so
		}
		if err != nil {
			t.Fatalf("nak is not XML: %v\n%s", err, nak)
		}
		tr := ParseTransport(ev)
		if !clippedFrom(tr.Origin, strings.TrimSpace(ivorn)) {
			t.Errorf("Origin %q is not %q or a prefix of it", tr.Origin, ivorn)
		}
		if len(tr.Results) != 1 || !clippedFrom(tr.Results[0], strings.TrimSpace("Event rejected: "+reason)) {
			t.Errorf("Result %q is not the reason %q or a prefix of it", tr.Results, reason)
		}
	})
}

// clippedFrom reports whether got is want, or a prefix of it followed by "…".
func clippedFrom(got, want string) bool {
	if got == want {
		return true
	}
	p, ok := strings.CutSuffix(got, "…")
	return ok && strings.HasPrefix(want, strings.TrimSpace(p)) || strings.HasPrefix(want, p)
}

func notXMLChar(r rune) bool {
	return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF
}
