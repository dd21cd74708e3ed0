package xpath

import (
	"errors"
	"fmt"
)

// Limits on what one filter may cost. A subscriber controls the filter
// text, so compiling it and evaluating it against an event must take
// bounded time and memory whatever it says.
const (
	// MaxExprLen is the longest expression Compile accepts, in bytes.
	// Real filters are under 200 bytes.
	MaxExprLen = 4096
	// MaxNesting bounds how deeply parentheses, predicates and function
	// arguments may nest, which bounds the parser's and the evaluator's
	// recursion.
	MaxNesting = 64
	// WorkBase and WorkPerNode set the evaluation budget for one document:
	// WorkBase + WorkPerNode × (nodes in the document), counted in node
	// visits, predicate and function evaluations, comparisons and bytes of
	// string processed (see budget in eval.go). A realistic filter spends a
	// few units per node; an expression whose cost grows as the square or
	// cube of the document is cut off after about a millisecond on a
	// typical event (the units cost up to 6 ns each).
	WorkBase    = 1 << 18
	WorkPerNode = 32
)

// ErrTooExpensive is returned (wrapped) by an evaluation that exceeded its
// work budget. The broker counts it as no match and logs a warning naming
// the subscriber.
var ErrTooExpensive = errors.New("xpath: evaluation exceeded its work budget")

// ErrSemantic is wrapped by the *SyntaxError Compile returns for an
// expression that is grammatical XPath 1.0 but cannot be evaluated: it
// refers to a variable (none are bound), a namespace prefix other than xml
// (none are bound), a function that does not exist or with the wrong
// number of arguments, or applies a path, predicate, union or node-set
// function to something that is not a node-set.
//
// libxml2 compiles such an expression and reports the error only when
// evaluation reaches the offending part, so under Comet a subscriber's
// filter of this kind is installed and matches no event (barring an and/or
// that never evaluates the bad operand), where a grammatical error gets the
// filter ignored. errors.Is(err, ErrSemantic) lets the broker tell the two
// apart.
var ErrSemantic = errors.New("xpath: expression cannot be evaluated")

// SyntaxError reports an expression that does not compile: Offset is the
// byte offset in Expr where the problem was found.
type SyntaxError struct {
	Expr   string
	Offset int
	Msg    string

	semantic bool // wraps ErrSemantic
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("xpath: %s at offset %d", e.Msg, e.Offset)
}

// Unwrap returns ErrSemantic for an expression that is grammatical but
// cannot be evaluated, nil for a grammatical error.
func (e *SyntaxError) Unwrap() error {
	if e.semantic {
		return ErrSemantic
	}
	return nil
}

func newSyntaxError(expr string, pos int, format string, args ...any) *SyntaxError {
	return &SyntaxError{Expr: expr, Offset: pos, Msg: fmt.Sprintf(format, args...)}
}

func newSemanticError(expr string, pos int, format string, args ...any) *SyntaxError {
	e := newSyntaxError(expr, pos, format, args...)
	e.semantic = true
	return e
}
