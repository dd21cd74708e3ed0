package xpath_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"comet/voevent"
	"comet/xpath"
)

// syntheticEvent builds a VOEvent of about size bytes: Groups of Params
// in the shape of a GCN notice, enough to stand for the largest events a
// broker accepts (1 MiB).
func syntheticEvent(tb testing.TB, size int) *xpath.Document {
	tb.Helper()
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="2.0" role="observation" ivorn="ivo://nasa.gsfc.gcn/SWIFT#synthetic">
  <Who><AuthorIVORN>ivo://nasa.gsfc.tan/gcn</AuthorIVORN><Date>2024-03-14T09:26:53</Date></Who>
  <What>
`)
	for g := 0; b.Len() < size-400; g++ {
		fmt.Fprintf(&b, "    <Group name=\"G%d\" type=\"synthetic\">\n", g)
		for p := 0; p < 20; p++ {
			fmt.Fprintf(&b, "      <Param name=\"P%d_%d\" dataType=\"float\" value=\"%d.%02de-3\" unit=\"deg\"/>\n", g, p, g%97, p)
		}
		b.WriteString("      <Description>A group of synthetic parameters.</Description>\n    </Group>\n")
	}
	b.WriteString(`    <Param name="Sun_Distance" value="117.80"/><Param name="SC_Lat" value="-19.64"/>
  </What>
  <Why importance="0.9"><Inference probability="0.5"><Concept>synthetic</Concept></Inference></Why>
</voe:VOEvent>
`)
	ev, err := voevent.Parse([]byte(b.String()))
	if err != nil {
		tb.Fatal(err)
	}
	return ev.Doc
}

// TestHostileExpressionCutOff: an expression cubic in the
// number of elements, is stopped by the work budget on a 10 KB event
// rather than running for seconds.
func TestHostileExpressionCutOff(t *testing.T) {
	d := syntheticEvent(t, 10<<10)
	e := xpath.MustCompile(hostile)
	start := time.Now()
	_, err := e.Evaluate(d.Element())
	if !errors.Is(err, xpath.ErrTooExpensive) {
		t.Fatalf("Evaluate(%s) = %v, want ErrTooExpensive", hostile, err)
	}
	t.Logf("%s: cut off after %v on a %d-node document", hostile, time.Since(start), d.Len())

	// Matches stops at the first matching element, so it only pays for
	// the inner loops once: on a small event that is affordable and gives
	// the right answer; on a big one it too is cut off.
	ok, err := e.Matches(d)
	if err != nil || !ok {
		t.Errorf("Matches(%s) on 10 KB = %v, %v; want a match", hostile, ok, err)
	}
	big := syntheticEvent(t, 1<<20)
	if _, err := e.Matches(big); !errors.Is(err, xpath.ErrTooExpensive) {
		t.Errorf("Matches(%s) on 1 MiB = %v, want ErrTooExpensive", hostile, err)
	}
}

// TestBudgetStopsExpensiveExpressions: expressions whose cost is
// quadratic or worse in the document, or that build huge strings, end
// with ErrTooExpensive.
func TestBudgetStopsExpensiveExpressions(t *testing.T) {
	d := syntheticEvent(t, 1<<20)
	for _, expr := range []string{
		"count(" + hostile + ")",
		"//*[//*[//*[//*]]]",
		"count(//*[count(//*) > 0])",
		"count(//*[. = //*])",
		"//Param[@name = //Param/@value]",
		"count(//Param/following::*[last()])",
		"count(//Param/preceding::node()[1])",
		"string-length(" + doubling(8) + ")",
		"count(//Param[string-length(translate(/, 'abc', 'xyz')) > 0])",
		"count(//*[contains(/, 'x')])",
		"sum(//Param[count(//Param) > 0]/@value)",
		"count(//Param[last()][count(//*) > 0])",
	} {
		e := xpath.MustCompile(expr)
		start := time.Now()
		_, err := e.Evaluate(d.Root())
		if !errors.Is(err, xpath.ErrTooExpensive) {
			t.Errorf("%s: %v, want ErrTooExpensive", expr, err)
		}
		t.Logf("%-60s cut off after %v", expr, time.Since(start))
	}
}

// doubling is concat(concat(...), concat(...)) k levels deep over the
// root's string-value: 2^k copies of it.
func doubling(k int) string {
	if k == 0 {
		return "/"
	}
	d := doubling(k - 1)
	return "concat(" + d + "," + d + ")"
}

// realisticFilters are filters in the style of Comet's users,
// heavier than most: each must complete on the largest event accepted.
var realisticFilters = []string{
	`//Param[@name="Sun_Distance" and @value>40]`,
	`//Who[AuthorIVORN="ivo://nasa.gsfc.tan/gcn"]`,
	`/*[local-name()="VOEvent" and @role!="test"]`,
	`contains(//Who/AuthorIVORN, "SWIFT") or starts-with(/*/@ivorn, "ivo://nasa")`,
	`//Param[@name="SC_Lat" and @value<600]`,
	`boolean(//Param[@name="x" and @value=1])`,
	`count(//Param) > 10`,
	`sum(//Param/@value) > 0`,
	`//Group[@name="G7"]/Param[@name="P7_3" and @value > 0]`,
	`//*[local-name()="Param" and @name="SC_Lat"]`,
	`//Param[contains(@name, "Sun") or starts-with(@value, "0x")]`,
	`//Param[@unit="deg"][last()]`,
	`//*[contains(., "synthetic")]`,
	`//Param[@name="a"] or //Param[@name="b"] or //Param[@name="c"] or //Param[@name="d"] or //Param[@name="e"] or //Param[@name="Sun_Distance"]`,
	`//Param[@value > 0.001 and @value < 0.01 and @dataType = "float" and @unit = "deg"]`,
	`//Group[Param[@value > 0.09]]/@name`,
	`//Why[@importance > 0.5]//Inference[@probability > 0.4]`,
	`count(//Param[@name = "Sun_Distance"]/preceding-sibling::Param) > 0`,
	`//@* = "117.80"`,
	`//Param/@value = //Param/@name`,
	`normalize-space(//Group[last()]/Description) != ""`,
	// Not realistic, but linear: the following and preceding axes of a
	// whole node-set are found in one scan when no predicate counts
	// positions.
	`count(//Param/following::*) > count(//Param/preceding::node())`,
}

// TestRealisticFiltersOnLargeEvent: every realistic filter completes
// within the budget on a 1 MiB event.
func TestRealisticFiltersOnLargeEvent(t *testing.T) {
	d := syntheticEvent(t, 1<<20)
	t.Logf("1 MiB event: %d nodes, budget %d", d.Len(), xpath.BudgetOf(d))
	for _, f := range realisticFilters {
		e := xpath.MustCompile(f)
		start := time.Now()
		_, work, err := xpath.EvaluateBudget(e, d.Element(), xpath.BudgetOf(d))
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if _, err := e.Matches(d); err != nil {
			t.Errorf("Matches(%s): %v", f, err)
		}
		t.Logf("%-70.70s %8d units %v", f, work, time.Since(start))
	}
}

// TestConcurrentEvaluation evaluates one compiled expression from many
// goroutines at once on shared documents (run with -race): compiled
// expressions and documents are immutable.
func TestConcurrentEvaluation(t *testing.T) {
	docs := []*xpath.Document{
		loadDoc(t, "swift_bat_grb.xml"), loadDoc(t, "lvc_test.xml"),
		loadDoc(t, "axes.xml"), loadDoc(t, "default_ns.xml"),
	}
	exprs := append([]string{hostile, "//Param[@name = //Param/@value]", "//What/Param[2]"}, realisticFilters...)
	for _, src := range exprs {
		e := xpath.MustCompile(src)
		type result struct {
			v   string
			ok  bool
			err error
		}
		want := make([]result, len(docs))
		for i, d := range docs {
			v, err := e.Evaluate(d.Element())
			ok, merr := e.Matches(d)
			want[i] = result{render(v), ok, errors.Join(err, merr)}
		}
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Go(func() {
				for n := 0; n < 20; n++ {
					i := (g + n) % len(docs)
					v, err := e.Evaluate(docs[i].Element())
					ok, merr := e.Matches(docs[i])
					got := result{render(v), ok, errors.Join(err, merr)}
					if got.v != want[i].v || got.ok != want[i].ok || (got.err == nil) != (want[i].err == nil) {
						t.Errorf("%s on doc %d: got %+v, want %+v", src, i, got, want[i])
						return
					}
				}
			})
		}
		wg.Wait()
	}
}

// TestEvaluateBadContext: the zero Node is not a context.
func TestEvaluateBadContext(t *testing.T) {
	if _, err := xpath.MustCompile("1").Evaluate(xpath.Node{}); err == nil {
		t.Error("Evaluate(Node{}) succeeded")
	}
	if _, err := xpath.MustCompile("1").Matches(nil); err == nil {
		t.Error("Matches(nil) succeeded")
	}
}
