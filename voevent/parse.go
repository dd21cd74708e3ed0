package voevent

import (
	"bytes"
	"math"
	"slices"
	"strings"
	"sync"

	"comet/xpath"
)

// Namespace is the VOEvent 2.0 namespace.
const Namespace = "http://www.ivoa.net/xml/VOEvent/v2.0"

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
	// IVORN is a VOEvent's ivorn attribute ("" if absent) as xs:anyURI
	// reads it: without the XML white space around it. The broker judges
	// an event by this value everywhere (identity, trust prefixes, logs,
	// answers), so white space cannot hide an ivorn from a rule that a
	// reader downstream would apply to it. Validation refuses the padding
	// itself (the IVOID rule applies to the attribute as written), so for
	// a validated event this is the attribute unchanged.
	IVORN string
	// Encoding is the encoding the bytes were read in: "utf-8" (no
	// declaration, or one naming UTF-8), "us-ascii" or "iso-8859-1".
	Encoding string

	cdata []int32 // elements with a CDATA section child, for Validate
}

// IsVOEvent reports whether the root element is a VOEvent, in any namespace.
func (e *Event) IsVOEvent() bool { return e.Root == "VOEvent" }

// IsTransport reports whether the root element is a VTP Transport message.
func (e *Event) IsTransport() bool { return e.Root == "Transport" }

// Element returns the root element's bytes, the span that identifies an
// event in the seen store.
func (e *Event) Element() []byte { return e.Raw[e.Start:e.End] }

// scratch is the reusable state of one parse: the builder, which keeps
// its buffers, and the parser's stacks and tables.
type scratch struct {
	b        *xpath.Builder
	prefixes *prefixes
	// p is the parser, whose slices are kept for the next document. It
	// lives here rather than on the parsing goroutine's stack, which it
	// would grow by a few hundred bytes.
	p parser
}

var scratches = sync.Pool{New: func() any { return &scratch{b: xpath.NewBuilder()} }}

// Scratch space above these sizes (a hostile or unusually large
// document) is left to the garbage collector rather than kept in the pool.
const (
	keepNodes = 1 << 16
	keepBytes = 1 << 20
)

// Parse checks that raw is a well-formed, namespace-well-formed XML
// document within the broker's limits and builds its document model in the
// same pass. It refuses DTDs, entity references other than the five
// predefined ones, unsupported encodings and everything encoding/xml would
// let through (several roots, duplicate attributes, undeclared prefixes).
// The error is a *SyntaxError.
// raw is kept, not copied: the caller must not modify it afterwards.
func Parse(raw []byte) (*Event, error) {
	e, _, err := parse(raw, false)
	return e, err
}

// ParseRoot checks raw exactly as Parse does, limits included, but keeps
// only the root element in Event.Doc: its name, namespaces and
// attributes, not its content. It is for messages read only for their
// root, like the acks a broker gets from every subscriber for every event,
// and costs a fraction of a full parse.
func ParseRoot(raw []byte) (*Event, error) {
	e, _, err := parse(raw, true)
	return e, err
}

// parseStats is what a parse cost: the nodes of the full document model
// (ParseRoot's Doc holds fewer) and the parser's work counter.
type parseStats struct{ nodes, work int }

// ParseRole checks raw exactly as ParseRoot does and returns the root
// element's local name and its role attribute ("observation" for a
// VOEvent without one, as Event.Role), building no document: acks and
// iamalive answers, nearly all a subscriber sends, are read for nothing
// else, and this way cost no allocation for the common roles.
func ParseRole(raw []byte) (root, role string, err error) {
	_, err = run(raw, true, func(b *xpath.Builder, _ parsed) {
		name, val, ok := b.RootAttr("role")
		root, role = known(name), known(val)
		if root == "VOEvent" && !ok {
			role = "observation"
		}
	})
	return root, role, err
}

// known returns b as a string, without allocating for the root names
// and roles a broker meets all the time.
func known(b []byte) string {
	switch string(b) {
	case "Transport":
		return "Transport"
	case "VOEvent":
		return "VOEvent"
	case "ack":
		return "ack"
	case "nak":
		return "nak"
	case "iamalive":
		return "iamalive"
	case "authenticate":
		return "authenticate"
	}
	return string(b)
}

func parse(raw []byte, rootOnly bool) (*Event, parseStats, error) {
	var e *Event
	stats, err := run(raw, rootOnly, func(b *xpath.Builder, p parsed) {
		e = &Event{Raw: raw, Start: p.start, End: p.end, Doc: b.Document(), Encoding: p.enc}
		if len(p.cdata) > 0 {
			e.cdata = slices.Clone(p.cdata)
			slices.Sort(e.cdata)
			e.cdata = slices.Compact(e.cdata)
		}
		if len(p.src) > 0 && &p.src[0] != &raw[0] { // transcoded from Latin-1: map offsets back
			e.Start = p.base + latin1Offset(p.src, e.Start)
			e.End = p.base + latin1Offset(p.src, e.End)
		}
	})
	if err != nil {
		return nil, stats, err
	}
	root := e.Doc.Element()
	e.Root = root.Local()
	role, hasRole := root.Attr("", "role")
	e.Role = role
	if e.IsVOEvent() {
		if !hasRole {
			e.Role = "observation"
		}
		iv, _ := root.Attr("", "ivorn")
		e.IVORN = trimBlank(iv)
	}
	return e, stats, nil
}

// reset readies p for document src, keeping its slices' memory. Field by
// field: a composite literal would be built on the stack first.
func (p *parser) reset(src []byte, b *xpath.Builder, prefixes *prefixes) {
	p.src, p.i, p.lineBase, p.linePos = src, 0, 1, 0
	p.b, p.prefixes, p.xmlURI = b, prefixes, b.InternURI(xmlNamespace)
	p.open, p.ns, p.scopes, p.attrs = p.open[:0], p.ns[:0], p.scopes[:0], p.attrs[:0]
	p.dups, p.vbuf, p.cdataIn = p.dups[:0], p.vbuf[:0], p.cdataIn[:0]
	p.nodes, p.model, p.inText, p.work, p.rootStart, p.rootEnd = 0, 0, false, 0, 0, 0
}

var xmlNamespace = []byte(xpath.XMLNamespace)

// parsed is what run learnt of a well-formed document besides its model:
// the root element's span in src, the elements with a CDATA section
// child, the UTF-8 text parsed (src), which starts at raw[base:], and the
// encoding raw was read in.
type parsed struct {
	start, end int
	cdata      []int32 // valid only during done
	src        []byte
	base       int
	enc        string
}

// run parses raw with pooled scratch space and, if it is well-formed,
// calls done with the builder holding it before the scratch space is
// reused.
func run(raw []byte, rootOnly bool, done func(b *xpath.Builder, p parsed)) (parseStats, error) {
	if len(raw) > math.MaxInt32/2 { // offsets are int32, and Latin-1 may double
		return parseStats{}, &SyntaxError{Line: 1, Msg: "document larger than 1 GiB"}
	}
	src, base, start, enc, err := decode(raw)
	if err != nil {
		return parseStats{}, err
	}
	s := scratches.Get().(*scratch)
	s.b.Reset()
	if rootOnly {
		s.b.KeepRootOnly()
	}
	if s.prefixes == nil || len(s.prefixes.names) > keepPrefixes || s.prefixes.bytes > keepPrefixBytes {
		s.prefixes = newPrefixes()
	}
	for i := range s.prefixes.bound { // after a failed parse, some may be left bound
		s.prefixes.bound[i] = -1
	}
	p := &s.p
	p.reset(src, s.b, s.prefixes)
	err = p.run(start)
	stats := parseStats{nodes: p.model, work: p.work}
	if err == nil {
		done(s.b, parsed{start: p.rootStart, end: p.rootEnd, cdata: p.cdataIn, src: src, base: base, enc: enc})
	}
	p.src = nil // the pool must not keep the document
	if s.b.Nodes() <= keepNodes && cap(p.vbuf) <= keepBytes && cap(p.ns)+cap(p.scopes) <= keepNodes {
		scratches.Put(s)
	}
	return stats, err
}

// decode handles the byte-order mark and the XML declaration. It returns
// the document as UTF-8 (src), where src starts in raw (base: src is raw
// itself, base 0, unless a Latin-1 document had to be re-encoded) and the
// offset in src where parsing continues, and the encoding raw is read in.
func decode(raw []byte) (src []byte, base, start int, enc string, err error) {
	bom := 0
	switch {
	case bytes.HasPrefix(raw, []byte{0xEF, 0xBB, 0xBF}):
		bom = 3
	case bytes.HasPrefix(raw, []byte{0xFE, 0xFF}), bytes.HasPrefix(raw, []byte{0xFF, 0xFE}),
		len(raw) >= 2 && (raw[0] == 0 || raw[1] == 0):
		return nil, 0, 0, "", &SyntaxError{Line: 1, Msg: "UTF-16 and UTF-32 documents are not supported: use UTF-8"}
	}
	enc = "utf-8"
	n := 0
	if rest := raw[bom:]; bytes.HasPrefix(rest, []byte("<?xml")) && len(rest) > 5 && (isSpace(rest[5]) || rest[5] == '?') {
		n, enc, err = xmlDecl(rest)
		if err != nil {
			return nil, 0, 0, "", err
		}
	}
	body := raw[bom:]
	switch enc {
	case "utf-8":
		return raw, 0, bom + n, enc, nil
	case "us-ascii":
		for i, c := range body {
			if c >= 0x80 {
				line := 1 + bytes.Count(body[:i], []byte{'\n'})
				return nil, 0, 0, "", syntaxError(line, "byte 0x%02X in a document declared US-ASCII", c)
			}
		}
		return raw, 0, bom + n, enc, nil
	case "iso-8859-1":
		// A UTF-8 byte-order mark does not override the declaration: libxml2
		// reads the rest as Latin-1 too.
		for _, c := range body {
			if c >= 0x80 {
				return latin1ToUTF8(body), bom, n, enc, nil
			}
		}
		return raw, 0, bom + n, enc, nil
	}
	return nil, 0, 0, "", syntaxError(1, "unsupported encoding %q: use UTF-8, US-ASCII or ISO-8859-1", Clip(enc))
}

// xmlDecl parses the XML declaration (production [23]) at the start of b
// and returns its length and the encoding: "utf-8", "us-ascii",
// "iso-8859-1", or the lower-cased name of one the broker does not support.
func xmlDecl(b []byte) (n int, enc string, err error) {
	end := bytes.Index(b, []byte("?>"))
	if end < 0 {
		return 0, "", &SyntaxError{Line: 1, Msg: "unterminated XML declaration"}
	}
	fail := func(format string, args ...any) (int, string, error) {
		return 0, "", syntaxError(1+bytes.Count(b[:end], []byte{'\n'}), "XML declaration: "+format, args...)
	}
	const space = " \t\r\n"
	s := b[5:end]
	enc = "utf-8"
	for i, want := range [...]string{"version", "encoding", "standalone"} {
		t := bytes.TrimLeft(s, space)
		if len(t) == len(s) || !bytes.HasPrefix(t, []byte(want)) {
			if i == 0 {
				return fail("version required")
			}
			continue
		}
		t = bytes.TrimLeft(t[len(want):], space)
		if len(t) == 0 || t[0] != '=' {
			return fail("expected '=' after %s", want)
		}
		t = bytes.TrimLeft(t[1:], space)
		if len(t) == 0 || t[0] != '"' && t[0] != '\'' {
			return fail("%s value must be quoted", want)
		}
		q := bytes.IndexByte(t[1:], t[0])
		if q < 0 {
			return fail("unterminated %s value", want)
		}
		v := t[1 : 1+q]
		switch want {
		case "version":
			if string(v) != "1.0" {
				return fail("unsupported XML version %q", ClipBytes(v))
			}
		case "encoding":
			if !validEncName(v) {
				return fail("malformed encoding name %q", ClipBytes(v))
			}
			enc = encodingName(v)
		case "standalone":
			if string(v) != "yes" && string(v) != "no" {
				return fail("standalone must be yes or no, not %q", ClipBytes(v))
			}
		}
		s = t[2+q:]
	}
	if len(bytes.TrimLeft(s, space)) != 0 {
		return fail("unexpected %q", ClipBytes(bytes.TrimSpace(s)))
	}
	return end + 2, enc, nil
}

// encodingName maps the encoding names libxml2 knows for the encodings we
// support to one name each.
func encodingName(v []byte) string {
	for _, e := range encodings {
		if bytes.EqualFold(v, []byte(e.alias)) {
			return e.name
		}
	}
	return strings.ToLower(string(v))
}

// encodings maps the names a declaration may give to the three encodings
// read. A table of its own, not a literal in encodingName, where it would
// take 800 bytes of every parsing goroutine's stack.
var encodings = [...]struct{ alias, name string }{
	{"utf-8", "utf-8"}, {"utf8", "utf-8"},
	// IANA names and aliases of US-ASCII and ISO-8859-1.
	{"us-ascii", "us-ascii"}, {"ascii", "us-ascii"}, {"ansi_x3.4-1968", "us-ascii"}, {"ansi_x3.4-1986", "us-ascii"},
	{"iso-ir-6", "us-ascii"}, {"iso646-us", "us-ascii"}, {"us", "us-ascii"},
	{"ibm367", "us-ascii"}, {"cp367", "us-ascii"}, {"csascii", "us-ascii"},
	{"iso-8859-1", "iso-8859-1"}, {"iso_8859-1", "iso-8859-1"}, {"iso8859-1", "iso-8859-1"},
	{"iso-ir-100", "iso-8859-1"}, {"latin1", "iso-8859-1"}, {"latin-1", "iso-8859-1"}, {"l1", "iso-8859-1"},
	{"iso-latin-1", "iso-8859-1"}, {"ibm819", "iso-8859-1"}, {"cp819", "iso-8859-1"}, {"csisolatin1", "iso-8859-1"},
}

// validEncName checks production [81]: [A-Za-z] ([A-Za-z0-9._] | '-')*.
func validEncName(s []byte) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		alpha := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if i == 0 && !alpha || i > 0 && !alpha && !('0' <= c && c <= '9') && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return len(s) > 0
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
