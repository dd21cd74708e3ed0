package voevent

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"comet/xpath"
)

// Namespaces a validator meets besides the VOEvent one.
const (
	xsiNamespace = "http://www.w3.org/2001/XMLSchema-instance"
	xsdNamespace = "http://www.w3.org/2001/XMLSchema"
)

// Error is a reason an event fails [Validate]: the first violation of the
// VOEvent schema chosen by the root's namespace or of the IVOID rule, in
// document order, with the line of the element, attribute or text at
// fault.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// errorf makes an Error. Names, URIs and values from the document must
// be passed through Clip, or show.
func errorf(line int, format string, args ...any) *Error {
	return &Error{Line: line, Msg: clipMessage(fmt.Sprintf(format, args...))}
}

// show prepares a name or namespace URI from the document for a message:
// clipped, and quoted if it holds white space other than spaces or
// anything else unprintable (a URI may: xmlns:p="a&#10;b").
func show(s string) string {
	s = Clip(s)
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return strconv.Quote(s)
	}
	return s
}

// Validate applies the checks an author's submission gets, besides
// de-duplication: e must be valid against the VOEvent schema its root
// element's namespace names (VOEvent-v2.0.xsd or VOEvent-v2.1-draft.xsd;
// see [Version]), with the verdict libxml2 (xmllint --schema) gives, and
// its ivorn must be an IVOID with a non-empty local part (see
// [ValidIVORN]; a 2.1 event may also separate it with '?'). It returns
// nil or an *Error naming the first problem.
//
// Validate only reads e.Doc, so events may be validated concurrently;
// validating a typical valid event allocates nothing.
func Validate(e *Event) error {
	if e == nil || e.Doc == nil {
		return &Error{Line: 1, Msg: "no document"}
	}
	root := e.Doc.Element()
	s := schemaFor(root.URI())
	if root.Local() != "VOEvent" || s == nil {
		if root.URI() == "" {
			return errorf(root.Line(), "root element %s is in no namespace, not %s", show(root.QName()), namespaceList)
		}
		if root.Local() == "VOEvent" {
			return errorf(root.Line(), "root element %s is in namespace %s, not %s", show(root.QName()), show(root.URI()), namespaceList)
		}
		return errorf(root.Line(), "root element %s (namespace %s) is not a VOEvent", show(root.QName()), show(root.URI()))
	}
	v := validator{cdata: e.cdata, s: s}
	if err := v.element(root, &s.root); err != nil {
		return err
	}
	return nil
}

// Version returns the VOEvent version whose schema Validate applies to e,
// chosen by the namespace of its root element alone: "2.0", "2.1", or ""
// if the root is not a VOEvent element in one of those namespaces.
func Version(e *Event) string {
	if e == nil || e.Doc == nil {
		return ""
	}
	root := e.Doc.Element()
	if s := schemaFor(root.URI()); s != nil && root.Local() == "VOEvent" {
		return s.version
	}
	return ""
}

type validator struct {
	cdata []int32 // indexes of the elements with a CDATA section child, sorted
	s     *schemaSet
	ids   idSet
}

// element validates n, declared by d, and its subtree.
func (v *validator) element(n xpath.Node, d *elemDecl) error {
	name := n.Local()
	t, st, err := v.attributes(n, d, d.typ, d.st)
	if err != nil {
		return err
	}

	if t == nil || t.model == mSimple {
		if t != nil {
			st = t.st
		}
		return v.simpleContent(n, st)
	}

	var seen uint32  // mAll: the children met, one bit each
	count := 0       // mChoice: the children met
	pos, cnt := 0, 0 // mSequence: the current particle and its occurrences
	for c := range n.Children() {
		switch c.Kind() {
		case xpath.TextNode:
			s := c.Value()
			if t.model == mEmpty {
				return errorf(c.Line(), "%s: character data not allowed: %s must be empty", name, name)
			}
			if !allBlank(s) {
				return errorf(textLine(c), "%s: text %s not allowed: %s has element-only content", name, quoteText(s), name)
			}
			continue
		case xpath.ElementNode:
		default:
			continue // comments and processing instructions
		}
		local := c.Local()
		if c.URI() != "" {
			return errorf(c.Line(), "%s: element %s (namespace %s) not allowed: the children of %s are in no namespace", name, show(c.QName()), show(c.URI()), name)
		}
		var cd *elemDecl
		switch t.model {
		case mEmpty:
			return errorf(c.Line(), "%s: element %s not allowed: %s must be empty", name, show(local), name)
		case mAll:
			j := t.child(local)
			if j < 0 {
				return errorf(c.Line(), "%s: element %s not allowed (expected %s)", name, show(local), t.expect)
			}
			if seen&(1<<j) != 0 {
				return errorf(c.Line(), "%s: element %s not allowed: it may appear only once", name, local)
			}
			seen |= 1 << j
			cd = &t.elems[j]
		case mChoice:
			j := t.child(local)
			if j < 0 {
				return errorf(c.Line(), "%s: element %s not allowed (expected %s)", name, show(local), t.expect)
			}
			count++
			cd = &t.elems[j]
		case mSequence:
			start, startCnt := pos, cnt
			for {
				if pos == len(t.elems) {
					return t.notHere(c, name, local, start, startCnt)
				}
				e := &t.elems[pos]
				if e.name == local {
					if cnt == e.max {
						return errorf(c.Line(), "%s: element %s not allowed: it may appear only %s", name, local, times(e.max))
					}
					cnt++
					break
				}
				if cnt < e.min {
					return t.notHere(c, name, local, start, startCnt)
				}
				pos, cnt = t.after(pos, cnt), 0
			}
			cd = &t.elems[pos]
		}
		if err := v.element(c, cd); err != nil {
			return err
		}
	}
	if v.hasCDATA(n) {
		if t.model == mEmpty {
			return errorf(n.Line(), "%s: CDATA section not allowed: %s must be empty", name, name)
		}
		return errorf(n.Line(), "%s: CDATA section not allowed: %s has element-only content", name, name)
	}

	switch t.model {
	case mAll:
		for j := range t.elems {
			if t.elems[j].min > 0 && seen&(1<<j) == 0 {
				return errorf(n.Line(), "%s: missing child element %s", name, t.elems[j].name)
			}
		}
	case mChoice:
		if count == 0 && !t.emptiable() {
			return errorf(n.Line(), "%s: missing child element (expected one of %s)", name, t.expect)
		}
	case mSequence:
		for ; pos < len(t.elems); pos, cnt = t.after(pos, cnt), 0 {
			if cnt < t.elems[pos].min {
				return errorf(n.Line(), "%s: missing child element %s", name, t.elems[pos].name)
			}
		}
	}
	return nil
}

// attributes checks n's attributes against its type, t or st (t nil: a
// simple type, which allows none), and the IVOID rule on the root's ivorn.
// An xsi:type attribute, wherever it stands, changes the type first: all
// attributes are checked against the type it names, which attributes
// returns (it may allow more than the declared type: one with simple
// content may extend a built-in type).
//
// libxml2 ignores xsi:schemaLocation and xsi:noNamespaceSchemaLocation
// when it is given the schema, and no element of this schema is nillable.
func (v *validator) attributes(n xpath.Node, d *elemDecl, t *complexType, st simpleType) (*complexType, simpleType, error) {
	name := n.Local()
	for a := range n.Attributes() {
		if a.URI() == xsiNamespace && a.Local() == "type" {
			var err error
			if t, st, err = v.s.xsiType(n, a, d); err != nil {
				return nil, 0, err
			}
			break
		}
	}
	var seen uint32
	for a := range n.Attributes() {
		uri := a.URI()
		if uri == xsiNamespace {
			switch a.Local() {
			case "type":
				continue
			case "nil":
				if b := trimBlank(a.Value()); b != "true" && b != "false" && b != "1" && b != "0" {
					return nil, 0, errorf(a.Line(), "%s: attribute %s: %q is not a valid xs:boolean", name, show(a.QName()), Clip(a.Value()))
				}
				return nil, 0, errorf(a.Line(), "%s: attribute %s: element %s is not nillable", name, show(a.QName()), name)
			case "schemaLocation", "noNamespaceSchemaLocation":
				continue
			}
		}
		j := -1
		if uri == "" && t != nil {
			j = t.attr(a.Local())
		}
		if j < 0 {
			if uri != "" {
				return nil, 0, errorf(a.Line(), "%s: attribute %s (namespace %s) not allowed", name, show(a.QName()), show(uri))
			}
			return nil, 0, errorf(a.Line(), "%s: attribute %s not allowed", name, show(a.QName()))
		}
		seen |= 1 << j
		ad := &t.attrs[j]
		val := a.Value()
		if msg := checkSimple(ad.st, val); msg != "" {
			return nil, 0, errorf(a.Line(), "%s: attribute %s: %s", name, ad.name, msg)
		}
		if ad.fixed != "" && trimBlank(val) != ad.fixed {
			return nil, 0, errorf(a.Line(), "%s: attribute %s: %q must be %s", name, ad.name, Clip(val), ad.fixed)
		}
		if ad.st == tID && !v.ids.add(val) {
			return nil, 0, errorf(a.Line(), "%s: attribute %s: %q is the id of an earlier element: xs:ID values must be unique", name, ad.name, Clip(trimBlank(val)))
		}
		if t == v.s.root.typ && ad.name == "ivorn" {
			if msg := ivornProblem(val, v.s.separators); msg != "" {
				return nil, 0, errorf(a.Line(), "%s: attribute ivorn: %q is not a valid IVORN: %s", name, Clip(val), msg)
			}
		}
	}
	if t != nil {
		for j := range t.attrs {
			if t.attrs[j].required && seen&(1<<j) == 0 {
				return nil, 0, errorf(n.Line(), "%s: missing required attribute %s", name, t.attrs[j].name)
			}
		}
	}
	return t, st, nil
}

func (t *complexType) attr(name string) int {
	for i := range t.attrs {
		if t.attrs[i].name == name {
			return i
		}
	}
	return -1
}

// simpleContent checks an element of simple type st: character data only.
func (v *validator) simpleContent(n xpath.Node, st simpleType) error {
	name := n.Local()
	for c := range n.Children() {
		if c.Kind() == xpath.ElementNode {
			return errorf(c.Line(), "%s: element %s not allowed: %s has simple content", name, show(c.QName()), name)
		}
	}
	if msg := checkSimple(st, n.Value()); msg != "" {
		return errorf(n.Line(), "%s: %s", name, msg)
	}
	return nil
}

// hasCDATA reports whether a CDATA section is a direct child of n.
func (v *validator) hasCDATA(n xpath.Node) bool {
	if len(v.cdata) == 0 {
		return false
	}
	_, found := slices.BinarySearch(v.cdata, int32(n.Index()))
	return found
}

// checkSimple validates s against st and returns "" or what is wrong.
func checkSimple(st simpleType, s string) string {
	ok := true
	what := ""
	switch st {
	case tString, tNormalizedString, tToken:
		return ""
	case tAnyURI:
		ok, what = validAnyURI(s), "xs:anyURI"
	case tDateTime:
		ok, what = validDateTime(s), "xs:dateTime"
	case tFloat:
		ok, what = validFloat(s), "xs:float"
	case tSmallFloat:
		if !validFloat(s) {
			ok, what = false, "xs:float"
		} else if !validSmallFloat(s) {
			return fmt.Sprintf("%q is not between 0.0 and 1.0", Clip(s))
		}
	case tID:
		ok, what = validNCName(s), "xs:ID (an NCName)"
	case tNCName, tIDREF:
		ok, what = validNCName(s), "xs:NCName"
	case tName:
		ok, what = validName4(trimBlank(s)), "xs:Name"
	case tNMTOKEN:
		ok, what = validNMTOKEN(s), "xs:NMTOKEN"
	case tLanguage:
		ok, what = validLanguage(s), "xs:language"
	case tENTITY:
		return fmt.Sprintf("%q is not a declared unparsed entity", Clip(s))
	case tRoleValues, tDataType, tIDValues, tCiteValues, tContributorRole:
		if slices.Contains(enums[st].values, s) {
			return ""
		}
		return fmt.Sprintf("%q is not one of %s", Clip(s), enums[st].list)
	}
	if ok {
		return ""
	}
	return fmt.Sprintf("%q is not a valid %s", Clip(s), what)
}

// xsiType resolves an xsi:type attribute on n, declared by d, and returns
// the type it substitutes. Only types validly derived from the declared
// one are allowed; the VOEvent schemas derive none of their complex types
// from another, so that is the declared type itself, or, for an element of
// a built-in type (xs:string, xs:float), a simple type restricting it or a
// complex type with simple content extending it.
func (s *schemaSet) xsiType(n, a xpath.Node, d *elemDecl) (*complexType, simpleType, error) {
	q := a.Value() // libxml2 does not strip white space here
	prefix, local, found := strings.Cut(q, ":")
	if !found {
		prefix, local = "", q
	}
	bad := func(why string) (*complexType, simpleType, error) {
		return nil, 0, errorf(a.Line(), "%s: attribute %s: %q %s", n.Local(), show(a.QName()), Clip(a.Value()), why)
	}
	ncname := func(s string) bool { return validNCName(s) && trimBlank(s) == s }
	if !ncname(local) || found && !ncname(prefix) {
		return bad("is not a valid QName")
	}
	uri, ok := "", prefix == ""
	for ns := range n.Namespaces() {
		if ns.Local() == prefix {
			uri, ok = ns.Value(), true
		}
	}
	if !ok {
		return bad("uses an undeclared prefix")
	}
	notDerived := func() (*complexType, simpleType, error) {
		return bad("does not name a type derived from the declared type of " + n.Local())
	}
	switch uri {
	case s.namespace:
		for _, t := range s.named {
			if t.name == local {
				// A complex type with simple content extends its simple
				// type, so it may replace an element of that type.
				if d.typ != t && !(d.typ == nil && t.model == mSimple && d.st == t.st) {
					return notDerived()
				}
				return t, 0, nil
			}
		}
		for _, n := range s.simple {
			if n.name == local {
				if d.typ != nil || d.st != n.base {
					return notDerived()
				}
				return nil, n.st, nil
			}
		}
		return bad("does not name a type")
	case xsdNamespace:
		var st, base simpleType
		switch local {
		case "string":
			st, base = tString, tString
		case "normalizedString":
			st, base = tNormalizedString, tString
		case "token":
			st, base = tToken, tString
		case "language":
			st, base = tLanguage, tString
		case "Name":
			st, base = tName, tString
		case "NCName":
			st, base = tNCName, tString
		case "ID":
			st, base = tID, tString
		case "IDREF":
			st, base = tIDREF, tString
		case "ENTITY":
			st, base = tENTITY, tString
		case "NMTOKEN":
			st, base = tNMTOKEN, tString
		case "anyURI":
			st, base = tAnyURI, tAnyURI
		case "dateTime":
			st, base = tDateTime, tDateTime
		case "float":
			st, base = tFloat, tFloat
		default:
			return notDerived()
		}
		if d.typ != nil || d.st != base {
			return notDerived()
		}
		return nil, st, nil
	}
	return bad("does not name a type")
}

func times(n int) string {
	if n == 1 {
		return "once"
	}
	return fmt.Sprintf("%d times", n)
}

// textLine is the line of the first non-blank character of a text node.
func textLine(c xpath.Node) int {
	s := c.Value()
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return c.Line() + strings.Count(s[:i], "\n")
}

// quoteText quotes the start of a text for a message.
func quoteText(s string) string { return strconv.Quote(Clip(trimBlank(s))) }
