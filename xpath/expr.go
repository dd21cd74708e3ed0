package xpath

import (
	"math"
	"math/bits"
	"slices"
)

// dep records whether an expression reads the context position or size,
// so that a predicate that reads neither can be evaluated node by node as
// an axis is walked instead of over the collected candidates.
type dep uint8

const (
	depPos  dep = 1 << iota // position()
	depLast                 // last()
)

// expr is a compiled expression. Implementations are never modified
// after compilation: all evaluation state lives in state and focus.
type expr interface {
	typ() Type
	deps() dep
	eval(st *state, c focus) val
}

// nodeExpr is an expression of type NodeSet.
type nodeExpr interface {
	expr
	// nodes returns the node-set in document order without duplicates,
	// in a buffer the caller must give back with st.put.
	nodes(st *state, c focus) []int32
	// exists reports whether the node-set is non-empty, stopping early
	// where it can.
	exists(st *state, c focus) bool
}

type numLit struct{ v float64 }

func (*numLit) typ() Type                { return Number }
func (*numLit) deps() dep                { return 0 }
func (e *numLit) eval(*state, focus) val { return val{t: Number, n: e.v} }

type strLit struct{ s string }

func (*strLit) typ() Type                { return String }
func (*strLit) deps() dep                { return 0 }
func (e *strLit) eval(*state, focus) val { return val{t: String, s: e.s} }

// negExpr is one or more unary minus signs: -x if odd, else number(x).
type negExpr struct {
	x   expr
	odd bool
}

func (*negExpr) typ() Type   { return Number }
func (e *negExpr) deps() dep { return e.x.deps() }

func (e *negExpr) eval(st *state, c focus) val {
	f := st.evalNum(e.x, c)
	if e.odd {
		f = -f
	}
	return val{t: Number, n: f}
}

// op is a binary operator.
type op uint8

const (
	opOr op = iota
	opAnd
	opEq
	opNe
	opLt
	opLe
	opGt
	opGe
	opAdd
	opSub
	opMul
	opDiv
	opMod
)

// binExpr is a binary operator other than '|'.
type binExpr struct {
	op   op
	t    Type
	l, r expr
}

func (e *binExpr) typ() Type { return e.t }
func (e *binExpr) deps() dep { return e.l.deps() | e.r.deps() }

func (e *binExpr) eval(st *state, c focus) val {
	switch e.op {
	case opOr:
		return val{t: Boolean, b: st.evalBool(e.l, c) || st.evalBool(e.r, c)}
	case opAnd:
		return val{t: Boolean, b: st.evalBool(e.l, c) && st.evalBool(e.r, c)}
	case opEq, opNe, opLt, opLe, opGt, opGe:
		return val{t: Boolean, b: st.compare(e.op, e.l, e.r, c)}
	}
	x := st.evalNum(e.l, c)
	y := st.evalNum(e.r, c)
	var z float64
	switch e.op {
	case opAdd:
		z = x + y
	case opSub:
		z = x - y
	case opMul:
		z = x * y
	case opDiv:
		z = x / y
	case opMod:
		// IEEE remainder truncated towards zero, as in Java and C's fmod:
		// the result has the sign of the dividend (REC-xpath §3.5).
		z = math.Mod(x, y)
	}
	return val{t: Number, n: z}
}

// unionExpr is l | r.
type unionExpr struct{ l, r nodeExpr }

func (*unionExpr) typ() Type                     { return NodeSet }
func (e *unionExpr) deps() dep                   { return e.l.deps() | e.r.deps() }
func (e *unionExpr) eval(st *state, c focus) val { return val{t: NodeSet, ns: e.nodes(st, c)} }

func (e *unionExpr) nodes(st *state, c focus) []int32 {
	a := e.l.nodes(st, c)
	b := e.r.nodes(st, c)
	st.charge(len(a) + len(b))
	out := st.buf()
	out = mergeNodes(out, a, b)
	st.put(a)
	st.put(b)
	return out
}

func (e *unionExpr) exists(st *state, c focus) bool {
	return e.l.exists(st, c) || e.r.exists(st, c)
}

// mergeNodes appends the union of two sorted, duplicate-free lists.
func mergeNodes(out, a, b []int32) []int32 {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] < b[j]:
			out = append(out, a[i])
			i++
		case a[i] > b[j]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i++
			j++
		}
	}
	out = append(out, a[i:]...)
	return append(out, b[j:]...)
}

// step is one location step: axis, node test and predicates.
type step struct {
	axis  axis
	test  nodeTest
	preds []expr
	// positional is set if some predicate reads position() or last() or
	// is a number, so candidates must be collected before filtering.
	positional bool
}

// pathExpr is a location path, or a filter expression followed by a
// relative location path (REC-xpath [19]).
type pathExpr struct {
	start nodeExpr // filter expression the path starts from, or nil
	abs   bool     // starts at the root node
	steps []step
}

func (*pathExpr) typ() Type                     { return NodeSet }
func (e *pathExpr) eval(st *state, c focus) val { return val{t: NodeSet, ns: e.nodes(st, c)} }

// deps: a path's own predicates have their own context; only a filter
// expression it starts from reads this one's.
func (e *pathExpr) deps() dep {
	if e.start != nil {
		return e.start.deps()
	}
	return 0
}

// origin returns the node-set the steps start from.
func (e *pathExpr) origin(st *state, c focus) []int32 {
	if e.start != nil {
		return e.start.nodes(st, c)
	}
	b := st.buf()
	if e.abs {
		return append(b, 0)
	}
	return append(b, c.n)
}

func (e *pathExpr) nodes(st *state, c focus) []int32 {
	cur := e.origin(st, c)
	for i := range e.steps {
		if len(cur) == 0 || st.exhausted() {
			break
		}
		next := st.step(&e.steps[i], cur)
		st.put(cur)
		cur = next
	}
	return cur
}

// exists evaluates all steps but the last, then looks for one node of the
// last step, stopping at the first (unless its predicates are positional).
func (e *pathExpr) exists(st *state, c focus) bool {
	if len(e.steps) == 0 {
		if e.start != nil {
			return e.start.exists(st, c)
		}
		return true
	}
	cur := e.origin(st, c)
	last := len(e.steps) - 1
	for i := range e.steps[:last] {
		if len(cur) == 0 || st.exhausted() {
			break
		}
		next := st.step(&e.steps[i], cur)
		st.put(cur)
		cur = next
	}
	s := &e.steps[last]
	found := false
	if s.positional {
		if len(cur) > 0 && !st.exhausted() {
			next := st.step(s, cur)
			found = len(next) > 0
			st.put(next)
		}
	} else {
		tmp := st.buf()
		var one [1]int32
		skip := int32(-1)
	search:
		for _, n := range st.reduce(s.axis, cur, one[:0]) {
			if st.exhausted() {
				break
			}
			if st.covered(s.axis, n, &skip) {
				continue
			}
			tmp = st.axis(s.axis, &s.test, n, tmp[:0])
		candidates:
			for _, m := range tmp {
				for _, p := range s.preds {
					if !st.predicate(p, focus{n: m}) {
						continue candidates
					}
				}
				found = true
				break search
			}
		}
		st.put(tmp)
	}
	st.put(cur)
	return found && !st.exhausted()
}

// step applies a location step to every node of in and returns the union
// of the results, in document order.
func (st *state) step(s *step, in []int32) []int32 {
	out := st.buf()
	sorted := true
	last := int32(-1)
	var tmp []int32
	var one [1]int32
	if s.positional {
		tmp = st.buf()
	} else {
		in = st.reduce(s.axis, in, one[:0])
	}
	skip := int32(-1)
	for _, n := range in {
		if st.exhausted() {
			break
		}
		if !s.positional && st.covered(s.axis, n, &skip) {
			continue
		}
		start := len(out)
		if !s.positional {
			out = st.axis(s.axis, &s.test, n, out)
			if len(s.preds) > 0 {
				k := start
				for _, m := range out[start:] {
					ok := true
					for _, p := range s.preds {
						if !st.predicate(p, focus{n: m}) {
							ok = false
							break
						}
					}
					if ok {
						out[k] = m
						k++
					}
				}
				out = out[:k]
			}
		} else {
			tmp = st.axis(s.axis, &s.test, n, tmp[:0])
			if s.axis.reverse() {
				reverseNodes(tmp) // proximity order for the predicates
				tmp = st.filter(s.preds, tmp)
				reverseNodes(tmp)
			} else {
				tmp = st.filter(s.preds, tmp)
			}
			out = append(out, tmp...)
		}
		if len(out) > start {
			if out[start] <= last {
				sorted = false
			}
			last = out[len(out)-1]
		}
	}
	if tmp != nil {
		st.put(tmp)
	}
	if !sorted && st.charge(len(out)*bits.Len(uint(len(out)))) {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out
}

// reduce returns, for a step whose predicates do not depend on position,
// the context nodes that give the whole result on the following and
// preceding axes, whose results nest: following(n) is every node (but
// attributes and namespace nodes) from where n's subtree ends, so the node
// whose subtree ends first covers the others; preceding(n) is every such
// node whose subtree ends before n, so the last node covers the others.
// This keeps //x/following::y linear. Other axes keep in; one is scratch
// space for the single node.
func (st *state) reduce(a axis, in, one []int32) []int32 {
	if len(in) < 2 {
		return in
	}
	switch a {
	case axFollowing:
		best, bestStart := in[0], int32(math.MaxInt32)
		for _, n := range in {
			start := st.d.nodes[n].end
			if st.d.isAttrOrNS(n) {
				start = n + 1
			}
			if start < bestStart {
				best, bestStart = n, start
			}
		}
		st.charge(len(in))
		return append(one, best)
	case axPreceding:
		return append(one, in[len(in)-1])
	}
	return in
}

// covered reports, for the descendant axes, whether context node n lies
// inside the subtree of an earlier context node, which already gave all
// of n's descendants (context nodes come in document order); *skip is
// where the last such subtree ends. Attributes and namespace nodes are
// never covered: descendant-or-self of one is itself.
func (st *state) covered(a axis, n int32, skip *int32) bool {
	if a != axDescendant && a != axDescendantOrSelf || st.d.isAttrOrNS(n) {
		return false
	}
	if n < *skip {
		return true
	}
	*skip = st.d.nodes[n].end
	return false
}

// filterExpr is a primary expression (of type node-set) with predicates,
// whose positions count in document order (REC-xpath §3.3).
type filterExpr struct {
	x     nodeExpr
	preds []expr
}

func (*filterExpr) typ() Type                     { return NodeSet }
func (e *filterExpr) deps() dep                   { return e.x.deps() }
func (e *filterExpr) eval(st *state, c focus) val { return val{t: NodeSet, ns: e.nodes(st, c)} }

func (e *filterExpr) nodes(st *state, c focus) []int32 {
	return st.filter(e.preds, e.x.nodes(st, c))
}

func (e *filterExpr) exists(st *state, c focus) bool {
	ns := e.nodes(st, c)
	st.put(ns)
	return len(ns) > 0 && !st.exhausted()
}

// attrExpr is the relative path @name (attribute::name without
// predicates), the commonest operand in filters. An element has at most
// one attribute of a given name, so it is found without a node buffer.
type attrExpr struct{ test nodeTest }

func (*attrExpr) typ() Type { return NodeSet }
func (*attrExpr) deps() dep { return 0 }

func (e *attrExpr) eval(st *state, c focus) val { return val{t: NodeSet, ns: e.nodes(st, c)} }

// find returns the attribute's index, or -1.
func (e *attrExpr) find(st *state, c focus) int32 {
	d := st.d
	nd := &d.nodes[c.n]
	if nd.kind != ElementNode {
		return -1
	}
	st.charge(1 + int(nd.first-nd.attrs))
	for a := nd.attrs; a < nd.first; a++ {
		an := &d.nodes[a]
		if d.strs[an.local:an.name.end] == e.test.local && d.uris[an.uri] == e.test.uri {
			return a
		}
	}
	return -1
}

func (e *attrExpr) nodes(st *state, c focus) []int32 {
	b := st.buf()
	if a := e.find(st, c); a >= 0 {
		b = append(b, a)
	}
	return b
}

func (e *attrExpr) exists(st *state, c focus) bool { return e.find(st, c) >= 0 }
