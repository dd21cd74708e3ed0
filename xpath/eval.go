package xpath

import (
	"math"
	"sync"
)

// focus is the evaluation context of REC-xpath §1 minus what filters never
// have (variables, namespace bindings): the context node, position and size.
type focus struct {
	n         int32
	pos, size int32
}

// val is a value during evaluation. A node-set's slice (ns) comes from
// state's buffer pool and belongs to whoever holds the val, who gives it
// back with state.put when done; losing one only costs an allocation.
type val struct {
	t  Type
	b  bool
	n  float64
	s  string
	ns []int32
}

// state is everything one evaluation changes: the document, the remaining
// work budget and a pool of node-set buffers. A compiled expression is
// never written to, so one can be evaluated by many goroutines at once,
// each with its own state (pooled, so steady-state evaluation of simple
// filters does not allocate).
type state struct {
	d    *Document
	left int64 // work budget remaining; negative once exceeded
	free [][]int32
}

var states = sync.Pool{New: func() any { return new(state) }}

func getState(d *Document, budget int64) *state {
	st := states.Get().(*state)
	st.d = d
	st.left = budget
	return st
}

// budget is the work an evaluation on d may do.
func budget(d *Document) int64 { return WorkBase + WorkPerNode*int64(len(d.nodes)) }

func putState(st *state) {
	st.d = nil
	// Keep a few buffers of moderate size, so that a pooled state cannot
	// pin much memory after a pathological evaluation.
	k := 0
	for _, b := range st.free {
		if k < 16 && cap(b) <= 1<<16 {
			st.free[k] = b
			k++
		}
	}
	clear(st.free[k:])
	st.free = st.free[:k]
	states.Put(st)
}

// The budget counts units of roughly a nanosecond or two of work: one per
// node an axis visits, a few per predicate, comparison or function call
// evaluated, one per node converted or sorted, one per 16 bytes of string
// scanned and per 2 bytes of string built (building also costs memory).
// Loops charge as they go and stop once the budget is exhausted, so the
// evaluation unwinds quickly with a meaningless value that Evaluate
// replaces by ErrTooExpensive.

// charge spends n units and reports whether the budget still holds.
func (st *state) charge(n int) bool {
	st.left -= int64(n)
	return st.left >= 0
}

func (st *state) exhausted() bool { return st.left < 0 }

// chargeScan charges for reading a string of n bytes.
func (st *state) chargeScan(n int) bool { return st.charge(1 + n>>4) }

// chargeBuild charges for building a string of n bytes.
func (st *state) chargeBuild(n int) bool { return st.charge(1 + n>>1) }

// buf returns an empty node buffer.
func (st *state) buf() []int32 {
	if k := len(st.free); k > 0 {
		b := st.free[k-1]
		st.free = st.free[:k-1]
		return b[:0]
	}
	return make([]int32, 0, 16)
}

// put gives a buffer back.
func (st *state) put(b []int32) {
	if cap(b) > 0 {
		st.free = append(st.free, b)
	}
}

// release gives back a val's buffer if it has one.
func (st *state) release(v val) {
	if v.t == NodeSet {
		st.put(v.ns)
	}
}

// toBool, toNum and toStr apply boolean(), number() and string() to a
// val, releasing its buffer.
func (st *state) toBool(v val) bool {
	switch v.t {
	case Number:
		return v.n != 0 && !math.IsNaN(v.n)
	case String:
		return v.s != ""
	case NodeSet:
		st.put(v.ns)
		return len(v.ns) > 0
	}
	return v.b
}

func (st *state) toNum(v val) float64 {
	switch v.t {
	case Boolean:
		if v.b {
			return 1
		}
		return 0
	case String:
		st.chargeScan(len(v.s))
		return stringToNumber(v.s)
	case NodeSet:
		return st.toNumNodes(v.ns)
	}
	return v.n
}

func (st *state) toNumNodes(ns []int32) float64 {
	f := math.NaN()
	if len(ns) > 0 {
		s := st.d.value(ns[0])
		st.chargeScan(len(s))
		f = stringToNumber(s)
	}
	st.put(ns)
	return f
}

func (st *state) toStr(v val) string {
	switch v.t {
	case Boolean:
		if v.b {
			return "true"
		}
		return "false"
	case Number:
		st.charge(4)
		return numberToString(v.n)
	case NodeSet:
		s := ""
		if len(v.ns) > 0 {
			s = st.d.value(v.ns[0])
		}
		st.put(v.ns)
		return s
	}
	return v.s
}

// evalBool, evalNum, evalStr and evalNodes evaluate e and convert the
// result. evalNodes requires e to be of type NodeSet (checked at compile
// time) and returns a buffer the caller must put back.
func (st *state) evalBool(e expr, c focus) bool {
	// The expressions filters are made of get a direct path that skips
	// building a val.
	switch x := e.(type) {
	case *binExpr:
		switch x.op {
		case opAnd:
			return st.evalBool(x.l, c) && st.evalBool(x.r, c)
		case opOr:
			return st.evalBool(x.l, c) || st.evalBool(x.r, c)
		case opEq, opNe, opLt, opLe, opGt, opGe:
			return st.compare(x.op, x.l, x.r, c)
		}
	case *attrExpr:
		return x.find(st, c) >= 0
	case *pathExpr:
		return x.exists(st, c)
	}
	if ne, ok := e.(nodeExpr); ok {
		return ne.exists(st, c)
	}
	return st.toBool(e.eval(st, c))
}

func (st *state) evalNum(e expr, c focus) float64 {
	if n, ok := e.(*numLit); ok {
		return n.v
	}
	return st.toNum(e.eval(st, c))
}

func (st *state) evalStr(e expr, c focus) string {
	if s, ok := e.(*strLit); ok {
		return s.s
	}
	return st.toStr(e.eval(st, c))
}

func (st *state) evalNodes(e expr, c focus) []int32 {
	return e.(nodeExpr).nodes(st, c)
}

// predicate evaluates a predicate for the node in c: a number is compared
// with the position (REC-xpath §2.4), anything else converted to boolean.
func (st *state) predicate(p expr, c focus) bool {
	st.charge(2)
	if p.typ() == Number {
		return st.evalNum(p, c) == float64(c.pos)
	}
	return st.evalBool(p, c)
}

// filter keeps the nodes of ns (in axis order: positions count from 1 along
// it) for which every predicate holds, evaluating each predicate over the
// survivors of the previous one. It works in place.
func (st *state) filter(preds []expr, ns []int32) []int32 {
	for _, p := range preds {
		if len(ns) == 0 || st.exhausted() {
			break
		}
		// [N] and [last()] pick one node without evaluating anything
		// per node.
		switch q := p.(type) {
		case *numLit:
			k := q.v
			if k >= 1 && k <= float64(len(ns)) && k == math.Trunc(k) {
				ns[0] = ns[int(k)-1]
				ns = ns[:1]
			} else {
				ns = ns[:0]
			}
			continue
		case *call:
			if q.fn.id == fnLast {
				ns[0] = ns[len(ns)-1]
				ns = ns[:1]
				continue
			}
		}
		size := int32(len(ns))
		k := 0
		for i, n := range ns {
			if st.predicate(p, focus{n: n, pos: int32(i) + 1, size: size}) {
				ns[k] = n
				k++
			}
			if st.exhausted() {
				break
			}
		}
		ns = ns[:k]
	}
	return ns
}
