package voevent

import (
	"strings"
	"unicode/utf8"
)

// Clip cuts a peer-supplied value to about 80 bytes for quoting in reasons
// and logs: a longer value keeps its first 80 bytes, or up to three fewer
// so as to end on a UTF-8 boundary, followed by "…".
func Clip(s string) string { return clipTo(s, 80) }

// ClipBytes is Clip for a value held as bytes; it copies only what it keeps.
func ClipBytes(b []byte) string { return Clip(string(b[:min(len(b), 81)])) }

// maxMessage bounds the Msg of every error Parse, ParseRoot and Validate
// return, so that with "line N: " in front a message stays under 512
// bytes whatever the document. Values in a message are clipped one by
// one; this catches a message that quotes several, with escapes.
const maxMessage = 480

func clipMessage(msg string) string { return clipTo(msg, maxMessage) }

func clipTo(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > n-3 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// OneLine makes each run of white space in s, line breaks and tabs
// included, one space, and trims it: a peer-supplied reason then takes
// one line of a log, a reason file or tab-separated output.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
