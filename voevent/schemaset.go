package voevent

import (
	"slices"
	"strings"

	"comet/xpath"
)

// Namespace21 is the namespace of VOEvent 2.1 events (an IVOA Proposed
// Recommendation; its schema is still a draft).
const Namespace21 = "http://www.ivoa.net/xml/VOEvent/v2.1"

// A schemaSet is one revision of the VOEvent schema: its tables, and the
// little Validate needs besides them. The root element's namespace
// chooses the set; everything else is shared, so a new revision is a new
// set of tables.
type schemaSet struct {
	version   string // the root's fixed version attribute
	namespace string // the schema's target namespace, the root's
	root      elemDecl
	named     []*complexType // the named complex types, which xsi:type may name
	anonymous []*complexType // the others
	simple    []namedSimple  // the named simple types, which xsi:type may name
	// separators are the characters that may end the IVOID of the
	// root's ivorn and start its local part.
	separators string
}

// namedSimple is a simple type of the schema's namespace: its name, what
// it checks and the built-in type it restricts.
type namedSimple struct {
	name     string
	st, base simpleType
}

var schema20 = schemaSet{
	version:   "2.0",
	namespace: Namespace,
	root:      elemDecl{name: "VOEvent", typ: voeventType, min: 1, max: 1},
	named:     namedComplexTypes,
	anonymous: []*complexType{authorType, voeventType},
	simple: []namedSimple{
		{"roleValues", tRoleValues, tString},
		{"dataType", tDataType, tString},
		{"idValues", tIDValues, tString},
		{"citeValues", tCiteValues, tString},
		{"smallFloat", tSmallFloat, tFloat},
	},
	separators: "#",
}

// schemas are the revisions Validate knows.
var schemas = []*schemaSet{&schema20, &schema21}

// namespaceList names the namespaces of schemas, for messages.
const namespaceList = Namespace + " or " + Namespace21

// schemaFor returns the revision whose namespace is uri, or nil.
func schemaFor(uri string) *schemaSet {
	for _, s := range schemas {
		if s.namespace == uri {
			return s
		}
	}
	return nil
}

// after is the particle of a sequence that follows particle i once it
// has been matched cnt times: alternatives to a matched particle are
// passed over.
func (t *complexType) after(i, cnt int) int {
	i++
	if cnt > 0 {
		for i < len(t.elems) && t.elems[i].alt {
			i++
		}
	}
	return i
}

// notHere is the error for child c (local name local) of a sequence of
// type t in element name, which no particle accepts where particle pos
// has been matched cnt times. It names the particles that could come
// next, up to the first required one, as libxml2 does.
func (t *complexType) notHere(c xpath.Node, name, local string, pos, cnt int) error {
	var next []string
	i := pos
	if cnt > 0 {
		if cnt != t.elems[pos].max {
			next = append(next, t.elems[pos].name)
		}
		i = t.after(pos, cnt)
	}
	for ; i < len(t.elems); i++ {
		next = append(next, t.elems[i].name)
		if t.elems[i].min > 0 {
			break
		}
	}
	if len(next) == 0 {
		return errorf(c.Line(), "%s: element %s not allowed here: nothing may follow", name, show(local))
	}
	return errorf(c.Line(), "%s: element %s not allowed here (expected %s)", name, show(local), strings.Join(next, ", "))
}

// idSet holds the values of the xs:ID attributes met so far in a
// document: libxml2 registers each and refuses one met before. A few are
// kept inline, so that a typical event costs no allocation; a map holds
// the rest, so that a hostile one costs linear time.
type idSet struct {
	few  [4]string
	n    int
	more map[string]struct{}
}

// add records the ID value v (white space collapsed, as the value of an
// NCName) and reports whether it is new.
func (s *idSet) add(v string) bool {
	v = trimBlank(v)
	if slices.Contains(s.few[:s.n], v) {
		return false
	}
	if s.n < len(s.few) {
		s.few[s.n] = v
		s.n++
		return true
	}
	if _, dup := s.more[v]; dup {
		return false
	}
	if s.more == nil {
		s.more = map[string]struct{}{}
	}
	s.more[v] = struct{}{}
	return true
}
