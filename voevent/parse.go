package voevent

import (
	"bytes"
	"fmt"
	"strings"
	"sync"

	"comet/xpath"
)

// Namespaces of the documents a broker handles.
const (
	Namespace          = "http://www.ivoa.net/xml/VOEvent/v2.0"
	TransportNamespace = "http://www.telescope-networks.org/xml/Transport/v1.1"
)

// Event is one document received from the network or read from a file:
// the bytes exactly as they arrived (forwarded byte for byte, because
// signatures and hashes depend on them), where the root element lies in
// them, and the parsed, immutable document that filters evaluate.
type Event struct {
	Raw []byte
	// Raw[Start:End] is the root element, from the '<' of its start tag to
	// the '>' of its end tag: the span VTP 2.0 §8 hashes for de-duplication.
	Start, End int
	Doc        *xpath.Document
	// Root is the local name of the root element, in whatever namespace:
	// "VOEvent", "Transport" or something the broker does not understand.
	Root string
	// Role is the root's role attribute. A VOEvent without one is an
	// observation, the schema default.
	Role string
	// IVORN is a VOEvent's ivorn attribute ("" if absent).
	IVORN string
}

// IsVOEvent reports whether the root element is a VOEvent, in any namespace.
func (e *Event) IsVOEvent() bool { return e.Root == "VOEvent" }

// IsTransport reports whether the root element is a VTP Transport message.
func (e *Event) IsTransport() bool { return e.Root == "Transport" }

// Element returns the root element's bytes, the span that identifies an
// event in the seen store.
func (e *Event) Element() []byte { return e.Raw[e.Start:e.End] }

var builders = sync.Pool{New: func() any { return xpath.NewBuilder() }}

// Parse checks that raw is a well-formed, namespace-well-formed XML
// document within the broker's limits and builds its document model in the
// same pass. It refuses DTDs, entity references other than the five
// predefined ones, unsupported encodings and everything encoding/xml would
// let through (several roots, duplicate attributes, undeclared prefixes).
// raw is kept, not copied: the caller must not modify it afterwards.
func Parse(raw []byte) (*Event, error) {
	src, start, err := decode(raw)
	if err != nil {
		return nil, err
	}
	b := builders.Get().(*xpath.Builder)
	b.Reset()
	p := parser{src: src, b: b, lineBase: 1}
	err = p.run(start)
	if err != nil {
		builders.Put(b)
		return nil, err
	}
	doc := b.Document()
	builders.Put(b)
	e := &Event{Raw: raw, Start: p.rootStart, End: p.rootEnd, Doc: doc}
	if len(src) != len(raw) { // transcoded from Latin-1: map offsets back
		e.Start, e.End = latin1Offset(src, e.Start), latin1Offset(src, e.End)
	}
	root := doc.Element()
	e.Root = root.Local()
	role, hasRole := root.Attr("", "role")
	e.Role = role
	if e.IsVOEvent() {
		if !hasRole {
			e.Role = "observation"
		}
		e.IVORN, _ = root.Attr("", "ivorn")
	}
	return e, nil
}

// decode handles the byte-order mark and the XML declaration, and returns
// the document as UTF-8 with the offset where parsing continues.
func decode(raw []byte) (src []byte, start int, err error) {
	switch {
	case bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}):
		start = 3
	case bytes.HasPrefix(raw, []byte{0xFE, 0xFF}), bytes.HasPrefix(raw, []byte{0xFF, 0xFE}),
		len(raw) >= 2 && (raw[0] == 0 || raw[1] == 0):
		return nil, 0, &SyntaxError{Line: 1, Msg: "UTF-16 and UTF-32 documents are not supported: use UTF-8"}
	}
	enc := "utf-8"
	if rest := raw[start:]; bytes.HasPrefix(rest, []byte("<?xml")) && len(rest) > 5 && (isSpace(rest[5]) || rest[5] == '?') {
		n, e, err := xmlDecl(rest)
		if err != nil {
			return nil, 0, err
		}
		start += n
		enc = e
	}
	switch enc {
	case "utf-8", "utf8":
		return raw, start, nil
	case "us-ascii", "ascii":
		for i, c := range raw {
			if c >= 0x80 {
				line := 1 + bytes.Count(raw[:i], []byte{'\n'})
				return nil, 0, &SyntaxError{Line: line, Msg: fmt.Sprintf("byte 0x%02X in a document declared US-ASCII", c)}
			}
		}
		return raw, start, nil
	case "iso-8859-1", "iso_8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso-latin-1":
		for _, c := range raw {
			if c >= 0x80 {
				return latin1ToUTF8(raw), start, nil
			}
		}
		return raw, start, nil
	}
	return nil, 0, &SyntaxError{Line: 1, Msg: fmt.Sprintf("unsupported encoding %q: use UTF-8, US-ASCII or ISO-8859-1", enc)}
}

// xmlDecl parses the XML declaration (production [23]) at the start of b
// and returns its length and the lower-cased encoding name.
func xmlDecl(b []byte) (n int, enc string, err error) {
	end := bytes.Index(b, []byte("?>"))
	if end < 0 {
		return 0, "", &SyntaxError{Line: 1, Msg: "unterminated XML declaration"}
	}
	fail := func(format string, args ...any) (int, string, error) {
		return 0, "", &SyntaxError{Line: 1 + bytes.Count(b[:end], []byte{'\n'}), Msg: "XML declaration: " + fmt.Sprintf(format, args...)}
	}
	s := string(b[5:end])
	enc = "utf-8"
	for i, want := range []string{"version", "encoding", "standalone"} {
		t := strings.TrimLeft(s, " \t\r\n")
		if t == s || !strings.HasPrefix(t, want) {
			if i == 0 {
				return fail("version required")
			}
			continue
		}
		t = strings.TrimLeft(t[len(want):], " \t\r\n")
		if !strings.HasPrefix(t, "=") {
			return fail("expected '=' after %s", want)
		}
		t = strings.TrimLeft(t[1:], " \t\r\n")
		if t == "" || t[0] != '"' && t[0] != '\'' {
			return fail("%s value must be quoted", want)
		}
		q := strings.IndexByte(t[1:], t[0])
		if q < 0 {
			return fail("unterminated %s value", want)
		}
		v := t[1 : 1+q]
		switch want {
		case "version":
			if v != "1.0" {
				return fail("unsupported XML version %q", v)
			}
		case "encoding":
			if !validEncName(v) {
				return fail("malformed encoding name %q", v)
			}
			enc = strings.ToLower(v)
		case "standalone":
			if v != "yes" && v != "no" {
				return fail("standalone must be yes or no, not %q", v)
			}
		}
		s = t[2+q:]
	}
	if strings.TrimLeft(s, " \t\r\n") != "" {
		return fail("unexpected %q", strings.TrimSpace(s))
	}
	return end + 2, enc, nil
}

// validEncName checks production [81]: [A-Za-z] ([A-Za-z0-9._] | '-')*.
func validEncName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if i == 0 && !alpha || i > 0 && !alpha && !('0' <= c && c <= '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return s != ""
}

// latin1ToUTF8 re-encodes an ISO-8859-1 document: every byte is the code
// point of the same value.
func latin1ToUTF8(raw []byte) []byte {
	out := make([]byte, 0, len(raw)+len(raw)/8)
	for _, c := range raw {
		if c < 0x80 {
			out = append(out, c)
		} else {
			out = append(out, 0xC0|c>>6, 0x80|c&0x3F)
		}
	}
	return out
}

// latin1Offset maps an offset in latin1ToUTF8's output back to the
// original: each continuation byte before it was added by the re-encoding.
func latin1Offset(utf []byte, off int) int {
	n := 0
	for _, c := range utf[:off] {
		if c&0xC0 == 0x80 {
			n++
		}
	}
	return off - n
}
