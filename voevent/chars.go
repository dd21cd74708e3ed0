package voevent

import (
	"unicode/utf8"

	"comet/xpath"
)

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

// The name classes (productions [4] and [4a], colon excluded: names are
// namespace-qualified here, so colons are handled apart) are xpath's, so
// that every name a document holds can be written in a filter.
var (
	isNameStart = xpath.IsNameStart
	isNameChar  = xpath.IsNameChar
)

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
