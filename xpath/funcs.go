package xpath

import (
	"math"
	"strings"
	"unicode/utf8"
)

// fnID names one of the 27 functions of the core library (REC-xpath §4).
type fnID uint8

const (
	fnLast fnID = iota
	fnPosition
	fnCount
	fnID_
	fnLocalName
	fnNamespaceURI
	fnName
	fnString
	fnConcat
	fnStartsWith
	fnContains
	fnSubstringBefore
	fnSubstringAfter
	fnSubstring
	fnStringLength
	fnNormalizeSpace
	fnTranslate
	fnBoolean
	fnNot
	fnTrue
	fnFalse
	fnLang
	fnNumber
	fnSum
	fnFloor
	fnCeiling
	fnRound
)

// funcDef describes a core function: its arity, its result type, and
// whether its arguments must be node-sets.
type funcDef struct {
	id       fnID
	name     string
	min, max int // max < 0: no limit
	ret      Type
	nodeArgs bool // every argument must be a node-set
}

var funcs = map[string]*funcDef{}

func init() {
	for _, f := range []funcDef{
		{fnLast, "last", 0, 0, Number, false},
		{fnPosition, "position", 0, 0, Number, false},
		{fnCount, "count", 1, 1, Number, true},
		{fnID_, "id", 1, 1, NodeSet, false},
		{fnLocalName, "local-name", 0, 1, String, true},
		{fnNamespaceURI, "namespace-uri", 0, 1, String, true},
		{fnName, "name", 0, 1, String, true},
		{fnString, "string", 0, 1, String, false},
		{fnConcat, "concat", 2, -1, String, false},
		{fnStartsWith, "starts-with", 2, 2, Boolean, false},
		{fnContains, "contains", 2, 2, Boolean, false},
		{fnSubstringBefore, "substring-before", 2, 2, String, false},
		{fnSubstringAfter, "substring-after", 2, 2, String, false},
		{fnSubstring, "substring", 2, 3, String, false},
		{fnStringLength, "string-length", 0, 1, Number, false},
		{fnNormalizeSpace, "normalize-space", 0, 1, String, false},
		{fnTranslate, "translate", 3, 3, String, false},
		{fnBoolean, "boolean", 1, 1, Boolean, false},
		{fnNot, "not", 1, 1, Boolean, false},
		{fnTrue, "true", 0, 0, Boolean, false},
		{fnFalse, "false", 0, 0, Boolean, false},
		{fnLang, "lang", 1, 1, Boolean, false},
		{fnNumber, "number", 0, 1, Number, false},
		{fnSum, "sum", 1, 1, Number, true},
		{fnFloor, "floor", 1, 1, Number, false},
		{fnCeiling, "ceiling", 1, 1, Number, false},
		{fnRound, "round", 1, 1, Number, false},
	} {
		funcs[f.name] = &f
	}
}

// call is a call of a core function other than id().
type call struct {
	fn   *funcDef
	args []expr
}

func (e *call) typ() Type { return e.fn.ret }

func (e *call) deps() dep {
	var d dep
	for _, a := range e.args {
		d |= a.deps()
	}
	switch e.fn.id {
	case fnPosition:
		d |= depPos
	case fnLast:
		d |= depLast
	}
	return d
}

func (e *call) eval(st *state, c focus) val {
	st.charge(2)
	a := e.args
	switch e.fn.id {
	case fnLast:
		return num(float64(c.size))
	case fnPosition:
		return num(float64(c.pos))
	case fnCount:
		ns := st.evalNodes(a[0], c)
		n := len(ns)
		st.put(ns)
		return num(float64(n))
	case fnLocalName, fnNamespaceURI, fnName:
		n := c.n
		if len(a) > 0 {
			ns := st.evalNodes(a[0], c)
			n = -1
			if len(ns) > 0 {
				n = ns[0]
			}
			st.put(ns)
		}
		return str(st.d.nameOf(e.fn.id, n))
	case fnString:
		if len(a) == 0 {
			return str(st.d.value(c.n))
		}
		return str(st.evalStr(a[0], c))
	case fnConcat:
		n := 0
		parts := make([]string, len(a))
		for i, x := range a {
			parts[i] = st.evalStr(x, c)
			n += len(parts[i])
		}
		if !st.chargeBuild(n) {
			return str("")
		}
		return str(strings.Join(parts, ""))
	case fnStartsWith:
		s, p := st.evalStr(a[0], c), st.evalStr(a[1], c)
		st.chargeScan(len(p))
		return boolean(strings.HasPrefix(s, p))
	case fnContains:
		s, p := st.evalStr(a[0], c), st.evalStr(a[1], c)
		st.chargeScan(len(s) + len(p))
		return boolean(strings.Contains(s, p))
	case fnSubstringBefore:
		s, p := st.evalStr(a[0], c), st.evalStr(a[1], c)
		st.chargeScan(len(s) + len(p))
		before, _, found := strings.Cut(s, p)
		if !found {
			return str("")
		}
		return str(before)
	case fnSubstringAfter:
		s, p := st.evalStr(a[0], c), st.evalStr(a[1], c)
		st.chargeScan(len(s) + len(p))
		_, after, found := strings.Cut(s, p)
		if !found {
			return str("")
		}
		return str(after)
	case fnSubstring:
		s := st.evalStr(a[0], c)
		start := st.evalNum(a[1], c)
		end := math.Inf(1)
		if len(a) == 3 {
			// Positions p are selected when round(start) <= p <
			// round(start) + round(length), in IEEE arithmetic: NaN
			// selects nothing, -Inf + Inf is NaN.
			end = round(start) + round(st.evalNum(a[2], c))
		}
		st.chargeScan(len(s))
		return str(substring(s, round(start), end))
	case fnStringLength:
		s := st.contextString(a, c)
		st.chargeScan(len(s))
		return num(float64(utf8.RuneCountInString(s)))
	case fnNormalizeSpace:
		s := st.contextString(a, c)
		if !st.chargeBuild(len(s)) {
			return str("")
		}
		return str(normalizeSpace(s))
	case fnTranslate:
		s, from, to := st.evalStr(a[0], c), st.evalStr(a[1], c), st.evalStr(a[2], c)
		// Each character of s is decoded, looked up in from and re-encoded.
		if !st.charge(len(s) * (4 + len(from)/2)) {
			return str("")
		}
		return str(translate(s, from, to))
	case fnBoolean:
		return boolean(st.evalBool(a[0], c))
	case fnNot:
		return boolean(!st.evalBool(a[0], c))
	case fnTrue:
		return boolean(true)
	case fnFalse:
		return boolean(false)
	case fnLang:
		return boolean(st.lang(st.evalStr(a[0], c), c.n))
	case fnNumber:
		if len(a) == 0 {
			s := st.d.value(c.n)
			st.chargeScan(len(s))
			return num(stringToNumber(s))
		}
		return num(st.evalNum(a[0], c))
	case fnSum:
		ns := st.evalNodes(a[0], c)
		sum := 0.0
		for _, n := range ns {
			s := st.d.value(n)
			if !st.chargeScan(len(s)) {
				break
			}
			sum += stringToNumber(s)
		}
		st.put(ns)
		return num(sum)
	case fnFloor:
		return num(math.Floor(st.evalNum(a[0], c)))
	case fnCeiling:
		return num(math.Ceil(st.evalNum(a[0], c)))
	case fnRound:
		return num(round(st.evalNum(a[0], c)))
	}
	panic("xpath: unhandled function " + e.fn.name) // unreachable: the compiler only builds calls of funcs
}

func num(f float64) val  { return val{t: Number, n: f} }
func str(s string) val   { return val{t: String, s: s} }
func boolean(b bool) val { return val{t: Boolean, b: b} }
func (st *state) contextString(a []expr, c focus) string {
	if len(a) == 0 {
		return st.d.value(c.n)
	}
	return st.evalStr(a[0], c)
}

// nameOf is local-name(), namespace-uri() or name() of node n (-1: none).
// Elements and attributes have all three; a processing instruction's
// local-name and name are its target, a namespace node's its prefix
// (REC-xpath §5.4, §5.5; libxml2 agrees); other nodes have none.
func (d *Document) nameOf(f fnID, n int32) string {
	if n < 0 {
		return ""
	}
	nd := &d.nodes[n]
	switch nd.kind {
	case ElementNode, AttributeNode:
		switch f {
		case fnLocalName:
			return d.strs[nd.local:nd.name.end]
		case fnNamespaceURI:
			return d.uris[nd.uri]
		}
		return d.strs[nd.name.start:nd.name.end]
	case ProcInstNode, NamespaceNode:
		if f == fnNamespaceURI {
			return ""
		}
		return d.strs[nd.local:nd.name.end]
	}
	return ""
}

// substring returns the characters of s at 1-based positions p with
// first <= p < end (REC-xpath §4.2); first and end are already rounded.
func substring(s string, first, end float64) string {
	lo := max(first, 1)
	if !(lo < end) { // NaN compares false: nothing selected
		return ""
	}
	i, p := 0, 1.0
	for i < len(s) && p < lo {
		_, n := utf8.DecodeRuneInString(s[i:])
		i += n
		p++
	}
	j := i
	for j < len(s) && p < end {
		_, n := utf8.DecodeRuneInString(s[j:])
		j += n
		p++
	}
	return s[i:j]
}

// normalizeSpace strips leading and trailing XML white space and replaces
// each run of it by one space; other Unicode spaces are kept.
func normalizeSpace(s string) string {
	s = trimSpace(s)
	clean := true
	for k := 0; k < len(s); k++ {
		if isSpace(s[k]) && (s[k] != ' ' || isSpace(s[k+1])) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for k := 0; k < len(s); k++ {
		if isSpace(s[k]) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(s[k])
	}
	return b.String()
}

// translate replaces in s each character of from by the character at the
// same position in to, or removes it if to is shorter; the first
// occurrence of a character in from decides (REC-xpath §4.2).
func translate(s, from, to string) string {
	if from == "" {
		return s
	}
	toRunes := []rune(to)
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		k := 0
		found := false
		for _, f := range from {
			if f == r {
				found = true
				break
			}
			k++
		}
		switch {
		case !found:
			b.WriteRune(r)
		case k < len(toRunes):
			b.WriteRune(toRunes[k])
		}
	}
	return b.String()
}

// lang implements lang(): the xml:lang of the nearest ancestor-or-self
// element that has one equals want or starts with want followed by '-',
// ignoring ASCII case (libxml2 folds ASCII only, and language tags are
// ASCII).
func (st *state) lang(want string, n int32) bool {
	d := st.d
	for ; n >= 0; n = d.nodes[n].parent {
		st.charge(1)
		nd := &d.nodes[n]
		if nd.kind != ElementNode {
			continue
		}
		for a := nd.attrs; a < nd.first; a++ {
			an := &d.nodes[a]
			if d.strs[an.local:an.name.end] != "lang" || d.uris[an.uri] != XMLNamespace {
				continue
			}
			have := d.strs[an.val.start:an.val.end]
			if len(have) < len(want) || !asciiEqualFold(have[:len(want)], want) {
				return false
			}
			return len(have) == len(want) || have[len(want)] == '-'
		}
	}
	return false
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// idCall is id(): the elements whose xml:id is one of the white-space
// separated tokens of the argument (of each node's string-value if it is a
// node-set). Documents never have a DTD here, so xml:id attributes are the
// only IDs; libxml2 also treats xml:id as an ID, and when two elements
// claim one it keeps the first.
type idCall struct{ arg expr }

func (*idCall) typ() Type   { return NodeSet }
func (e *idCall) deps() dep { return e.arg.deps() }
func (e *idCall) eval(st *state, c focus) val {
	return val{t: NodeSet, ns: e.nodes(st, c)}
}

func (e *idCall) exists(st *state, c focus) bool {
	ns := e.nodes(st, c)
	st.put(ns)
	return len(ns) > 0 && !st.exhausted()
}

func (e *idCall) nodes(st *state, c focus) []int32 {
	st.charge(1)
	want := map[string]bool{}
	add := func(s string) {
		for _, t := range strings.FieldsFunc(s, isSpaceRune) {
			want[t] = true
		}
	}
	if e.arg.typ() == NodeSet {
		ns := st.evalNodes(e.arg, c)
		for _, n := range ns {
			s := st.d.value(n)
			if !st.chargeBuild(len(s)) {
				break
			}
			add(s)
		}
		st.put(ns)
	} else {
		s := st.evalStr(e.arg, c)
		st.chargeBuild(len(s))
		add(s)
	}
	out := st.buf()
	if len(want) == 0 || st.exhausted() {
		return out
	}
	d := st.d
	st.charge(len(d.nodes))
	for i := int32(1); i < int32(len(d.nodes)); i++ {
		nd := &d.nodes[i]
		if nd.kind != AttributeNode || d.strs[nd.local:nd.name.end] != "id" || d.uris[nd.uri] != XMLNamespace {
			continue
		}
		// The first element to claim an ID keeps it.
		if v := d.strs[nd.val.start:nd.val.end]; want[v] {
			delete(want, v)
			out = append(out, nd.parent)
		}
	}
	return out
}

func isSpaceRune(r rune) bool { return r < utf8.RuneSelf && isSpace(byte(r)) }
