package xpath_test

import (
	"errors"
	"testing"

	"comet/xpath"
)

// TestBudgetShared: evaluations spending one Budget stop once it is
// spent, so the second of two expensive expressions is not evaluated, and
// a cheap one after them gets ErrTooExpensive instead of its answer.
func TestBudgetShared(t *testing.T) {
	d := syntheticEvent(t, 10<<10)
	cheap := xpath.MustCompile(`//Param`)
	b := xpath.NewBudget(d)
	if ok, err := cheap.MatchesWithin(d, &b); !ok || err != nil {
		t.Fatalf("cheap filter on a fresh budget: %v, %v", ok, err)
	}
	if b.Spent() {
		t.Fatal("one cheap filter spent the whole budget")
	}
	costly := xpath.MustCompile("count(" + hostile + ") = 0")
	if _, err := costly.MatchesWithin(d, &b); !errors.Is(err, xpath.ErrTooExpensive) {
		t.Fatalf("hostile filter: %v, want ErrTooExpensive", err)
	}
	if !b.Spent() {
		t.Fatal("budget not spent after a cut-off evaluation")
	}
	if ok, err := cheap.MatchesWithin(d, &b); ok || !errors.Is(err, xpath.ErrTooExpensive) {
		t.Errorf("cheap filter on a spent budget: %v, %v; want ErrTooExpensive", ok, err)
	}
	// A fresh budget is independent of the spent one.
	fresh := xpath.NewBudget(d)
	if ok, err := cheap.MatchesWithin(d, &fresh); !ok || err != nil {
		t.Errorf("cheap filter on a fresh budget after another was spent: %v, %v", ok, err)
	}
}
