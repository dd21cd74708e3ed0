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
	// build 25 million namespace nodes (1.2 GB). ParseRoot counts the
	// nodes Parse would build, though it keeps only the root.
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
//
// Its work is linear in the input and in the document model: each
// element, attribute and declaration costs time in proportion to its
// bytes and to the nodes it adds to the model (the namespace nodes an
// element gets for the prefixes in scope among them), never to how many
// namespaces, bindings or attributes came before. MaxDocNodes bounds the
// model, and so the work beyond the input's size. Prefixes are numbered,
// so finding the binding in scope is a map lookup and an index;
// namespace URIs are numbered where they are declared; duplicate
// attributes are found with a hash table.
type parser struct {
	src      []byte
	i        int
	lineBase int // line-number cache: lineBase is the line at linePos
	linePos  int
	b        *xpath.Builder
	open     []openElem
	ns       []binding // the namespace declarations of the open elements
	// scopes holds the namespace-node lists of the open elements that
	// declare namespaces, as indexes into ns, xml left out.
	scopes   []int32
	prefixes *prefixes
	xmlURI   int32 // the builder's number for xpath.XMLNamespace
	attrs    []rawAttr
	dups     []int32 // checkAttrs' hash table
	vbuf     []byte
	cdataIn  []int32 // elements with a CDATA section child (document model indexes)
	nodes    int     // elements and attributes, for MaxNodes
	model    int     // nodes of the full document model, for MaxDocNodes
	inText   bool    // the last thing added to the model was character data
	// work counts the steps of the loops over the parser's own state
	// (bindings, namespace-node lists, attributes) and the bytes line
	// numbering reads, so that a test can check they stay linear.
	work      int
	rootStart int
	rootEnd   int
}

type openElem struct {
	start, end int32 // the qualified name in src, for end-tag matching
	nsMark     int32 // len(ns) before this element's declarations
	scopeMark  int32 // len(scopes) before this element's namespace-node list
	// scope0:scope1 is the element's namespace-node list in scopes; an
	// element that declares nothing shares its parent's.
	scope0, scope1 int32
	node           int32 // the element's index in the document model
}

// binding is one namespace declaration.
type binding struct {
	prefix int32 // number in prefixes
	uri    int32 // the builder's number; 0 ("") undeclares the default namespace
	prev   int32 // the binding of the same prefix it hides, or -1
}

// prefixes numbers the namespace prefixes met; the default namespace
// ("") is 0 and xml is 1. It outlives a parse, in the pool, so the
// prefixes every event uses are not allocated again for each.
type prefixes struct {
	ids   map[string]int32
	names []string
	bytes int     // the length of names, in all
	bound []int32 // by number: the index in parser.ns of the binding in scope, or -1
}

const (
	defaultPrefix = 0
	xmlPrefix     = 1
	// A pooled prefix table that holds more prefixes than keepPrefixes,
	// or longer ones than keepPrefixBytes in all, is dropped.
	keepPrefixes    = 256
	keepPrefixBytes = 16 << 10
)

func newPrefixes() *prefixes {
	return &prefixes{ids: map[string]int32{"": defaultPrefix, "xml": xmlPrefix}, names: []string{"", "xml"}, bound: []int32{-1, -1}}
}

// number returns the number of prefix, giving it one if new.
func (t *prefixes) number(prefix []byte) int32 {
	if len(prefix) == 0 {
		return defaultPrefix
	}
	id, ok := t.ids[string(prefix)]
	if !ok {
		id = int32(len(t.names))
		name := string(prefix)
		t.ids[name] = id
		t.names = append(t.names, name)
		t.bytes += len(name)
		t.bound = append(t.bound, -1)
	}
	return id
}

// rawAttr is an attribute of the start tag being parsed. It holds offsets,
// not slices, so that filling the pooled attribute stack needs no write
// barriers.
type rawAttr struct {
	n0, n1 int32 // the qualified name in src
	colon  int32 // index of ':' in the name, or -1
	v0, v1 int32 // the normalised value: in src if inSrc, else in vbuf
	pos    int32
	uri    int32 // the builder's number for the namespace; -1 for a declaration
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

// fail aborts the parse; run turns the panic back into an error. Names
// and values from the document must be passed through Clip.
func (p *parser) fail(pos int, format string, args ...any) {
	panic(syntaxError(p.line(pos), format, args...))
}

func syntaxError(line int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Line: line, Msg: clipMessage(fmt.Sprintf(format, args...))}
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
	p.work += pos - p.linePos
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
	p.model = 1 // the root node
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
					p.fail(p.i, "malformed %s name %q", what, ClipBytes(p.src[start:p.i+1]))
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
		p.fail(p.i, "malformed %s name %q", what, ClipBytes(p.src[start:p.i]))
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
			p.fail(p.i, "unexpected end of document in start tag <%s>", ClipBytes(name))
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
			p.fail(p.i, "expected '>' after '/' in <%s>", ClipBytes(name))
		}
		if !sp {
			p.fail(p.i, "expected white space before attribute in <%s>, found %s", ClipBytes(name), p.quoteAt(p.i))
		}
		apos := p.i
		aname, acolon := p.qname("attribute")
		aend := p.i
		p.skipSpace()
		if p.i >= len(p.src) || p.src[p.i] != '=' {
			p.fail(p.i, "expected '=' after attribute %s", ClipBytes(aname))
		}
		p.i++
		p.skipSpace()
		v0, v1, inSrc := p.attValue(aname)
		xmlns := len(aname) >= 5 && string(aname[:5]) == "xmlns" && (len(aname) == 5 || acolon == 5)
		if len(p.attrs) == MaxAttrs {
			p.fail(apos, "more than %d attributes on <%s>", MaxAttrs, ClipBytes(name))
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
	var parent openElem // the document's: no namespace nodes
	if len(p.open) > 0 {
		parent = p.open[len(p.open)-1]
	}
	el := openElem{start: int32(start + 1), end: int32(start + 1 + len(name)),
		nsMark: int32(len(p.ns)), scopeMark: int32(len(p.scopes)), scope0: parent.scope0, scope1: parent.scope1}
	declares := p.declare()
	prefix, local := split(name, colon)
	uri := p.resolve(prefix, start, true)
	attrs := p.checkAttrs()
	if declares {
		el.scope0, el.scope1 = p.scope(parent.scope0, parent.scope1, el.nsMark)
	}
	// The element, its namespace nodes (xml's and those in scopes) and
	// its attributes.
	p.addNodes(start, 2+int(el.scope1-el.scope0)+attrs)
	p.inText = false

	line := p.line(start)
	el.node = int32(p.b.Nodes())
	p.b.StartElement(prefix, local, uri, line)
	if declares {
		p.b.Namespace("xml", p.xmlURI)
		for _, i := range p.scopes[el.scope0:el.scope1] {
			p.b.Namespace(p.prefixes.names[p.ns[i].prefix], p.ns[i].uri)
		}
	} else {
		p.b.InheritNamespaces()
	}
	for i := range p.attrs {
		if a := &p.attrs[i]; !a.xmlns {
			ap, al := split(p.attrName(a), int(a.colon))
			p.b.Attribute(ap, al, a.uri, p.attrValue(a), p.line(int(a.pos)))
		}
	}
	p.open = append(p.open, el)
	if empty {
		p.endElement()
	}
}

// endElement closes the innermost open element, taking its namespace
// declarations out of scope.
func (p *parser) endElement() {
	el := p.open[len(p.open)-1]
	p.open = p.open[:len(p.open)-1]
	for i := len(p.ns) - 1; i >= int(el.nsMark); i-- {
		p.prefixes.bound[p.ns[i].prefix] = p.ns[i].prev
	}
	p.work += len(p.ns) - int(el.nsMark)
	p.ns = p.ns[:el.nsMark]
	p.scopes = p.scopes[:el.scopeMark]
	p.b.EndElement()
	p.inText = false
}

// addNodes counts n more nodes of the document model, starting at pos,
// against MaxDocNodes. The count is the parser's own, not the builder's,
// so that ParseRoot, whose builder keeps only the root, applies the same
// limit as Parse.
func (p *parser) addNodes(pos, n int) {
	p.model += n
	if p.model > MaxDocNodes {
		p.fail(pos, "document model larger than %d nodes (namespace, text and comment nodes included)", MaxDocNodes)
	}
}

// text adds character data at pos to the model. Consecutive calls, with
// no markup but CDATA sections between them, make one text node, as in
// the builder.
func (p *parser) text(pos int, t []byte, line int) {
	if len(t) == 0 {
		return
	}
	if !p.inText {
		p.addNodes(pos, 1)
		p.inText = true
	}
	p.b.Text(t, line)
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
			p.fail(pos, "empty namespace name for prefix %s", ClipBytes(prefix))
		}
		id := p.prefixes.number(prefix)
		p.ns = append(p.ns, binding{prefix: id, uri: p.b.InternURI(val), prev: p.prefixes.bound[id]})
		p.prefixes.bound[id] = int32(len(p.ns) - 1)
	}
	return declares
}

// resolve returns the builder's number for the namespace URI prefix is
// bound to; element names without a prefix take the default namespace,
// attribute names none.
func (p *parser) resolve(prefix []byte, pos int, element bool) int32 {
	if len(prefix) == 0 && !element {
		return 0
	}
	p.work++
	id := p.prefixes.number(prefix)
	if b := p.prefixes.bound[id]; b >= 0 {
		return p.ns[b].uri
	}
	switch id {
	case defaultPrefix:
		return 0
	case xmlPrefix:
		return p.xmlURI
	}
	p.fail(pos, "undeclared namespace prefix %q", ClipBytes(prefix))
	return 0
}

// scope appends to scopes the namespace nodes, xml's left out, of an
// element that declares namespaces (its declarations are ns[mark:]), and
// returns where they are. The order is libxml2's: those of the parent
// (scopes[from:to]) that the element does not rebind to another URI, in
// the parent's order, then the element's other declarations, last first.
// An undeclared default namespace (xmlns="") has no node.
func (p *parser) scope(from, to, mark int32) (int32, int32) {
	start := int32(len(p.scopes))
	bound := p.prefixes.bound
	for _, old := range p.scopes[from:to] {
		if cur := bound[p.ns[old].prefix]; p.ns[cur].uri == p.ns[old].uri {
			p.scopes = append(p.scopes, cur)
		}
	}
	for i := int32(len(p.ns)) - 1; i >= mark; i-- {
		d := &p.ns[i]
		placed := d.prev >= 0 && p.ns[d.prev].uri == d.uri // by the loop above
		if d.prefix != xmlPrefix && d.uri != 0 && !placed {
			p.scopes = append(p.scopes, i)
		}
	}
	p.work += int(to-from) + len(p.ns) - int(mark)
	return start, int32(len(p.scopes))
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
			p.text(start, p.src[start:p.i], line)
		}
		if p.i >= len(p.src) {
			top := p.open[len(p.open)-1]
			p.fail(p.i, "unexpected end of document: <%s> not closed", ClipBytes(p.src[top.start:top.end]))
		}
		if line == 0 {
			line = p.line(p.i)
		}
		switch c := p.src[p.i]; c {
		case '<':
			return
		case '&':
			var buf [utf8.UTFMax]byte
			pos := p.i
			p.text(pos, utf8.AppendRune(buf[:0], p.reference()), line)
		case ']':
			if p.has("]]>") {
				p.fail(p.i, "']]>' not allowed in character data")
			}
			p.text(p.i, p.src[p.i:p.i+1], line)
			p.i++
		case '\r':
			p.text(p.i, []byte{'\n'}, line)
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
		p.fail(p.i, "expected '>' to end </%s>", ClipBytes(name))
	}
	p.i++
	top := p.open[len(p.open)-1]
	if open := p.src[top.start:top.end]; !bytes.Equal(open, name) {
		p.fail(pos, "end tag </%s> does not match <%s>", ClipBytes(name), ClipBytes(open))
	}
	p.endElement()
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
	p.addNodes(pos, 1)
	p.inText = false
	p.b.Comment(b, p.line(pos))
}

// cdata adds a CDATA section to the current text node and notes that its
// element has one: the schema validator tells CDATA sections from text
// (libxml2 refuses even an empty one in element-only or empty content).
func (p *parser) cdata() {
	pos := p.i
	p.i += len("<![CDATA[")
	p.text(pos, p.body("]]>", "CDATA section"), p.line(pos))
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
			p.fail(p.i, "expected white space after processing instruction target %s", ClipBytes(target))
		}
		data = p.body("?>", "processing instruction")
	} else {
		p.i += 2
	}
	p.addNodes(pos, 1)
	p.inText = false
	p.b.ProcInst(target, data, p.line(pos))
}
