package xpath

// Builder assembles a Document from a stream of parse events. It is driven
// by voevent's XML parser, which has already checked well-formedness and
// resolved namespaces; the builder only records what it is told, in order.
//
// The call sequence for an element is StartElement, then its namespace
// nodes (Namespace for each prefix in scope, xml first, or
// InheritNamespaces when the element declares none), then Attribute for
// each attribute, then its content, then EndElement. Namespace URIs are
// passed as the numbers InternURI gives them. A Builder can be reused
// after Reset; it keeps its buffers, so a pooled Builder allocates only
// the finished Document.
type Builder struct {
	nodes []node
	uris  []string
	// uriIndex maps a namespace URI to its index in uris, valid when its
	// generation is gen; it outlives Reset, so that the URIs every event
	// declares are not allocated again for each document. uriBytes is the
	// length of the URIs it holds.
	uriIndex map[string]uriEntry
	uriBytes int
	gen      uint64 // never wraps
	text     []byte
	strs     []byte
	open     []int32 // indexes of the open root and elements
	inTag    bool    // the last StartElement's start tag is still receiving attributes
	// rootOnly keeps the document element and nothing inside it; skip is
	// how deep the builder is inside elements it is not keeping.
	rootOnly bool
	skip     int
}

var xmlNamespace = []byte(XMLNamespace) // for InternURI

// uriEntry is a URI and its number in the document of generation gen.
type uriEntry struct {
	uri   string
	gen   uint64
	index int32
}

// A Builder that has met more distinct namespace URIs than keepURIs, or
// longer ones than keepURIBytes in all, forgets them at Reset.
const (
	keepURIs     = 256
	keepURIBytes = 16 << 10
)

// NewBuilder returns a Builder holding an empty document (just the root).
func NewBuilder() *Builder {
	b := &Builder{}
	b.Reset()
	return b
}

// Reset discards everything built so far and starts a new document.
func (b *Builder) Reset() {
	b.nodes = append(b.nodes[:0], node{kind: RootNode, parent: -1, first: 1, line: 1})
	b.uris = append(b.uris[:0], "")
	if b.uriIndex == nil || len(b.uriIndex) > keepURIs || b.uriBytes > keepURIBytes {
		b.uriIndex, b.uriBytes = make(map[string]uriEntry), 0
	}
	b.gen++
	b.text = b.text[:0]
	b.strs = b.strs[:0]
	b.open = append(b.open[:0], 0)
	b.inTag = false
	b.rootOnly = false
	b.skip = 0
}

// KeepRootOnly makes the builder, until the next Reset, record only the
// document element (its name, namespace nodes and attributes) and the
// comments and PIs around it, and ignore everything inside it. A broker
// needs no more of a subscriber's ack than its root's role, and a parse
// that still checks the whole document but builds one element is cheap.
func (b *Builder) KeepRootOnly() { b.rootOnly = true }

// skipping reports whether content at the current position is not kept.
func (b *Builder) skipping() bool { return b.rootOnly && len(b.open) > 1 }

// Nodes is the number of nodes so far, namespace and attribute nodes included.
func (b *Builder) Nodes() int { return len(b.nodes) }

// InternURI returns the number of namespace URI uri in the document being
// built, numbering it if new ("" is 0). StartElement, Namespace and
// Attribute take these numbers, so a URI is hashed once where it is
// declared, not again for every name in its namespace.
func (b *Builder) InternURI(uri []byte) int32 {
	if len(uri) == 0 {
		return 0
	}
	e, ok := b.uriIndex[string(uri)]
	if ok && e.gen == b.gen {
		return e.index
	}
	if !ok {
		e.uri = string(uri)
		b.uriBytes += len(uri)
	}
	e.gen, e.index = b.gen, int32(len(b.uris))
	b.uris = append(b.uris, e.uri)
	b.uriIndex[e.uri] = e
	return e.index
}

// addName appends prefix:local to strs and sets n's name fields.
func (b *Builder) addName(n *node, prefix, local []byte) {
	n.name.start = int32(len(b.strs))
	if len(prefix) > 0 {
		b.strs = append(b.strs, prefix...)
		b.strs = append(b.strs, ':')
	}
	n.local = int32(len(b.strs))
	b.strs = append(b.strs, local...)
	n.name.end = int32(len(b.strs))
}

// closeTag ends the start tag of the newest element, if still open: its
// children start here.
func (b *Builder) closeTag() {
	if !b.inTag {
		return
	}
	b.inTag = false
	e := b.open[len(b.open)-1]
	b.endNamespaces(e)
	b.nodes[e].first = int32(len(b.nodes))
}

// endNamespaces records, once, that element e's namespace nodes are
// complete: its attributes start here.
func (b *Builder) endNamespaces(e int32) {
	if b.nodes[e].attrs == 0 {
		b.nodes[e].attrs = int32(len(b.nodes))
	}
}

// StartElement opens an element named prefix:local in namespace number
// uri (see InternURI).
func (b *Builder) StartElement(prefix, local []byte, uri int32, line int) {
	b.closeTag()
	if b.skipping() {
		b.skip++
		return
	}
	n := node{
		kind:   ElementNode,
		parent: b.open[len(b.open)-1],
		line:   int32(line),
		uri:    uri,
		val:    span{int32(len(b.text)), 0},
	}
	b.addName(&n, prefix, local)
	b.open = append(b.open, int32(len(b.nodes)))
	b.nodes = append(b.nodes, n)
	b.inTag = true
}

// Namespace adds a namespace node (prefix bound to namespace number uri;
// prefix "" is the default namespace) to the element just started. The
// element's namespace nodes keep the order of the calls, which should be
// libxml2's: see [Node.Namespaces].
func (b *Builder) Namespace(prefix string, uri int32) {
	if b.skip > 0 {
		return
	}
	e := b.open[len(b.open)-1]
	i := int32(len(b.nodes))
	n := node{kind: NamespaceNode, parent: e, line: b.nodes[e].line, uri: uri, first: i + 1, end: i + 1}
	n.name.start = int32(len(b.strs))
	n.local = n.name.start
	b.strs = append(b.strs, prefix...)
	n.name.end = int32(len(b.strs))
	b.nodes = append(b.nodes, n)
}

// InheritNamespaces gives the element just started the same namespace nodes
// as its parent element; for the document element, just "xml".
func (b *Builder) InheritNamespaces() {
	if b.skip > 0 {
		return
	}
	e := b.open[len(b.open)-1]
	p := b.nodes[e].parent
	if p == 0 {
		b.Namespace("xml", b.InternURI(xmlNamespace))
		return
	}
	pn := b.nodes[p]
	base := int32(len(b.nodes))
	b.nodes = append(b.nodes, b.nodes[p+1:pn.attrs]...)
	for i := base; i < int32(len(b.nodes)); i++ {
		b.nodes[i].parent = e
		b.nodes[i].line = b.nodes[e].line
		b.nodes[i].first, b.nodes[i].end = i+1, i+1
	}
}

// Attribute adds an attribute named prefix:local in namespace number uri
// to the element just started. value is the normalised attribute value.
func (b *Builder) Attribute(prefix, local []byte, uri int32, value []byte, line int) {
	if b.skip > 0 {
		return
	}
	e := b.open[len(b.open)-1]
	b.endNamespaces(e)
	i := int32(len(b.nodes))
	n := node{kind: AttributeNode, parent: e, line: int32(line), uri: uri, first: i + 1, end: i + 1}
	b.addName(&n, prefix, local)
	n.val.start = int32(len(b.strs))
	b.strs = append(b.strs, value...)
	n.val.end = int32(len(b.strs))
	b.nodes = append(b.nodes, n)
}

// EndElement closes the innermost open element.
func (b *Builder) EndElement() {
	if b.skip > 0 {
		b.skip--
		return
	}
	b.closeTag()
	e := b.open[len(b.open)-1]
	b.open = b.open[:len(b.open)-1]
	b.nodes[e].end = int32(len(b.nodes))
	b.nodes[e].val.end = int32(len(b.text))
}

// Text appends character data. Consecutive calls (text, character
// references, CDATA sections) make one text node, as XPath requires.
func (b *Builder) Text(t []byte, line int) {
	if len(t) == 0 || b.skipping() {
		return
	}
	b.closeTag()
	last := len(b.nodes) - 1
	if b.nodes[last].kind == TextNode && b.nodes[last].parent == b.open[len(b.open)-1] {
		b.text = append(b.text, t...)
		b.nodes[last].val.end = int32(len(b.text))
		return
	}
	i := int32(len(b.nodes))
	n := node{kind: TextNode, parent: b.open[len(b.open)-1], line: int32(line), first: i + 1, end: i + 1}
	n.val.start = int32(len(b.text))
	b.text = append(b.text, t...)
	n.val.end = int32(len(b.text))
	b.nodes = append(b.nodes, n)
}

// Comment adds a comment node.
func (b *Builder) Comment(c []byte, line int) {
	if b.skipping() {
		return
	}
	b.closeTag()
	i := int32(len(b.nodes))
	n := node{kind: CommentNode, parent: b.open[len(b.open)-1], line: int32(line), first: i + 1, end: i + 1}
	n.val.start = int32(len(b.strs))
	b.strs = append(b.strs, c...)
	n.val.end = int32(len(b.strs))
	b.nodes = append(b.nodes, n)
}

// ProcInst adds a processing-instruction node.
func (b *Builder) ProcInst(target, data []byte, line int) {
	if b.skipping() {
		return
	}
	b.closeTag()
	i := int32(len(b.nodes))
	n := node{kind: ProcInstNode, parent: b.open[len(b.open)-1], line: int32(line), first: i + 1, end: i + 1}
	b.addName(&n, nil, target)
	n.val.start = int32(len(b.strs))
	b.strs = append(b.strs, data...)
	n.val.end = int32(len(b.strs))
	b.nodes = append(b.nodes, n)
}

// RootAttr returns the local name of the document element built so far
// and the value of its attribute named local in no namespace, whether it
// has one, without the cost of a Document. The slices point into the
// builder and are valid until Reset.
func (b *Builder) RootAttr(local string) (name, val []byte, ok bool) {
	b.closeTag()
	for i := range b.nodes {
		nd := &b.nodes[i]
		if nd.kind != ElementNode {
			continue
		}
		name = b.strs[nd.local:nd.name.end]
		for a := nd.attrs; a < nd.first; a++ {
			at := &b.nodes[a]
			if at.kind == AttributeNode && at.uri == 0 && string(b.strs[at.local:at.name.end]) == local {
				return name, b.strs[at.val.start:at.val.end], true
			}
		}
		return name, nil, false
	}
	return nil, nil, false
}

// Document finishes the document and returns it. The Builder may then be
// Reset and reused; the Document shares no memory with it.
func (b *Builder) Document() *Document {
	b.closeTag()
	root := &b.nodes[0]
	root.end = int32(len(b.nodes))
	root.val = span{0, int32(len(b.text))}
	d := &Document{
		nodes: make([]node, len(b.nodes)),
		uris:  make([]string, len(b.uris)),
		text:  string(b.text),
		strs:  string(b.strs),
	}
	copy(d.nodes, b.nodes)
	copy(d.uris, b.uris)
	n := 0
	for i := range d.nodes {
		if d.nodes[i].kind == ElementNode {
			n++
		}
	}
	d.elems = make([]int32, 0, n)
	d.elemNames = make([]string, 0, n)
	for i := range d.nodes {
		if nd := &d.nodes[i]; nd.kind == ElementNode {
			d.elems = append(d.elems, int32(i))
			d.elemNames = append(d.elemNames, d.strs[nd.local:nd.name.end])
		}
	}
	return d
}
