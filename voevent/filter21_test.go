package voevent

import (
	"os"
	"testing"

	"comet/xpath"
)

// Filters see a 2.1 event as they see a 2.0 one: below the root, elements
// are unqualified in both schemas, so unprefixed name tests (which match
// elements in no namespace; filters bind no prefix) find them, and only
// the root's namespace differs.

// TestFilters21 evaluates subscribers' filters the way the broker does
// (Expr.Matches) on one of this package's 2.1 documents.
func TestFilters21(t *testing.T) {
	raw, err := os.ReadFile("testdata/v21/valid/grb-position.xml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := Validate(e); err != nil || Version(e) != "2.1" {
		t.Fatalf("Validate: %v, Version %q", err, Version(e))
	}
	for _, c := range []struct {
		filter string
		want   bool
	}{
		{`//Param[@name="x"]`, true},
		{`//Param[@name="y"]`, false},
		{`//Who/AuthorIVORN`, true},
		{`//Who/AuthorIVORN = "ivo://org.example.observatory/alerts"`, true},
		{`Who/AuthorIVORN`, true},
		{`//Param[@name="TrigID"]/@value = 1201696`, true},
		{`//Group[@type="Classification"]/Param[@name="GRB" and @value > 0.9]`, true},
		{`//Contributor[@role="ContactPerson"]`, true},
		{`//PositionName = "GRB 260301A"`, true},
		{`//C1 > 200 and //C2 < 0`, true},
		{`//Time/TimeInstant/ISOTime`, true},
		{`/*[local-name()="VOEvent"]/@version = "2.1"`, true},
		{`namespace-uri(/*) = "http://www.ivoa.net/xml/VOEvent/v2.1"`, true},
		{`namespace-uri(/*) = "http://www.ivoa.net/xml/VOEvent/v2.0"`, false},
		{`/VOEvent`, false}, // the root is in a namespace, as in 2.0
		{`@role = "observation"`, true},
	} {
		x, err := xpath.Compile(c.filter)
		if err != nil {
			t.Fatalf("%s: %v", c.filter, err)
		}
		got, err := matches(x, e.Doc)
		if err != nil || got != c.want {
			t.Errorf("%s: %v, %v; want %v", c.filter, got, err, c.want)
		}
	}
	if _, err := xpath.Compile(`//voe:Param`); err == nil {
		t.Error("//voe:Param compiled: filters bind no prefix")
	}
}

// TestFilters21Same20 checks that filters give the same result on one of
// the repository's 2.0 events and on the same event moved to 2.1.
func TestFilters21Same20(t *testing.T) {
	raw, err := os.ReadFile("../testdata/voevent/event-5k.xml")
	if err != nil {
		t.Fatal(err)
	}
	e20, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	e21, err := Parse(to21(raw))
	if err != nil {
		t.Fatal(err)
	}
	matched := 0
	filters := []string{
		`//Param`, `//Param[@name="Packet_Type"]`, `//Who/AuthorIVORN`, `//Why/@importance >= 0.5`,
		`count(//Param) > 10`, `//ISOTime`, `//C1 > 100`, `//Group/Param`, `//Description`,
		`//Param[@name="nonexistent"]`, `@role = "test"`, `//*[local-name()="Param"]`,
	}
	for _, f := range filters {
		x, err := xpath.Compile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		m20, err20 := matches(x, e20.Doc)
		m21, err21 := matches(x, e21.Doc)
		if m20 != m21 || err20 != nil || err21 != nil {
			t.Errorf("%s: 2.0 %v (%v), 2.1 %v (%v)", f, m20, err20, m21, err21)
		}
		if m21 {
			matched++
		}
	}
	if matched == 0 || matched == len(filters) {
		t.Errorf("%d of %d filters match: the event does not tell them apart", matched, len(filters))
	}
}

// matches applies a filter to one event as a subscriber's filter is
// applied, with a fresh work budget.
func matches(x *xpath.Expr, d *xpath.Document) (bool, error) {
	b := xpath.NewBudget(d)
	return x.MatchesWithin(d, &b)
}
