package xpath

import "slices"

// axis is one of the 13 axes of REC-xpath §2.2.
type axis uint8

const (
	axChild axis = iota
	axDescendant
	axDescendantOrSelf
	axParent
	axAncestor
	axAncestorOrSelf
	axFollowingSibling
	axPrecedingSibling
	axFollowing
	axPreceding
	axAttribute
	axNamespace
	axSelf
)

var axisNames = map[string]axis{
	"child": axChild, "descendant": axDescendant, "descendant-or-self": axDescendantOrSelf,
	"parent": axParent, "ancestor": axAncestor, "ancestor-or-self": axAncestorOrSelf,
	"following-sibling": axFollowingSibling, "preceding-sibling": axPrecedingSibling,
	"following": axFollowing, "preceding": axPreceding, "attribute": axAttribute,
	"namespace": axNamespace, "self": axSelf,
}

// reverse reports whether positions along the axis count in reverse
// document order.
func (a axis) reverse() bool {
	switch a {
	case axParent, axAncestor, axAncestorOrSelf, axPrecedingSibling, axPreceding:
		return true
	}
	return false
}

// principal is the axis's principal node type, the kind '*' and name tests select.
func (a axis) principal() Kind {
	switch a {
	case axAttribute:
		return AttributeNode
	case axNamespace:
		return NamespaceNode
	}
	return ElementNode
}

// testKind says what a node test accepts.
type testKind uint8

const (
	testNode      testKind = iota // node()
	testPrincipal                 // *: any node of the principal type
	testName                      // a name: principal type, local name and URI
	testURI                       // prefix:*: principal type in a namespace
	testText                      // text()
	testComment                   // comment()
	testPI                        // processing-instruction(), with target if named
)

type nodeTest struct {
	kind      testKind
	principal Kind
	named     bool   // processing-instruction('target')
	local     string // name, or PI target
	uri       string
}

// match applies the node test to node i.
func (d *Document) match(t *nodeTest, i int32) bool {
	nd := &d.nodes[i]
	switch t.kind {
	case testNode:
		return true
	case testPrincipal:
		return nd.kind == t.principal
	case testName:
		if nd.kind != t.principal || d.strs[nd.local:nd.name.end] != t.local {
			return false
		}
		if nd.kind == NamespaceNode { // a namespace node's name has no URI
			return t.uri == ""
		}
		return d.uris[nd.uri] == t.uri
	case testURI:
		return nd.kind == t.principal && nd.kind != NamespaceNode && d.uris[nd.uri] == t.uri
	case testText:
		return nd.kind == TextNode
	case testComment:
		return nd.kind == CommentNode
	case testPI:
		return nd.kind == ProcInstNode && (!t.named || d.strs[nd.local:nd.name.end] == t.local)
	}
	return false
}

// uriIndex returns the index of uri in d.uris, or -1.
func (d *Document) uriIndex(uri string) int32 {
	for i, u := range d.uris {
		if u == uri {
			return int32(i)
		}
	}
	return -1
}

// value is the string-value of node i (see Node.Value).
func (d *Document) value(i int32) string {
	nd := &d.nodes[i]
	switch nd.kind {
	case RootNode, ElementNode, TextNode:
		return d.text[nd.val.start:nd.val.end]
	case NamespaceNode:
		return d.uris[nd.uri]
	}
	return d.strs[nd.val.start:nd.val.end]
}

// isAttrOrNS reports whether node i is an attribute or namespace node,
// which no axis but attribute and namespace (and self, parent, ancestor
// from them) reaches.
func (d *Document) isAttrOrNS(i int32) bool {
	k := d.nodes[i].kind
	return k == AttributeNode || k == NamespaceNode
}

// axis appends to out, in document order, the nodes on axis a from node n
// that pass test t, and charges one unit per node visited.
//
// The document is a flat slice in document order (see Document): an
// element's namespace nodes, attributes and then its subtree follow it, up
// to its end; `first` is its first child and each child's end is the next
// sibling. So descendants are a range scan that jumps over attribute
// blocks, siblings a chain of ends, and ancestry an interval test.
func (st *state) axis(a axis, t *nodeTest, n int32, out []int32) []int32 {
	d := st.d
	nodes := d.nodes
	nd := &nodes[n]
	visited := 1
	switch a {
	case axSelf:
		if d.match(t, n) {
			out = append(out, n)
		}
	case axChild:
		if nd.kind != RootNode && nd.kind != ElementNode {
			break
		}
		for c := nd.first; c < nd.end; c = nodes[c].end {
			visited++
			if d.match(t, c) {
				out = append(out, c)
			}
		}
	case axDescendant, axDescendantOrSelf:
		if a == axDescendantOrSelf && d.match(t, n) {
			out = append(out, n)
		}
		if nd.kind != RootNode && nd.kind != ElementNode {
			break
		}
		end := nd.end
		if t.principal == ElementNode && (t.kind == testName || t.kind == testPrincipal) {
			// The hot loop of every //Name filter: a scan of the
			// element list from the first element after n.
			k, _ := slices.BinarySearch(d.elems, n+1)
			elems, names := d.elems[k:], d.elemNames[k:]
			if t.kind == testPrincipal {
				for _, i := range elems {
					if i >= end {
						break
					}
					visited++
					out = append(out, i)
				}
				break
			}
			local, uri := t.local, d.uriIndex(t.uri)
			if uri < 0 {
				break // no element of the document is in that namespace
			}
			for j, i := range elems {
				if i >= end {
					break
				}
				visited++
				if names[j] == local && nodes[i].uri == uri {
					out = append(out, i)
				}
			}
			break
		}
		for i := nd.first; i < end; {
			visited++
			if d.match(t, i) {
				out = append(out, i)
			}
			if nodes[i].kind == ElementNode {
				i = nodes[i].first
			} else {
				i++
			}
		}
	case axParent:
		if nd.parent >= 0 && d.match(t, nd.parent) {
			out = append(out, nd.parent)
		}
	case axAncestor, axAncestorOrSelf:
		start := len(out)
		if a == axAncestorOrSelf && d.match(t, n) {
			out = append(out, n)
		}
		for p := nd.parent; p >= 0; p = nodes[p].parent {
			visited++
			if d.match(t, p) {
				out = append(out, p)
			}
		}
		reverseNodes(out[start:])
	case axFollowingSibling:
		if nd.parent < 0 || d.isAttrOrNS(n) {
			break
		}
		pend := nodes[nd.parent].end
		for c := nd.end; c < pend; c = nodes[c].end {
			visited++
			if d.match(t, c) {
				out = append(out, c)
			}
		}
	case axPrecedingSibling:
		if nd.parent < 0 || d.isAttrOrNS(n) {
			break
		}
		for c := nodes[nd.parent].first; c < n; c = nodes[c].end {
			visited++
			if d.match(t, c) {
				out = append(out, c)
			}
		}
	case axFollowing:
		// Everything after n that is not a descendant of it: for an
		// attribute or namespace node that includes its element's
		// children (libxml2 leaves them out: see the package doc).
		i := nd.end
		if d.isAttrOrNS(n) {
			i = n + 1
		}
		for i < int32(len(nodes)) {
			visited++
			c := &nodes[i]
			switch c.kind {
			case AttributeNode, NamespaceNode:
				i++
				continue
			}
			if d.match(t, i) {
				out = append(out, i)
			}
			if c.kind == ElementNode {
				i = c.first
			} else {
				i++
			}
		}
	case axPreceding:
		// Everything before n but its ancestors (whose subtrees contain n).
		for i := int32(1); i < n; {
			visited++
			c := &nodes[i]
			switch c.kind {
			case AttributeNode, NamespaceNode:
				i++
				continue
			}
			if c.end <= n && d.match(t, i) {
				out = append(out, i)
			}
			if c.kind == ElementNode {
				i = c.first
			} else {
				i++
			}
		}
	case axAttribute:
		if nd.kind != ElementNode {
			break
		}
		for i := nd.attrs; i < nd.first; i++ {
			visited++
			if d.match(t, i) {
				out = append(out, i)
			}
		}
	case axNamespace:
		if nd.kind != ElementNode {
			break
		}
		for i := n + 1; i < nd.attrs; i++ {
			visited++
			if d.match(t, i) {
				out = append(out, i)
			}
		}
	}
	st.charge(visited)
	return out
}

func reverseNodes(s []int32) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}
