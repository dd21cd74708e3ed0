package voevent

import (
	"bytes"
	"fmt"
	"unicode/utf8"

	"comet/xpath"
)

// Limits on what one document may cost to parse. Real VOEvents nest at
// most 8 deep and carry a few hundred elements; these leave ample room while
// bounding the memory and time a hostile document can take.
const (
	MaxDepth = 64     // elements open at once
	MaxNodes = 100000 // elements plus attributes in one document
	MaxAttrs = 256    // attributes (namespace declarations included) on one element
	// MaxDocNodes bounds the document model: every node counts, the
	// namespace nodes each element gets for every prefix in scope, text,
	// comments and processing instructions included. Without it 256
	// namespace declarations on the root and 100,000 empty elements would
	// build 25 million namespace nodes (1.2 GB).
	MaxDocNodes = 3 * MaxNodes
)

const xmlnsURI = "http://www.w3.org/2000/xmlns/"

// SyntaxError reports a document that is not well-formed, not
// namespace-well-formed, or outside what the broker accepts (a DTD, an
// entity, a limit exceeded).
type SyntaxError struct {
	Line int
	Msg  string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// parser is a single-pass XML 1.0 + Namespaces 1.0 scanner over a byte
// slice. It checks well-formedness as libxml2 does and reports the
// document to an xpath.Builder as it goes; it never builds tokens.
type parser struct {
	src       []byte
	i         int
	lineBase  int // line-number cache: lineBase is the line at linePos
	linePos   int
	b         *xpath.Builder
	open      []openElem
	ns        []binding
	attrs     []rawAttr
	vbuf      []byte
	cdataIn   []int32 // elements with a CDATA section child (document model indexes)
	nodes     int
	rootStart int
	rootEnd   int
}

type openElem struct {
	start, end int32 // the qualified name in src, for end-tag matching
	nsMark     int32 // len(ns) before this element's declarations
	node       int32 // the element's index in the document model
}

type binding struct {
	prefix []byte // "" for the default namespace
	uri    string // "" undeclares the default namespace
}

// rawAttr is an attribute of the start tag being parsed. It holds offsets,
// not slices, so that filling the pooled attribute stack needs no write
// barriers.
type rawAttr struct {
	n0, n1 int32 // the qualified name in src
	colon  int32 // index of ':' in the name, or -1
	v0, v1 int32 // the normalised value: in src if inSrc, else in vbuf
	pos    int32
	inSrc  bool
	xmlns  bool
}

func (p *parser) attrName(a *rawAttr) []byte { return p.src[a.n0:a.n1] }

func (p *parser) attrValue(a *rawAttr) []byte {
	if a.inSrc {
		return p.src[a.v0:a.v1]
	}
	return p.vbuf[a.v0:a.v1]
}

// fail aborts the parse; run turns the panic back into an error.
func (p *parser) fail(pos int, format string, args ...any) {
	panic(&SyntaxError{Line: p.line(pos), Msg: fmt.Sprintf(format, args...)})
}

// line returns the 1-based line of byte offset pos. Offsets asked for
// mostly increase, so counting from the last answer keeps it linear.
func (p *parser) line(pos int) int {
	if pos > len(p.src) {
		pos = len(p.src)
	}
	if pos < p.linePos {
		p.lineBase, p.linePos = 1, 0
	}
	if gap := p.src[p.linePos:pos]; len(gap) < 256 {
		// Usually the gap is an attribute or some indentation, with one
		// line end or none: cheaper than bytes.Count.
		for {
			i := bytes.IndexByte(gap, '\n')
			if i < 0 {
				break
			}
			p.lineBase++
			gap = gap[i+1:]
		}
	} else {
		p.lineBase += bytes.Count(gap, []byte{'\n'})
	}
	p.linePos = pos
	return p.lineBase
}

func (p *parser) run(start int) (err error) {
	defer func() {
		if r := recover(); r != nil {
			se, ok := r.(*SyntaxError)
			if !ok {
				panic(r)
			}
			err = se
		}
	}()
	p.i = start
	p.misc(true)
	p.element()
	p.misc(false)
	return nil
}

func (p *parser) has(s string) bool { return bytes.HasPrefix(p.src[p.i:], []byte(s)) }

// skipSpace skips white space and reports whether there was any.
func (p *parser) skipSpace() bool {
	j := p.i
	for p.i < len(p.src) && isSpace(p.src[p.i]) {
		p.i++
	}
	return p.i > j
}

// misc consumes comments, processing instructions and white space around
// the document element (productions [22] and [27]).
func (p *parser) misc(prolog bool) {
	for {
		p.skipSpace()
		if p.i >= len(p.src) {
			if prolog {
				p.fail(p.i, "no root element")
			}
			return
		}
		switch {
		case p.src[p.i] != '<':
			if prolog {
				p.fail(p.i, "text before the root element")
			}
			p.fail(p.i, "text after the root element")
		case p.has("<!--"):
			p.comment()
		case p.has("<?"):
			p.pi()
		case p.has("<!DOCTYPE"):
			p.fail(p.i, "DOCTYPE not allowed: DTDs and entity declarations are refused")
		case p.has("<!"):
			p.fail(p.i, "markup not allowed outside the root element")
		default:
			if prolog {
				return
			}
			p.fail(p.i, "more than one root element")
		}
	}
}

// element parses the document element and everything inside it, without
// recursion: the open-element stack is p.open.
func (p *parser) element() {
	p.rootStart = p.i
	p.startTag()
	for len(p.open) > 0 {
		p.content()
		switch {
		case p.has("</"):
			p.endTag()
		case p.has("<!--"):
			p.comment()
		case p.has("<![CDATA["):
			p.cdata()
		case p.has("<?"):
			p.pi()
		case p.has("<!"):
			p.fail(p.i, "markup declaration not allowed in content")
		default:
			p.startTag()
		}
	}
	p.rootEnd = p.i
}

// qname scans a namespace-qualified name at p.i.
func (p *parser) qname(what string) (name []byte, colon int) {
	start := p.i
	// Fast path: an ASCII name without a prefix.
	if i := p.i; i < len(p.src) && asciiNameStart[p.src[i]] {
		i++
		for i < len(p.src) && nameByte[p.src[i]] {
			i++
		}
		if i == len(p.src) || p.src[i] != ':' && p.src[i] < utf8.RuneSelf {
			p.i = i
			return p.src[start:i], -1
		}
	}
	colon = -1
	first := true
	for p.i < len(p.src) {
		c := p.src[p.i]
		if c < utf8.RuneSelf {
			switch {
			case c == ':':
				if colon >= 0 || first {
					p.fail(p.i, "malformed %s name %q", what, p.src[start:p.i+1])
				}
				colon = p.i - start
				first = true
				p.i++
				continue
			case first && !isNameStart(rune(c)):
			case nameByte[c]:
				first = false
				p.i++
				continue
			}
			break
		}
		r, n := utf8.DecodeRune(p.src[p.i:])
		if r == utf8.RuneError && n == 1 {
			p.fail(p.i, "invalid UTF-8 byte 0x%02X", p.src[p.i])
		}
		if first && !isNameStart(r) || !first && !isNameChar(r) {
			break
		}
		first = false
		p.i += n
	}
	if p.i == start {
		if p.i >= len(p.src) {
			p.fail(p.i, "unexpected end of document, expected %s name", what)
		}
		p.fail(p.i, "expected %s name, found %s", what, p.quoteAt(p.i))
	}
	if first {
		p.fail(p.i, "malformed %s name %q", what, p.src[start:p.i])
	}
	return p.src[start:p.i], colon
}

// name scans an XML Name (production [5]: colons anywhere) at p.i.
func (p *parser) name(what string) []byte {
	start := p.i
	for p.i < len(p.src) {
		r, n := rune(p.src[p.i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRune(p.src[p.i:])
			if r == utf8.RuneError && n == 1 {
				p.fail(p.i, "invalid UTF-8 byte 0x%02X", p.src[p.i])
			}
		}
		if r != ':' && (p.i == start && !isNameStart(r) || p.i > start && !isNameChar(r)) {
			break
		}
		p.i += n
	}
	if p.i == start {
		if p.i >= len(p.src) {
			p.fail(p.i, "unexpected end of document, expected %s name", what)
		}
		p.fail(p.i, "expected %s name, found %s", what, p.quoteAt(p.i))
	}
	return p.src[start:p.i]
}

// quoteAt describes the character at pos for error messages.
func (p *parser) quoteAt(pos int) string {
	r, _ := utf8.DecodeRune(p.src[pos:])
	return fmt.Sprintf("%q", r)
}

func (p *parser) startTag() {
	start := p.i
	p.i++ // '<'
	name, colon := p.qname("element")
	p.attrs = p.attrs[:0]
	p.vbuf = p.vbuf[:0]
	empty := false
	for {
		sp := p.skipSpace()
		if p.i >= len(p.src) {
			p.fail(p.i, "unexpected end of document in start tag <%s>", name)
		}
		c := p.src[p.i]
		if c == '>' {
			p.i++
			break
		}
		if c == '/' {
			if p.i+1 < len(p.src) && p.src[p.i+1] == '>' {
				p.i += 2
				empty = true
				break
			}
			p.fail(p.i, "expected '>' after '/' in <%s>", name)
		}
		if !sp {
			p.fail(p.i, "expected white space before attribute in <%s>, found %s", name, p.quoteAt(p.i))
		}
		apos := p.i
		aname, acolon := p.qname("attribute")
		aend := p.i
		p.skipSpace()
		if p.i >= len(p.src) || p.src[p.i] != '=' {
			p.fail(p.i, "expected '=' after attribute %s", aname)
		}
		p.i++
		p.skipSpace()
		v0, v1, inSrc := p.attValue(aname)
		xmlns := len(aname) >= 5 && string(aname[:5]) == "xmlns" && (len(aname) == 5 || acolon == 5)
		if len(p.attrs) == MaxAttrs {
			p.fail(apos, "more than %d attributes on <%s>", MaxAttrs, name)
		}
		p.attrs = append(p.attrs, rawAttr{n0: int32(apos), n1: int32(aend), colon: int32(acolon),
			v0: int32(v0), v1: int32(v1), pos: int32(apos), inSrc: inSrc, xmlns: xmlns})
	}

	p.nodes += 1 + len(p.attrs)
	if p.nodes > MaxNodes {
		p.fail(start, "more than %d elements and attributes", MaxNodes)
	}
	if len(p.open) >= MaxDepth {
		p.fail(start, "elements nested deeper than %d", MaxDepth)
	}
	mark := len(p.ns)
	declares := p.declare()
	p.checkDuplicates()

	line := p.line(start)
	prefix, local := split(name, colon)
	node := int32(p.b.Nodes())
	p.b.StartElement(prefix, local, p.resolve(prefix, start, true), line)
	if declares {
		p.scope()
	} else {
		p.b.InheritNamespaces()
	}
	for i := range p.attrs {
		a := &p.attrs[i]
		if a.xmlns {
			continue
		}
		ap, al := split(p.attrName(a), int(a.colon))
		uri := ""
		if len(ap) > 0 {
			uri = p.resolve(ap, int(a.pos), false)
		}
		p.b.Attribute(ap, al, uri, p.attrValue(a), p.line(int(a.pos)))
	}
	p.checkSize(start)
	if empty {
		p.b.EndElement()
		p.ns = p.ns[:mark]
		return
	}
	nameStart := start + 1
	p.open = append(p.open, openElem{int32(nameStart), int32(nameStart + len(name)), int32(mark), node})
}

// checkSize enforces MaxDocNodes; every construct that adds nodes calls it.
func (p *parser) checkSize(pos int) {
	if p.b.Nodes() > MaxDocNodes {
		p.fail(pos, "document model larger than %d nodes (namespace, text and comment nodes included)", MaxDocNodes)
	}
}

func split(name []byte, colon int) (prefix, local []byte) {
	if colon < 0 {
		return nil, name
	}
	return name[:colon], name[colon+1:]
}

// declare pushes the element's namespace declarations, checking them as
// Namespaces in XML 1.0 §3 requires, and reports whether there were any.
func (p *parser) declare() bool {
	declares := false
	for i := range p.attrs {
		a := &p.attrs[i]
		if !a.xmlns {
			continue
		}
		declares = true
		pos := int(a.pos)
		var prefix []byte
		if a.colon > 0 {
			prefix = p.attrName(a)[a.colon+1:]
		}
		val := p.attrValue(a)
		switch {
		case string(prefix) == "xmlns":
			p.fail(pos, "the prefix xmlns must not be declared")
		case string(prefix) == "xml" && string(val) != xpath.XMLNamespace:
			p.fail(pos, "the prefix xml must not be bound to another namespace")
		case string(prefix) != "xml" && string(val) == xpath.XMLNamespace:
			p.fail(pos, "only the prefix xml may be bound to %s", val)
		case string(val) == xmlnsURI:
			p.fail(pos, "no prefix may be bound to %s", val)
		case len(prefix) > 0 && len(val) == 0:
			p.fail(pos, "empty namespace name for prefix %s", prefix)
		}
		p.ns = append(p.ns, binding{prefix: prefix, uri: internURI(val)})
	}
	return declares
}

// Namespace URIs every VOEvent uses, so declaring them does not allocate.
var commonURIs = []string{
	"http://www.ivoa.net/xml/VOEvent/v2.0",
	"http://www.w3.org/2001/XMLSchema-instance",
	"http://www.telescope-networks.org/xml/Transport/v1.1",
	"http://www.ivoa.net/xml/VOEvent/v1.1",
	"http://www.ivoa.net/xml/VOEvent/VOEvent-v2.0.xsd",
	"http://www.ivoa.net/xml/VOEvent/VOEvent-v1.1.xsd",
	"http://www.ivoa.net/xml/STC/stc-v1.30.xsd",
	"http://www.w3.org/1999/xlink",
	"",
}

func internURI(b []byte) string {
	for _, u := range commonURIs {
		if string(b) == u {
			return u
		}
	}
	return string(b)
}

// resolve maps a prefix to its namespace URI; element names without a
// prefix take the default namespace.
func (p *parser) resolve(prefix []byte, pos int, element bool) string {
	if len(prefix) == 0 && !element {
		return ""
	}
	for i := len(p.ns) - 1; i >= 0; i-- {
		if bytes.Equal(p.ns[i].prefix, prefix) {
			return p.ns[i].uri
		}
	}
	if len(prefix) == 0 {
		return ""
	}
	if string(prefix) == "xml" {
		return xpath.XMLNamespace
	}
	p.fail(pos, "undeclared namespace prefix %q", prefix)
	return ""
}

// scope gives the element just started one namespace node per prefix in
// scope: xml first, then outer declarations before inner ones.
func (p *parser) scope() {
	p.b.Namespace([]byte("xml"), xpath.XMLNamespace)
	for i, bd := range p.ns {
		if string(bd.prefix) == "xml" || len(bd.prefix) == 0 && bd.uri == "" {
			continue
		}
		shadowed := false
		for _, later := range p.ns[i+1:] {
			if bytes.Equal(later.prefix, bd.prefix) {
				shadowed = true
				break
			}
		}
		if !shadowed {
			p.b.Namespace(bd.prefix, bd.uri)
		}
	}
}

// checkDuplicates refuses an attribute given twice, by name as written or
// by expanded name (two prefixes bound to one URI).
func (p *parser) checkDuplicates() {
	for i := 1; i < len(p.attrs); i++ {
		a := &p.attrs[i]
		for j := 0; j < i; j++ {
			b := &p.attrs[j]
			an, bn := p.attrName(a), p.attrName(b)
			if bytes.Equal(an, bn) {
				p.fail(int(a.pos), "duplicate attribute %s", an)
			}
			if a.colon > 0 && b.colon > 0 && !a.xmlns && !b.xmlns &&
				bytes.Equal(an[a.colon+1:], bn[b.colon+1:]) &&
				p.resolve(an[:a.colon], int(a.pos), false) == p.resolve(bn[:b.colon], int(b.pos), false) {
				p.fail(int(a.pos), "duplicate attribute %s (same namespace as %s)", an, bn)
			}
		}
	}
}

// attValue scans a quoted attribute value at p.i and returns where its
// normalised form (XML 1.0 §3.3.3 for CDATA attributes) is: in src when
// it needs no normalisation (no references, no white space other than
// spaces), else in p.vbuf.
func (p *parser) attValue(name []byte) (v0, v1 int, inSrc bool) {
	if p.i >= len(p.src) || p.src[p.i] != '"' && p.src[p.i] != '\'' {
		p.fail(p.i, "attribute %s: value must be quoted", name)
	}
	q := p.src[p.i]
	p.i++
	start := p.i
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch {
		case !attrStop[c], c != q && (c == '"' || c == '\''):
			p.i++
			continue
		case c == q:
			p.i++
			return start, p.i - 1, true
		case c >= utf8.RuneSelf:
			p.char()
			continue
		}
		break
	}
	// Slow path: normalise into vbuf.
	v0 = len(p.vbuf)
	p.vbuf = append(p.vbuf, p.src[start:p.i]...)
	for {
		start := p.i
		for p.i < len(p.src) && !attrStop[p.src[p.i]] {
			p.i++
		}
		p.vbuf = append(p.vbuf, p.src[start:p.i]...)
		if p.i >= len(p.src) {
			p.fail(p.i, "unexpected end of document in attribute %s", name)
		}
		c := p.src[p.i]
		switch {
		case c == q:
			p.i++
			return v0, len(p.vbuf), false
		case c == '"' || c == '\'':
			p.vbuf = append(p.vbuf, c)
			p.i++
		case c == '<':
			p.fail(p.i, "attribute %s: '<' not allowed in a value", name)
		case c == '&':
			p.vbuf = utf8.AppendRune(p.vbuf, p.reference())
		case c == '\r':
			p.vbuf = append(p.vbuf, ' ')
			p.i++
			if p.i < len(p.src) && p.src[p.i] == '\n' {
				p.i++
			}
		case c == '\t' || c == '\n':
			p.vbuf = append(p.vbuf, ' ')
			p.i++
		case c >= utf8.RuneSelf:
			n := p.char()
			p.vbuf = append(p.vbuf, p.src[p.i-n:p.i]...)
		default:
			p.fail(p.i, "illegal character U+%04X", c)
		}
	}
}

// char checks the non-ASCII character at p.i, steps over it and returns its length.
func (p *parser) char() int {
	r, n := utf8.DecodeRune(p.src[p.i:])
	if r == utf8.RuneError && n == 1 {
		p.fail(p.i, "invalid UTF-8 byte 0x%02X", p.src[p.i])
	}
	if !isChar(r) {
		p.fail(p.i, "illegal character U+%04X", r)
	}
	p.i += n
	return n
}

// reference decodes a character reference or one of the five predefined
// entity references at p.i. Every other entity is refused: we never
// expand entities (no billion laughs, no external entities).
func (p *parser) reference() rune {
	start := p.i
	p.i++ // '&'
	if p.i < len(p.src) && p.src[p.i] == '#' {
		p.i++
		hex := p.i < len(p.src) && p.src[p.i] == 'x'
		if hex {
			p.i++
		}
		var r rune
		digits := 0
		for ; p.i < len(p.src); p.i++ {
			c := p.src[p.i]
			var d rune
			switch {
			case '0' <= c && c <= '9':
				d = rune(c - '0')
			case hex && 'a' <= c && c <= 'f':
				d = rune(c-'a') + 10
			case hex && 'A' <= c && c <= 'F':
				d = rune(c-'A') + 10
			default:
				d = -1
			}
			if d < 0 {
				break
			}
			digits++
			if r <= 0x10FFFF {
				if hex {
					r = r*16 + d
				} else {
					r = r*10 + d
				}
			}
		}
		if digits == 0 || p.i >= len(p.src) || p.src[p.i] != ';' {
			p.fail(start, "malformed character reference")
		}
		p.i++
		if !isChar(r) {
			p.fail(start, "character reference %s to an illegal character", p.src[start:p.i])
		}
		return r
	}
	name, colon := p.qname("entity")
	if colon >= 0 || p.i >= len(p.src) || p.src[p.i] != ';' {
		p.fail(start, "malformed entity reference")
	}
	p.i++
	switch string(name) {
	case "lt":
		return '<'
	case "gt":
		return '>'
	case "amp":
		return '&'
	case "apos":
		return '\''
	case "quot":
		return '"'
	}
	p.fail(start, "entity reference &%s; not allowed: only the five predefined entities and character references are", name)
	return 0
}

// content scans character data up to the next '<', passing it to the
// builder with references decoded and line ends normalised.
func (p *parser) content() {
	line := 0
	for {
		start := p.i
		for p.i < len(p.src) {
			c := p.src[p.i]
			if !textStop[c] {
				p.i++
				continue
			}
			if c >= utf8.RuneSelf {
				p.char()
				continue
			}
			break
		}
		if p.i > start {
			if line == 0 {
				line = p.line(start)
			}
			p.b.Text(p.src[start:p.i], line)
		}
		if p.i >= len(p.src) {
			top := p.open[len(p.open)-1]
			p.fail(p.i, "unexpected end of document: <%s> not closed", p.src[top.start:top.end])
		}
		if line == 0 {
			line = p.line(p.i)
		}
		switch c := p.src[p.i]; c {
		case '<':
			return
		case '&':
			var buf [utf8.UTFMax]byte
			p.b.Text(utf8.AppendRune(buf[:0], p.reference()), line)
		case ']':
			if p.has("]]>") {
				p.fail(p.i, "']]>' not allowed in character data")
			}
			p.b.Text(p.src[p.i:p.i+1], line)
			p.i++
		case '\r':
			p.b.Text([]byte{'\n'}, line)
			p.i++
			if p.i < len(p.src) && p.src[p.i] == '\n' {
				p.i++
			}
		default:
			p.fail(p.i, "illegal character U+%04X", c)
		}
	}
}

func (p *parser) endTag() {
	pos := p.i
	p.i += 2
	name, _ := p.qname("element")
	p.skipSpace()
	if p.i >= len(p.src) || p.src[p.i] != '>' {
		p.fail(p.i, "expected '>' to end </%s>", name)
	}
	p.i++
	top := p.open[len(p.open)-1]
	if open := p.src[top.start:top.end]; !bytes.Equal(open, name) {
		p.fail(pos, "end tag </%s> does not match <%s>", name, open)
	}
	p.open = p.open[:len(p.open)-1]
	p.ns = p.ns[:top.nsMark]
	p.b.EndElement()
	p.checkSize(pos)
}

// body returns the text from p.i up to the terminator, checked for
// illegal characters and with line ends normalised, and steps past the
// terminator.
func (p *parser) body(term, what string) []byte {
	pos := p.i
	n := bytes.Index(p.src[p.i:], []byte(term))
	if n < 0 {
		p.fail(pos, "unterminated %s", what)
	}
	end := p.i + n
	for p.i < end {
		c := p.src[p.i]
		switch {
		case c >= utf8.RuneSelf:
			p.char()
		case c < 0x20 && !isSpace(c):
			p.fail(p.i, "illegal character U+%04X", c)
		default:
			p.i++
		}
	}
	b := p.src[pos:end]
	p.i = end + len(term)
	if bytes.IndexByte(b, '\r') >= 0 {
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		b = bytes.ReplaceAll(b, []byte("\r"), []byte("\n"))
	}
	return b
}

func (p *parser) comment() {
	pos := p.i
	p.i += 4
	b := p.body("--", "comment")
	if p.i >= len(p.src) || p.src[p.i] != '>' {
		p.fail(p.i-2, "'--' not allowed inside a comment")
	}
	p.i++
	p.b.Comment(b, p.line(pos))
	p.checkSize(pos)
}

// cdata adds a CDATA section to the current text node and notes that its
// element has one: the schema validator tells CDATA sections from text
// (libxml2 refuses even an empty one in element-only or empty content).
func (p *parser) cdata() {
	pos := p.i
	p.i += len("<![CDATA[")
	p.b.Text(p.body("]]>", "CDATA section"), p.line(pos))
	if el := p.open[len(p.open)-1].node; len(p.cdataIn) == 0 || p.cdataIn[len(p.cdataIn)-1] != el {
		p.cdataIn = append(p.cdataIn, el)
	}
}

func (p *parser) pi() {
	pos := p.i
	p.i += 2
	// A colon in a target breaks Namespaces in XML, but libxml2 only
	// warns: the target is an XML Name, colons allowed.
	target := p.name("processing instruction")
	if bytes.EqualFold(target, []byte("xml")) {
		p.fail(pos, "XML declaration allowed only at the start of the document")
	}
	var data []byte
	if !p.has("?>") {
		if !p.skipSpace() {
			p.fail(p.i, "expected white space after processing instruction target %s", target)
		}
		data = p.body("?>", "processing instruction")
	} else {
		p.i += 2
	}
	p.b.ProcInst(target, data, p.line(pos))
	p.checkSize(pos)
}
