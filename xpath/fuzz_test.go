package xpath_test

import (
	"errors"
	"testing"
	"unicode/utf8"

	"comet/xpath"
)

// fuzzSeeds are the expressions of the tables in this package's tests and
// a few hostile ones.
func fuzzSeeds() []string {
	var seeds []string
	for _, cases := range [][]evalCase{axesCases, operatorCases, functionCases} {
		for _, c := range cases {
			seeds = append(seeds, c.expr)
		}
	}
	seeds = append(seeds, goldenFilters...)
	seeds = append(seeds,
		hostile,
		"//*[//*[//*[//*]]]",
		"concat(/, /, /, /)",
		"translate(/, 'abc', 'xyz')",
		"//*[. = //*]",
		"//*[count(preceding::node()) > count(following::node())]",
		"id(//@*)",
		"substring(/, -1 div 0, 1 div 0)",
		"--------1",
		"((((((((1))))))))",
		"//voe:VOEvent",
		"$x",
		"1 +",
	)
	return seeds
}

// FuzzCompile checks the lexer and parser: no input makes them panic, and
// every error is a *SyntaxError whose offset lies within the input.
func FuzzCompile(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := xpath.Compile(src)
		if err != nil {
			var se *xpath.SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Compile(%q): %T %v, want *SyntaxError", src, err, err)
			}
			if se.Expr != src || se.Offset < 0 || se.Offset > len(src) || se.Msg == "" {
				t.Fatalf("Compile(%q): bad error %+v", src, se)
			}
			if !utf8.ValidString(se.Msg) && utf8.ValidString(src) {
				t.Fatalf("Compile(%q): message is not UTF-8: %q", src, se.Msg)
			}
			return
		}
		if e.String() != src {
			t.Fatalf("String() = %q, want %q", e.String(), src)
		}
	})
}

// fuzzBudget is small so that every input runs quickly; the property is
// the same at any budget.
const fuzzBudget = 200_000

// FuzzEvaluate evaluates arbitrary expressions on axes.xml: nothing
// panics (the evaluator's last-resort recover would report ErrInternal),
// the only error is ErrTooExpensive, the work done stays within a small
// multiple of the budget (a charge can overshoot by its own size, never by
// an unbounded amount), node-sets are in document order without
// duplicates, and Matches agrees with Evaluate from the root element.
func FuzzEvaluate(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	d := loadDoc(f, "axes.xml")
	f.Fuzz(func(t *testing.T, src string) {
		e, err := xpath.Compile(src)
		if err != nil {
			return
		}
		for _, ctx := range []xpath.Node{d.Root(), d.Element()} {
			v, work, err := xpath.EvaluateBudget(e, ctx, fuzzBudget)
			checkEval(t, src, v, work, err)
			if ctx != d.Element() || err != nil {
				continue
			}
			ok, work, err := xpath.MatchesBudget(e, d, fuzzBudget)
			checkEval(t, src, xpath.Value{}, work, err)
			if err == nil && ok != v.Match() {
				t.Fatalf("%q: Matches %v, Evaluate(root element) %s (Match %v)", src, ok, render(v), v.Match())
			}
		}
	})
}

func checkEval(t *testing.T, src string, v xpath.Value, work int64, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, xpath.ErrTooExpensive) {
		t.Fatalf("%q: %v", src, err)
	}
	if work > 3*fuzzBudget {
		t.Fatalf("%q: %d units of work against a budget of %d", src, work, fuzzBudget)
	}
	for i := 1; i < v.Len(); i++ {
		if v.Node(i-1).Index() >= v.Node(i).Index() {
			t.Fatalf("%q: node-set out of document order at %d", src, i)
		}
	}
}
