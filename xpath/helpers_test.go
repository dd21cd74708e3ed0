package xpath

import "errors"

// MustCompile is Compile for the tests' constant expressions: it panics
// if expr does not compile.
func MustCompile(expr string) *Expr {
	e, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return e
}

// Matches applies Comet's filter semantics to d: the context
// node is the document element, and the filter matches if its value is
// boolean true, a number that is not zero (NaN counts as a match, as in
// Comet), a non-empty string or a non-empty node-set. An evaluation error
// (ErrTooExpensive) returns false with the error.
func (e *Expr) Matches(d *Document) (bool, error) {
	if d == nil || len(d.nodes) == 0 {
		return false, errors.New("xpath: empty document")
	}
	ok, _, err := e.matches(d, budget(d))
	return ok, err
}
