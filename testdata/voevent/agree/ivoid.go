package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// The IVOID rule for ivorns (a non-empty local part), written independently of voevent.
var (
	ivornRE = regexp.MustCompile(`^ivo://[A-Za-z0-9][A-Za-z0-9_~*'().-]{2,}((/[A-Za-z0-9_~*'().-]+)*)#(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})+$`)
	// In 2.1 the local part may follow '?' instead.
	ivornRE21 = regexp.MustCompile(`^ivo://[A-Za-z0-9][A-Za-z0-9_~*'().-]{2,}((/[A-Za-z0-9_~*'().-]+)*)[#?](?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})+$`)
	dotSegRE  = regexp.MustCompile(`/\.\.?(/|$)`)
)

func ivoidRule(data []byte) string {
	v, ok := rootIVORN(data)
	if !ok {
		return "no ivorn"
	}
	re := ivornRE
	if strings.Contains(schemaOf(data), "v2.1") {
		re = ivornRE21
	}
	m := re.FindStringSubmatch(v)
	if m == nil {
		return fmt.Sprintf("ivorn %q breaks the IVOID rule", v)
	}
	if dotSegRE.MatchString(m[1]) {
		return fmt.Sprintf("ivorn %q has a . or .. segment", v)
	}
	return ""
}

// rootIVORN finds the ivorn attribute of the root element of a document
// xmllint found valid, by hand rather than with encoding/xml, whose name
// tables are older than XML 1.0 Fifth Edition: the first '<' not followed
// by '?' or '!' opens the root; its value is unescaped and normalised.
var attrRE = regexp.MustCompile(`^\s+([^\s=]+)\s*=\s*("[^"]*"|'[^']*')`)

func rootIVORN(data []byte) (string, bool) {
	s := string(data)
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 || i+1 >= len(s) {
			return "", false
		}
		s = s[i+1:]
		switch s[0] {
		case '?':
			s = s[strings.Index(s, "?>")+2:]
			continue
		case '!':
			s = s[strings.Index(s, "-->")+3:]
			continue
		}
		break
	}
	s = strings.TrimLeftFunc(s, func(r rune) bool { return !strings.ContainsRune(" \t\r\n/>", r) })
	for {
		m := attrRE.FindStringSubmatch(s)
		if m == nil {
			return "", false
		}
		s = s[len(m[0]):]
		if m[1] == "ivorn" {
			v := m[2][1 : len(m[2])-1]
			v = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(strings.ReplaceAll(v, "\r\n", "\n"))
			return unescape(v), true
		}
	}
}

var charRefRE = regexp.MustCompile(`&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|apos|quot);`)

func unescape(s string) string {
	return charRefRE.ReplaceAllStringFunc(s, func(r string) string {
		switch r {
		case "&lt;":
			return "<"
		case "&gt;":
			return ">"
		case "&amp;":
			return "&"
		case "&apos;":
			return "'"
		case "&quot;":
			return `"`
		}
		var n int64
		if r[2] == 'x' {
			n, _ = strconv.ParseInt(r[3:len(r)-1], 16, 32)
		} else {
			n, _ = strconv.ParseInt(r[2:len(r)-1], 10, 32)
		}
		return string(rune(n))
	})
}
