package voevent

import (
	"strings"
	"testing"
	"time"
)

// Cases from IVOA Identifiers 2.0 §2.3 and Comet's test suite
// (comet/utility/test/test_voevent.py), adapted to ours: Comet accepts a
// bare '%' in the local part, RFC 3986 (and xs:anyURI) do not.
func TestValidIVORN(t *testing.T) {
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	good := []string{
		"ivo://authorityID/resourceKey#local_ID",
		"ivo://authorityID/rsrc/with/slashes#local/ID/with/slashes",
		"ivo://authorityID#local_ID",
		"ivo://nasa.heasarc/rsrc#local", "ivo://n_1a.alph-0.02/rsrc#local", "ivo://123/rsrc#local",
		"ivo://auth/reskey#local", "ivo://auth/user/STScI_1/1a-7z.u#local",
		"ivo://auth/rs#local", "ivo://auth/_rsrc#local", "ivo://auth/1rsrc#local",
		"ivo://nasa.gsfc.gcn/SWIFT#BAT_GRB_Pos_1201696-785",
		"ivo://auth/rsrc#local%41", "ivo://auth/rsrc#local%aF",
		"ivo://auth/rsrc#..", "ivo://auth/rsrc#a?b/c:d@e",
	}
	for _, c := range "-_.~*'()" { // unreserved and discouraged characters
		good = append(good, "ivo://auth"+string(c)+"/rsrc#local", "ivo://auth/rsrc"+string(c)+"#local", "ivo://auth/"+string(c)+"rsrc#local")
	}
	for _, c := range alnum + "-._~!$&'()*+,;=:@/?" {
		good = append(good, "ivo://auth/rsrc#local"+string(c), "ivo://auth/rsrc#"+string(c)+"local")
	}
	bad := []string{
		"", "ivo://", "ivo://#localID", "ivo:///resourceKey#local", "ivo://auth/rsrc", "ivo://auth/rsrc#",
		"ivo://au/rsrc#local", "ivo://_auth/rsrc#local", "ivo://a2/rsrc#local", "ivo://_temporary.id/rsrc#local",
		"ivo://DAT%41/rsrc#local", "ivo://de!uni-hd!physics#ari/rsrc#local",
		"ivo://auth/#local", "ivo://auth/data/#local", "ivo://auth/data//other#local", "ivo://auth/data/c/../d#local",
		"ivo://auth/data/./d#local", "ivo://auth/data/..#local", "ivo://auth/data!g-vo.org#local", "ivo://auth/user/M%fcller#local",
		"ivo://auth/rsrc?query#local", "IVO://auth/rsrc#local", "http://auth/rsrc#local", " ivo://auth/rsrc#local",
		"ivo://auth/rsrc#local ", "ivo://auth/rsrc#lo cal", "ivo://auth/rsrc#local%", "ivo://auth/rsrc#local%4",
		"ivo://auth/rsrc#local%4g", "ivo://auth/rsrc#a#b", "ivo://auth/rsrc#[local]", "ivo://auth/rsrc#é",
		"ivo://aüth/rsrc#local", "ivo://auth/rsrc\n#local",
	}
	for _, c := range "?;:@!&$,<>#%\"`{}|\\^[]+=" { // reserved and disallowed
		bad = append(bad, "ivo://auth"+string(c)+"/rsrc#local", "ivo://"+string(c)+"auth/rsrc#local",
			"ivo://auth/rsrc"+string(c)+"#local", "ivo://auth/"+string(c)+"rsrc#local")
	}
	for _, s := range good {
		if err := ValidIVORN(s); err != nil {
			t.Errorf("ValidIVORN(%q) = %v, want nil", s, err)
		}
	}
	for _, s := range bad {
		if err := ValidIVORN(s); err == nil {
			t.Errorf("ValidIVORN(%q) = nil, want an error", s)
		}
	}
}

func TestValidIVOID(t *testing.T) {
	for _, s := range []string{
		"ivo://org.transientskp/comet_broker", "ivo://example.org", "ivo://example.org/a/b.c",
		"ivo://voevent.4pisky.org/voevent-broadcast",
	} {
		if err := ValidIVOID(s); err != nil {
			t.Errorf("ValidIVOID(%q) = %v, want nil", s, err)
		}
	}
	for _, c := range []struct{ in, want string }{
		{"ivo://example.org/broker#x", "no '#' local part"},
		{"ivo://example.org/broker#", "no '#' local part"},
		{"ivo://example.org/broker/", "empty segment"},
		{"ivo://ex/broker", "shorter than three characters"},
		{"example.org/broker", `does not start with "ivo://"`},
		{"ivo://example.org/bro ker", "character ' ' not allowed in the resource key"},
		{"ivo://exämple.org", "character outside ASCII not allowed in the authority"},
		{"", `does not start with "ivo://"`},
	} {
		err := ValidIVOID(c.in)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ValidIVOID(%q) = %v, want an error containing %q", c.in, err, c.want)
		}
	}
}

func TestTestEvent(t *testing.T) {
	now := time.Date(2025, 3, 14, 1, 59, 26, 535000123, time.FixedZone("CET", 3600))
	raw := TestEvent("ivo://org.example/broker", now, "1.2.3")
	e, err := Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, raw)
	}
	if err := Validate(e); err != nil {
		t.Fatalf("Validate: %v\n%s", err, raw)
	}
	if e.Role != "test" || !e.IsVOEvent() {
		t.Errorf("role %q root %q, want a test VOEvent", e.Role, e.Root)
	}
	if want := "ivo://org.example/broker#TestEvent-2025-03-14T00:59:26.535000123Z"; e.IVORN != want {
		t.Errorf("ivorn %q, want %q", e.IVORN, want)
	}
	root := e.Doc.Element()
	var who, date, desc string
	for c := range root.Children() {
		for g := range c.Children() {
			switch c.Local() + "/" + g.Local() {
			case "Who/AuthorIVORN":
				who = g.Value()
			case "Who/Date":
				date = g.Value()
			case "What/Description":
				desc = g.Value()
			}
		}
	}
	if who != "ivo://org.example/broker" {
		t.Errorf("Who/AuthorIVORN = %q", who)
	}
	if date != "2025-03-14T00:59:26.535000Z" {
		t.Errorf("Who/Date = %q", date)
	}
	if !strings.Contains(desc, "comet (Go) 1.2.3") {
		t.Errorf("What/Description = %q, want it to name comet (Go) 1.2.3", desc)
	}

	// Two events in the same second have different ivorns.
	a, _ := Parse(TestEvent("ivo://org.example/broker", now, "1"))
	b, _ := Parse(TestEvent("ivo://org.example/broker", now.Add(time.Microsecond), "1"))
	if a.IVORN == b.IVORN {
		t.Errorf("two test events a microsecond apart share ivorn %q", a.IVORN)
	}

	// Markup in the arguments is escaped.
	raw = TestEvent("ivo://org.example/a'b", now, `<1&"2">`)
	e, err = Parse(raw)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, raw)
	}
	if err := Validate(e); err != nil {
		t.Fatalf("Validate: %v\n%s", err, raw)
	}
}
