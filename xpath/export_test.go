package xpath

// Hooks for the external tests.

// ErrInternal marks a panic the evaluator recovered from: a bug.
var ErrInternal = errInternal

// EvaluateBudget is Evaluate with the given work budget; it also returns
// the work done.
func EvaluateBudget(e *Expr, ctx Node, budget int64) (Value, int64, error) {
	return e.evaluate(ctx, budget)
}

// MatchesBudget is Matches with the given work budget; it also returns the
// work done.
func MatchesBudget(e *Expr, d *Document, budget int64) (bool, int64, error) {
	return e.matches(d, budget)
}

// BudgetOf is the work budget an evaluation on d gets.
func BudgetOf(d *Document) int64 { return budget(d) }
