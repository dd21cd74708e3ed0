package voevent

import "unicode/utf8"

// Character classes of XML 1.0 (Fifth Edition), the rules libxml2 applies.

// isChar reports whether r is a legal XML 1.0 character (production [2]).
func isChar(r rune) bool {
	switch {
	case r >= 0x20 && r <= 0xD7FF:
		return true
	case r == 0x9 || r == 0xA || r == 0xD:
		return true
	case r >= 0xE000 && r <= 0xFFFD:
		return true
	case r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// isSpace reports whether c is XML white space (production [3]).
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isNameStart reports whether r may start a name (production [4]), colon
// excluded: names are namespace-qualified here, so colons are handled apart.
func isNameStart(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || r == '_'
	}
	switch {
	case r >= 0xC0 && r <= 0xD6, r >= 0xD8 && r <= 0xF6, r >= 0xF8 && r <= 0x2FF,
		r >= 0x370 && r <= 0x37D, r >= 0x37F && r <= 0x1FFF, r >= 0x200C && r <= 0x200D,
		r >= 0x2070 && r <= 0x218F, r >= 0x2C00 && r <= 0x2FEF, r >= 0x3001 && r <= 0xD7FF,
		r >= 0xF900 && r <= 0xFDCF, r >= 0xFDF0 && r <= 0xFFFD, r >= 0x10000 && r <= 0xEFFFF:
		return true
	}
	return false
}

// isNameChar reports whether r may continue a name (production [4a]), colon excluded.
func isNameChar(r rune) bool {
	if r < utf8.RuneSelf {
		return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
			r == '_' || r == '-' || r == '.'
	}
	return isNameStart(r) || r == 0xB7 || r >= 0x300 && r <= 0x36F || r >= 0x203F && r <= 0x2040
}

// asciiNameStart marks the ASCII bytes that may start a name.
var asciiNameStart = func() (t [256]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		t[c] = isNameStart(rune(c))
	}
	return
}()

// nameByte marks the ASCII bytes that may continue a name, for the fast path.
var nameByte = func() (t [256]bool) {
	for c := 0; c < utf8.RuneSelf; c++ {
		t[c] = isNameChar(rune(c))
	}
	return
}()

// textStop marks the bytes that end a fast scan of character data: markup,
// references, the ']' of a possible "]]>", carriage returns (line ends are
// normalised), control characters and non-ASCII bytes (checked one by one).
var textStop = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c == '<' || c == '&' || c == ']' || c == '\r' || c >= utf8.RuneSelf ||
			c < 0x20 && c != '\t' && c != '\n'
	}
	return
}()

// attrStop is textStop for attribute values: quotes end the value, white
// space is normalised to spaces, '<' is forbidden.
var attrStop = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c == '<' || c == '&' || c == '"' || c == '\'' || c >= utf8.RuneSelf || c < 0x20
	}
	return
}()
