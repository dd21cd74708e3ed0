package xpath

import "math"

// compare evaluates l op r for the comparison operators, with the
// conversions of REC-xpath §3.4. The types are known at compile time,
// so only the branch for them runs.
func (st *state) compare(o op, l, r expr, c focus) bool {
	st.charge(2)
	lt, rt := l.typ(), r.typ()
	switch {
	case lt == NodeSet && rt == NodeSet:
		a := st.evalNodes(l, c)
		b := st.evalNodes(r, c)
		ok := st.compareSets(o, a, b)
		st.put(a)
		st.put(b)
		return ok
	case lt == NodeSet:
		if a, ok := l.(*attrExpr); ok {
			// @name op value, without a buffer.
			var one [1]int32
			ns := one[:0]
			if n := a.find(st, c); n >= 0 {
				ns = append(ns, n)
			}
			return st.compareSetVal(o, ns, r.eval(st, c))
		}
		return st.compareSet(o, l, r, c)
	case rt == NodeSet:
		return st.compareSetRight(o, l, r, c)
	}
	if o == opEq || o == opNe {
		var eq bool
		switch {
		case lt == Boolean || rt == Boolean:
			eq = st.evalBool(l, c) == st.evalBool(r, c)
		case lt == Number || rt == Number:
			eq = st.evalNum(l, c) == st.evalNum(r, c)
		default:
			eq = st.evalStr(l, c) == st.evalStr(r, c)
		}
		return eq == (o == opEq)
	}
	x := st.evalNum(l, c)
	return compareNum(o, x, st.evalNum(r, c))
}

// compareNum applies a comparison operator to two numbers, IEEE 754 style:
// NaN makes everything false but !=.
func compareNum(o op, x, y float64) bool {
	switch o {
	case opEq:
		return x == y
	case opNe:
		return x != y
	case opLt:
		return x < y
	case opLe:
		return x <= y
	case opGt:
		return x > y
	}
	return x >= y
}

// mirror returns the operator that gives the same answer with the
// operands swapped.
func mirror(o op) op {
	switch o {
	case opLt:
		return opGt
	case opLe:
		return opGe
	case opGt:
		return opLt
	case opGe:
		return opLe
	}
	return o
}

// compareSet compares a node-set l with a value r of another type.
func (st *state) compareSet(o op, l, r expr, c focus) bool {
	ns := st.evalNodes(l, c)
	ok := st.compareSetVal(o, ns, r.eval(st, c))
	st.put(ns)
	return ok
}

// compareSetRight compares a value l with a node-set r.
func (st *state) compareSetRight(o op, l, r expr, c focus) bool {
	v := l.eval(st, c)
	ns := st.evalNodes(r, c)
	ok := st.compareSetVal(mirror(o), ns, v)
	st.put(ns)
	return ok
}

// compareSetVal compares node-set ns (on the left of o) with v, which is
// not a node-set.
func (st *state) compareSetVal(o op, ns []int32, v val) bool {
	d := st.d
	switch v.t {
	case Boolean:
		// The node-set converts to a boolean; a relational operator then
		// converts both booleans to numbers.
		a := len(ns) > 0
		if o == opEq || o == opNe {
			return (a == v.b) == (o == opEq)
		}
		return compareNum(o, b2f(a), b2f(v.b))
	case Number:
		for _, n := range ns {
			s := d.value(n)
			if !st.chargeScan(len(s)) {
				return false
			}
			if compareNum(o, stringToNumber(s), v.n) {
				return true
			}
		}
		return false
	}
	// A string: = and != compare strings, the others numbers.
	if o == opEq || o == opNe {
		want := o == opEq
		for _, n := range ns {
			s := d.value(n)
			if !st.chargeScan(min(len(s), len(v.s))) {
				return false
			}
			if (s == v.s) == want {
				return true
			}
		}
		return false
	}
	y := stringToNumber(v.s)
	for _, n := range ns {
		s := d.value(n)
		if !st.chargeScan(len(s)) {
			return false
		}
		if compareNum(o, stringToNumber(s), y) {
			return true
		}
	}
	return false
}

// compareSets compares two node-sets: true if some pair of nodes, one from
// each, compares true on their string-values (= and !=) or on the numbers
// they convert to (the others).
func (st *state) compareSets(o op, a, b []int32) bool {
	if len(a) == 0 || len(b) == 0 {
		return false
	}
	d := st.d
	switch o {
	case opEq:
		// A set of the strings of the smaller side makes this linear.
		if len(a) > len(b) {
			a, b = b, a
		}
		if len(a)*len(b) <= 64 {
			for _, x := range a {
				sx := d.value(x)
				for _, y := range b {
					if !st.chargeScan(len(sx)) {
						return false
					}
					if sx == d.value(y) {
						return true
					}
				}
			}
			return false
		}
		// Hashing costs tens of nanoseconds a string.
		if !st.charge(16 * (len(a) + len(b))) {
			return false
		}
		seen := make(map[string]struct{}, len(a))
		for _, x := range a {
			s := d.value(x)
			if !st.chargeScan(len(s)) {
				return false
			}
			seen[s] = struct{}{}
		}
		for _, y := range b {
			s := d.value(y)
			if !st.chargeScan(len(s)) {
				return false
			}
			if _, ok := seen[s]; ok {
				return true
			}
		}
		return false
	case opNe:
		// Some pair differs unless every string on both sides is the same.
		s0 := d.value(a[0])
		for _, side := range [2][]int32{a, b} {
			for _, x := range side {
				s := d.value(x)
				if !st.chargeScan(min(len(s), len(s0))) {
					return false
				}
				if s != s0 {
					return true
				}
			}
		}
		return false
	}
	// Some pair satisfies x < y exactly when the smallest x is below the
	// largest y (NaN never satisfies anything, so it is left out).
	aMin, aMax, okA := st.numRange(a)
	bMin, bMax, okB := st.numRange(b)
	if !okA || !okB {
		return false
	}
	switch o {
	case opLt, opLe:
		return compareNum(o, aMin, bMax)
	}
	return compareNum(o, aMax, bMin)
}

// numRange returns the smallest and largest number the nodes' string-values
// convert to, NaN left out; ok is false if there is none.
func (st *state) numRange(ns []int32) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, n := range ns {
		s := st.d.value(n)
		if !st.chargeScan(len(s)) {
			return 0, 0, false
		}
		f := stringToNumber(s)
		if math.IsNaN(f) {
			continue
		}
		ok = true
		lo = min(lo, f)
		hi = max(hi, f)
	}
	return lo, hi, ok
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
