package xpath

import "math"

// Type is the type of an XPath 1.0 value (REC-xpath §1).
type Type uint8

// The four types of XPath 1.0. Every expression has one fixed type, known
// when it is compiled, because filters have no variables.
const (
	Boolean Type = iota
	Number
	String
	NodeSet
)

var typeNames = [...]string{"boolean", "number", "string", "node-set"}

// String returns the type's name as the spec writes it: boolean, number,
// string, node-set.
func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "invalid"
}

// Value is the result of an evaluation. Its accessors apply the spec's
// conversions, so any value can be read as any type. A Value is immutable
// and does not depend on the evaluation that made it.
type Value struct {
	typ Type
	b   bool
	n   float64
	s   string
	d   *Document
	set []int32 // node indexes in document order, no duplicates
}

// Type returns the value's type.
func (v Value) Type() Type { return v.typ }

// Boolean converts v as boolean() does: a number is true unless it is ±0
// or NaN, a string unless it is empty, a node-set unless it is empty.
func (v Value) Boolean() bool {
	switch v.typ {
	case Number:
		return v.n != 0 && !math.IsNaN(v.n)
	case String:
		return v.s != ""
	case NodeSet:
		return len(v.set) > 0
	}
	return v.b
}

// Number converts v as number() does.
func (v Value) Number() float64 {
	switch v.typ {
	case Boolean:
		if v.b {
			return 1
		}
		return 0
	case String:
		return stringToNumber(v.s)
	case NodeSet:
		return stringToNumber(v.String())
	}
	return v.n
}

// String converts v as string() does: for a node-set, the string-value of
// its first node in document order ("" if empty); numbers as REC-xpath
// §4.2 writes them (no exponent).
func (v Value) String() string {
	switch v.typ {
	case Boolean:
		if v.b {
			return "true"
		}
		return "false"
	case Number:
		return numberToString(v.n)
	case NodeSet:
		if len(v.set) == 0 {
			return ""
		}
		return v.d.value(v.set[0])
	}
	return v.s
}

// Match reports whether v counts as a match under Comet's filter
// semantics: boolean true, a number that is not zero (NaN is a
// match, because Comet tests the Python float for truth), a non-empty
// string or a non-empty node-set. It differs from Boolean only for NaN.
func (v Value) Match() bool {
	if v.typ == Number {
		return v.n != 0
	}
	return v.Boolean()
}

// Len is the number of nodes in a node-set, 0 for other types.
func (v Value) Len() int { return len(v.set) }

// Node returns the i'th node of a node-set in document order, 0 ≤ i < Len().
func (v Value) Node(i int) Node { return Node{v.d, v.set[i]} }

// Nodes returns a node-set's nodes in document order (nil for other types).
func (v Value) Nodes() []Node {
	if len(v.set) == 0 {
		return nil
	}
	ns := make([]Node, len(v.set))
	for i, n := range v.set {
		ns[i] = Node{v.d, n}
	}
	return ns
}
