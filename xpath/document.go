package xpath

import "iter"

// Kind is the kind of a node in the XPath 1.0 data model (REC-xpath §5).
type Kind uint8

// The seven node kinds of XPath 1.0.
const (
	RootNode Kind = iota
	ElementNode
	AttributeNode
	NamespaceNode
	TextNode
	CommentNode
	ProcInstNode
)

var kindNames = [...]string{"root", "element", "attribute", "namespace", "text", "comment", "processing-instruction"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// XMLNamespace is the namespace bound to the prefix "xml" in every document.
const XMLNamespace = "http://www.w3.org/XML/1998/namespace"

// Document is an immutable XML document in the XPath 1.0 data model.
//
// It is built once per event (by voevent's parser, through a [Builder]) and
// then shared read-only by every filter, so it must never be modified after
// [Builder.Document] returns. All nodes live in one slice in document order:
// a node's index is its identity and its position in document order, which
// makes sorting and de-duplicating node-sets trivial. Each element is
// followed by its namespace nodes, then its attribute nodes, then its
// children; its whole subtree is the index range [i, end).
//
// Text-node content is stored, in document order, in one string (text), so
// the string-value of any element is a single substring: no allocation.
// Names, attribute values, comments and processing instructions live in a
// second string (strs).
type Document struct {
	nodes []node
	uris  []string // namespace URIs; uris[0] is "" (no namespace)
	text  string
	strs  string
	// elems lists the element nodes in document order, with their local
	// names alongside, so that //Name (the commonest step in filters) is a
	// sequential scan of two small arrays rather than a walk of the tree.
	elems     []int32
	elemNames []string
}

// Name is an expanded element, attribute, namespace-node or PI name.
// Prefix is kept as written because name() returns it (libxml2 does).
type Name struct {
	Prefix, Local, URI string
}

// span is a half-open byte range into Document.text or Document.strs.
type span struct{ start, end int32 }

// node holds no pointers, so the garbage collector never scans the slice.
type node struct {
	kind   Kind
	parent int32 // -1 for the root
	attrs  int32 // elements: index of the first attribute node (after namespace nodes)
	first  int32 // root, elements: index of the first child (after attributes); others: i+1
	end    int32 // one past the last node of the subtree
	line   int32 // 1-based line of the node's start in the source
	// name is the qualified name as written (elements, attributes), the
	// prefix (namespace nodes) or the target (PIs), in strs; local is where
	// its local part starts.
	name  span
	local int32
	uri   int32 // index into uris: the name's namespace, or a namespace node's URI
	// val is where the node's value is: text nodes, root and elements in
	// text (for elements, the string-value: all descendant text); attribute,
	// comment and PI nodes in strs. Namespace nodes use uri instead.
	val span
}

// Node is a reference to one node of a Document. The zero Node is invalid.
type Node struct {
	d *Document
	i int32
}

// Len is the number of nodes in the document, namespace and attribute nodes included.
func (d *Document) Len() int { return len(d.nodes) }

// Root returns the root node (the document node, parent of the document element).
func (d *Document) Root() Node { return Node{d, 0} }

// Element returns the document element, the root's only element child.
func (d *Document) Element() Node {
	for c := range d.Root().Children() {
		if c.Kind() == ElementNode {
			return c
		}
	}
	return Node{}
}

// Valid reports whether n refers to a node.
func (n Node) Valid() bool { return n.d != nil }

// Index is n's position in document order.
func (n Node) Index() int { return int(n.i) }

// Document returns the document n belongs to.
func (n Node) Document() *Document { return n.d }

// Kind returns the node's kind.
func (n Node) Kind() Kind { return n.d.nodes[n.i].kind }

// Line is the 1-based source line where the node starts.
func (n Node) Line() int { return int(n.d.nodes[n.i].line) }

// Parent returns the parent; the root has none (invalid Node). The parent of
// an attribute or namespace node is its element, as in XPath.
func (n Node) Parent() Node {
	p := n.d.nodes[n.i].parent
	if p < 0 {
		return Node{}
	}
	return Node{n.d, p}
}

// Local is the local part of an element or attribute name, the prefix of a
// namespace node, the target of a processing instruction, "" otherwise.
func (n Node) Local() string {
	nd := &n.d.nodes[n.i]
	return n.d.strs[nd.local:nd.name.end]
}

// Prefix is the namespace prefix of an element or attribute as written in
// the source ("" if none).
func (n Node) Prefix() string {
	nd := &n.d.nodes[n.i]
	if nd.local == nd.name.start {
		return ""
	}
	return n.d.strs[nd.name.start : nd.local-1]
}

// URI is the namespace URI of an element or attribute name ("" if none).
// For a namespace node it is the URI the prefix is bound to.
func (n Node) URI() string { return n.d.uris[n.d.nodes[n.i].uri] }

// QName is the name as written: prefix:local or local.
func (n Node) QName() string {
	nd := &n.d.nodes[n.i]
	return n.d.strs[nd.name.start:nd.name.end]
}

// Name returns the node's expanded name.
func (n Node) Name() Name { return Name{n.Prefix(), n.Local(), n.URI()} }

// Value is the XPath string-value: the concatenated descendant text of a
// root or element, the value of an attribute, the URI of a namespace node,
// the content of a text node, comment or processing instruction.
func (n Node) Value() string {
	nd := &n.d.nodes[n.i]
	switch nd.kind {
	case RootNode, ElementNode, TextNode:
		return n.d.text[nd.val.start:nd.val.end]
	case NamespaceNode:
		return n.d.uris[nd.uri]
	}
	return n.d.strs[nd.val.start:nd.val.end]
}

// Children iterates over the child nodes (elements, text, comments, PIs) in
// document order. Attribute and namespace nodes are not children.
func (n Node) Children() iter.Seq[Node] {
	return func(yield func(Node) bool) {
		nd := &n.d.nodes[n.i]
		if nd.kind != RootNode && nd.kind != ElementNode {
			return
		}
		for c := nd.first; c < nd.end; c = n.d.nodes[c].end {
			if !yield(Node{n.d, c}) {
				return
			}
		}
	}
}

// Attributes iterates over an element's attributes in source order
// (namespace declarations are not attributes).
func (n Node) Attributes() iter.Seq[Node] {
	return func(yield func(Node) bool) {
		nd := &n.d.nodes[n.i]
		if nd.kind != ElementNode {
			return
		}
		for a := nd.attrs; a < nd.first; a++ {
			if !yield(Node{n.d, a}) {
				return
			}
		}
	}
}

// Namespaces iterates over an element's namespace nodes: one per prefix in
// scope (the default namespace has local name ""), in the order libxml2's
// namespace axis gives them: "xml" first, then those inherited from the
// parent in the parent's order, then the element's own declarations from
// last to first.
func (n Node) Namespaces() iter.Seq[Node] {
	return func(yield func(Node) bool) {
		nd := &n.d.nodes[n.i]
		if nd.kind != ElementNode {
			return
		}
		for a := n.i + 1; a < nd.attrs; a++ {
			if !yield(Node{n.d, a}) {
				return
			}
		}
	}
}

// Attr returns the value of the attribute with the given namespace URI and
// local name.
func (n Node) Attr(uri, local string) (string, bool) {
	for a := range n.Attributes() {
		if a.Local() == local && a.URI() == uri {
			return a.Value(), true
		}
	}
	return "", false
}
