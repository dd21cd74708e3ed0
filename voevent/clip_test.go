package voevent

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClip(t *testing.T) {
	a := func(n int) string { return strings.Repeat("a", n) }
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{a(80), a(80)},
		{a(81), a(80) + "…"},
		{a(79) + "é" + a(10), a(79) + "…"}, // é would straddle byte 80
		{a(78) + "é" + a(10), a(78) + "é" + "…"}, // é ends at byte 80
		{a(77) + "😀" + a(10), a(77) + "…"},       // a 4-byte rune across byte 80
		{a(76) + "😀" + a(10), a(76) + "😀" + "…"}, // ends at byte 80
		{strings.Repeat("\x80", 100), strings.Repeat("\x80", 77) + "…"},
	} {
		if got := Clip(c.in); got != c.want {
			t.Errorf("Clip(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestErrorsBounded feeds Parse and Validate documents whose faults lie in
// 1 MB names and values, and checks that every message is one line under
// 512 bytes in which no value runs longer than Clip allows.
func TestErrorsBounded(t *testing.T) {
	const mb = 1 << 20
	big := func(c string) string { return strings.Repeat(c, mb) }
	for _, c := range []struct{ name, fill, doc string }{
		// Parse.
		{"end-tag-mismatch", "a", "<" + big("a") + "></" + big("a") + "b>"},
		{"unclosed", "a", "<" + big("a") + ">"},
		{"start-tag-eof", "a", "<" + big("a")},
		{"undeclared-prefix", "p", "<" + big("p") + ":a/>"},
		{"duplicate-attribute", "n", "<a " + big("n") + `="1" ` + big("n") + `="2"/>`},
		{"duplicate-expanded", "n", `<a xmlns:p="u" xmlns:q="u" p:` + big("n") + `="1" q:` + big("n") + `="2"/>`},
		{"empty-prefix", "p", `<a xmlns:` + big("p") + `=""/>`},
		{"attribute-no-equals", "n", "<a " + big("n") + "/>"},
		{"lt-in-value", "n", "<a " + big("n") + `="<"/>`},
		{"entity", "e", "<a>&" + big("e") + ";</a>"},
		{"char-ref", "0", "<a>&#" + big("0") + ";</a>"},
		{"pi-target", "t", "<a><?" + big("t") + "'?></a>"},
		{"bad-name", "a", "<" + big("a") + ":b:c/>"},
		{"encoding", "E", `<?xml version="1.0" encoding="` + big("E") + `"?><a/>`},
		{"version", "9", `<?xml version="` + big("9") + `"?><a/>`},
		{"declaration-junk", "j", `<?xml version="1.0" ` + big("j") + `?><a/>`},
		{"standalone", "s", `<?xml version="1.0" standalone="` + big("s") + `"?><a/>`},
		// Validate.
		{"role", "r", root(` ivorn="ivo://org.example/test#1" version="2.0" role="`+big("r")+`"`, "")},
		{"version-fixed", "v", root(` ivorn="ivo://org.example/test#1" version="`+big("v")+`"`, "")},
		{"ivorn-char", "i", root(` ivorn="ivo://org.example/`+big("i")+`#a b" version="2.0"`, "")},
		{"ivorn-authority", "-", root(` ivorn="ivo://`+big("-")+`#1" version="2.0"`, "")},
		{"element-name", "W", ev("", "<"+big("W")+"/>")},
		{"element-namespace", "u", ev("", `<Who xmlns:p="`+big("u")+`"><p:x/></Who>`)},
		{"element-namespace-newline", "u", ev("", `<Who xmlns:p="a&#10;`+big("u")+`"><p:x/></Who>`)},
		{"root-namespace", "u", `<x:VOEvent xmlns:x="` + big("u") + `"/>`},
		{"root-name", "V", `<` + big("V") + ` xmlns="` + Namespace + `"/>`},
		{"attribute-name", "A", ev(` `+big("A")+`="1"`, "")},
		{"attribute-prefix", "P", ev(` xmlns:`+big("P")+`="urn:x" `+big("P")+`:a="1"`, "")},
		{"xsi-nil", "P", ev(` xmlns:`+big("P")+`="`+xsiNamespace+`" `+big("P")+`:nil="maybe"`, "")},
		{"xsi-type", "T", ev("", `<Who xsi:type="`+big("T")+`"/>`)},
		{"date", "d", ev("", "<Who><Date>"+big("d")+"</Date></Who>")},
		{"float", "f", ev("", coords("<Time><TimeInstant><TimeOffset>"+big("f")+"</TimeOffset></TimeInstant></Time>"))},
		{"data-type", "t", ev("", `<What><Param dataType="`+big("t")+`"/></What>`)},
		{"text-in-element-only", "x", ev("", "<Who>"+big("x")+"</Who>")},
		{"child-of-simple", "c", ev("", "<Who><Date><"+big("c")+"/></Date></Who>")},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := Parse([]byte(c.doc))
			if _, rerr := ParseRoot([]byte(c.doc)); fmt.Sprint(rerr) != fmt.Sprint(err) {
				t.Errorf("ParseRoot: %.600v", rerr)
			}
			if err == nil {
				err = Validate(e)
			}
			if err == nil {
				t.Fatal("accepted")
			}
			msg := err.Error()
			if len(msg) >= 512 || strings.ContainsAny(msg, "\n\t") || !utf8.ValidString(msg) {
				t.Errorf("message of %d bytes: %.600q", len(msg), msg)
			}
			if strings.Contains(msg, strings.Repeat(c.fill, 100)) {
				t.Errorf("value not clipped: %.600q", msg)
			}
			t.Logf("%d bytes: %s", len(msg), msg)
		})
	}
}
