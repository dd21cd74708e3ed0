package xpath

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Expr is a compiled XPath 1.0 expression. It is immutable: one Expr may
// be evaluated by any number of goroutines at once.
type Expr struct {
	src string
	e   expr
}

// Compile parses an XPath 1.0 expression. Errors are *SyntaxError with the
// byte offset of the problem; those wrapping ErrSemantic are grammatical
// expressions that cannot be evaluated (see ErrSemantic).
func Compile(expr string) (*Expr, error) {
	e, err := compile(expr)
	if err != nil {
		return nil, err
	}
	return &Expr{src: expr, e: e}, nil
}

// String returns the source text of the expression.
func (e *Expr) String() string { return e.src }

// Type returns the type of the expression's value, which XPath 1.0
// without variables fixes at compile time.
func (e *Expr) Type() Type { return e.e.typ() }

// errInternal marks a panic inside the parser or the evaluator that the
// last-resort recover in Compile, Evaluate or MatchesWithin turned into an
// error. It is a bug; the fuzz tests look for it.
var errInternal = errors.New("xpath: internal error")

// Evaluate evaluates e with ctx as the context node, at position 1 of a
// context of size 1. It never panics; exceeding the work budget returns
// ErrTooExpensive.
func (e *Expr) Evaluate(ctx Node) (Value, error) {
	if ctx.d == nil {
		return Value{}, errors.New("xpath: invalid context node")
	}
	v, _, err := e.evaluate(ctx, budget(ctx.d))
	return v, err
}

// evaluate is Evaluate with a given budget; it also returns the work done.
func (e *Expr) evaluate(ctx Node, budget int64) (v Value, work int64, err error) {
	d := ctx.d
	if d == nil || ctx.i < 0 || int(ctx.i) >= len(d.nodes) {
		return Value{}, 0, errors.New("xpath: invalid context node")
	}
	st := getState(d, budget)
	defer func() {
		if r := recover(); r != nil {
			v, err = Value{}, fmt.Errorf("%w evaluating %q: %v", errInternal, e.src, r)
		}
	}()
	r := e.e.eval(st, focus{n: ctx.i, pos: 1, size: 1})
	work = budget - st.left
	if st.exhausted() {
		st.release(r)
		putState(st)
		return Value{}, work, ErrTooExpensive
	}
	v = Value{typ: r.t, b: r.b, n: r.n, s: r.s}
	if r.t == NodeSet {
		v.d = d
		if len(r.ns) > 0 {
			v.set = slices.Clone(r.ns)
		}
		st.put(r.ns)
	}
	putState(st)
	return v, work, nil
}

// Budget is work that several evaluations on one document share. A
// subscriber's filters spend one Budget per event between them, so
// installing many filters does not multiply what an event may cost.
type Budget struct{ left int64 }

// NewBudget returns the budget of one evaluation on d: WorkBase +
// WorkPerNode per node.
func NewBudget(d *Document) Budget { return Budget{left: budget(d)} }

// Spent reports whether nothing is left of b.
func (b *Budget) Spent() bool { return b.left <= 0 }

// MatchesWithin applies Comet's filter semantics to d: the context node
// is the document element, and the filter matches if its value is
// boolean true, a number that is not zero (NaN counts as a match, as in
// Comet), a non-empty string or a non-empty node-set. The work is spent
// from b, which several filters on one event share; once b is spent it
// returns ErrTooExpensive without evaluating.
func (e *Expr) MatchesWithin(d *Document, b *Budget) (bool, error) {
	if d == nil || len(d.nodes) == 0 {
		return false, errors.New("xpath: empty document")
	}
	if b.Spent() {
		return false, ErrTooExpensive
	}
	ok, work, err := e.matches(d, b.left)
	b.left -= work
	return ok, err
}

// matches is MatchesWithin with a budget of its own; it also returns the work done.
func (e *Expr) matches(d *Document, budget int64) (ok bool, work int64, err error) {
	root := d.element()
	if root < 0 {
		return false, 0, errors.New("xpath: document has no element")
	}
	st := getState(d, budget)
	defer func() {
		if r := recover(); r != nil {
			ok, err = false, fmt.Errorf("%w evaluating %q: %v", errInternal, e.src, r)
		}
	}()
	c := focus{n: root, pos: 1, size: 1}
	switch e.e.typ() {
	case NodeSet:
		ok = e.e.(nodeExpr).exists(st, c)
	case Number:
		f := st.evalNum(e.e, c)
		ok = f != 0 || math.IsNaN(f)
	default:
		ok = st.evalBool(e.e, c)
	}
	work = budget - st.left
	if st.exhausted() {
		putState(st)
		return false, work, ErrTooExpensive
	}
	putState(st)
	return ok, work, nil
}

// element returns the index of the document element, or -1.
func (d *Document) element() int32 {
	root := &d.nodes[0]
	for c := root.first; c < root.end; c = d.nodes[c].end {
		if d.nodes[c].kind == ElementNode {
			return c
		}
	}
	return -1
}
