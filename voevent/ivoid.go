package voevent

import (
	"fmt"
	"strings"
)

// IVOA identifiers (IVOA Identifiers 2.0, REC-20160523 §2), as Comet
// checks them:
//
//	ivo://authority[/resource/key][#local-part]
//
//   - the scheme is "ivo://", in lower case;
//   - the authority starts with a letter or digit and has at least three
//     characters from [A-Za-z0-9_~*'().-]; no percent-encoding;
//   - the resource key is optional; if present it is '/' followed by
//     segments of the same characters separated by single slashes: no
//     empty segment (so no "//" and no trailing '/'), no "." or ".."
//     segment, no percent-encoding and no query ("?");
//   - the local part after '#' is an RFC 3986 fragment: letters, digits,
//     -._~!$&'()*+,;=:@/? and %XX with two hex digits. In a VOEvent 2.1
//     event the local part may instead follow '?' (ivo://authority/key?local,
//     the form 2.1 recommends), with the same characters; the first '#'
//     or '?' ends the IVOID.

// ValidIVOID checks s as a bare IVOID, the form --local-ivo takes:
// ivo://authority with an optional resource key and no '#' local part
// (the broker appends "#TestEvent-..." to it). A resource key is not
// required, as in Comet, which accepts ivo://authority; Comet's
// documentation recommends ivo://organization/name.
func ValidIVOID(s string) error {
	if i := strings.IndexByte(s, '#'); i >= 0 {
		return fmt.Errorf("invalid IVOID %q: a bare IVOID has no '#' local part", Clip(s))
	}
	if msg := ivoidProblem(s); msg != "" {
		return fmt.Errorf("invalid IVOID %q: %s", Clip(s), msg)
	}
	return nil
}

// ValidIVORN checks s as an event identifier: an IVOID with a non-empty
// local part after '#' (VOEvent 2.0 §2.2).
func ValidIVORN(s string) error {
	if msg := ivornProblem(s, "#"); msg != "" {
		return fmt.Errorf("invalid IVORN %q: %s", Clip(s), msg)
	}
	return nil
}

// ivornProblem returns "" if s is an IVOID with a local part, else the
// reason. The local part starts after the first of the characters seps:
// "#" for VOEvent 2.0, "#?" for 2.1, which recommends '?'.
func ivornProblem(s, seps string) string {
	id, local, found := s, "", false
	if i := strings.IndexAny(s, seps); i >= 0 {
		id, local, found = s[:i], s[i+1:], true
	}
	if msg := ivoidProblem(id); msg != "" {
		return msg
	}
	if !found || local == "" {
		if seps == "#?" {
			return "no local part after '#' or '?'"
		}
		return "no local part after '#'"
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case isUnreserved(c) || isSubDelim(c) || c == '\'' || c == ':' || c == '@' || c == '/' || c == '?':
		case c == '%' && i+2 < len(local) && isHex(local[i+1]) && isHex(local[i+2]):
			i += 2
		case c == '%':
			return "'%' in the local part must be followed by two hex digits"
		default:
			return fmt.Sprintf("character %s not allowed in the local part", charDesc(c))
		}
	}
	return ""
}

// ivoidProblem checks ivo://authority[/resource/key], no '#'.
func ivoidProblem(s string) string {
	rest, ok := strings.CutPrefix(s, "ivo://")
	if !ok {
		return `it does not start with "ivo://"`
	}
	auth, key, hasKey := strings.Cut(rest, "/")
	if len(auth) < 3 {
		return fmt.Sprintf("authority %q is shorter than three characters", auth)
	}
	if !isAlpha(auth[0]) && !isDigit(auth[0]) {
		return fmt.Sprintf("authority %q does not start with a letter or digit", Clip(auth))
	}
	for i := 0; i < len(auth); i++ {
		if !ivoChar(auth[i]) {
			return fmt.Sprintf("character %s not allowed in the authority", charDesc(auth[i]))
		}
	}
	if !hasKey {
		return ""
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return "empty segment in the resource key (\"//\" or a trailing '/')"
		case ".", "..":
			return fmt.Sprintf("segment %q not allowed in the resource key", seg)
		}
		for i := 0; i < len(seg); i++ {
			if !ivoChar(seg[i]) {
				return fmt.Sprintf("character %s not allowed in the resource key", charDesc(seg[i]))
			}
		}
	}
	return ""
}

// ivoChar reports whether c may appear in an authority or resource key.
func ivoChar(c byte) bool {
	switch {
	case isAlpha(c), isDigit(c):
		return true
	}
	switch c {
	case '_', '~', '*', '\'', '(', ')', '.', '-':
		return true
	}
	return false
}

// charDesc names a byte of an identifier for a message.
func charDesc(c byte) string {
	if c >= 0x80 {
		return "outside ASCII"
	}
	return fmt.Sprintf("%q", rune(c))
}
