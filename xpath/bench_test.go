package xpath_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"comet/voevent"
	"comet/xpath"
)

// testdataDir holds the events authored for these tests.
const testdataDir = "../testdata/xpath"

func loadDoc(tb testing.TB, name string) *xpath.Document {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join(testdataDir, name))
	if err != nil {
		tb.Fatal(err)
	}
	ev, err := voevent.Parse(raw)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return ev.Doc
}

// specFilters are the typical filters of the broker's specification and Comet's documentation.
var specFilters = []string{
	`//Param[@name="Sun_Distance" and @value>40]`,
	`//Who[AuthorIVORN="ivo://nasa.gsfc.tan/gcn"]`,
	`/*[local-name()="VOEvent" and @role!="test"]`,
	`/*[local-name()="VOEvent" and @role="test"]`,
	`contains(//Who/AuthorIVORN, "SWIFT") or starts-with(/*/@ivorn, "ivo://nasa")`,
	`//Param[@name="SC_Lat" and @value<600]`,
	`boolean(//Param[@name="x" and @value=1])`,
	`//Param[@name="x" and @value>5]`,
}

func BenchmarkCompile(b *testing.B) {
	for _, f := range specFilters {
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := xpath.Compile(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMatches(b *testing.B) {
	d := loadDoc(b, "swift_bat_grb.xml")
	for _, f := range specFilters {
		e := xpath.MustCompile(f)
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Matches(d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// hostile is cubic in the document size.
const hostile = `//*[count(//*[count(//*) > 0]) > 0]`

// BenchmarkEvaluate is Evaluate from the root element: node-set results
// are copied out of the evaluator, one allocation.
func BenchmarkEvaluate(b *testing.B) {
	d := loadDoc(b, "swift_bat_grb.xml")
	for _, f := range specFilters {
		e := xpath.MustCompile(f)
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Evaluate(d.Element()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHostile shows the hostile expression cut off by the budget on a
// 10 KB event (Evaluate) and on a 1 MiB one (Matches, which would
// otherwise stop at the first element).
func BenchmarkHostile(b *testing.B) {
	e := xpath.MustCompile(hostile)
	b.Run("Evaluate/10KB", func(b *testing.B) {
		d := syntheticEvent(b, 10<<10)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.Evaluate(d.Element()); !errors.Is(err, xpath.ErrTooExpensive) {
				b.Fatal(err)
			}
		}
	})
	b.Run("Matches/1MiB", func(b *testing.B) {
		d := syntheticEvent(b, 1<<20)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := e.Matches(d); !errors.Is(err, xpath.ErrTooExpensive) {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkLargeEvent runs the typical filters on a 1 MiB event.
func BenchmarkLargeEvent(b *testing.B) {
	d := syntheticEvent(b, 1<<20)
	for _, f := range specFilters[:3] {
		e := xpath.MustCompile(f)
		b.Run(f, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Matches(d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkThousandFilters is one event checked against 1000 subscribers'
// filters, all different (typical filters with varied names and values),
// as the broker does for each event: ns/op is the filtering cost per event.
func BenchmarkThousandFilters(b *testing.B) {
	d := loadDoc(b, "swift_bat_grb.xml")
	names := []string{"Sun_Distance", "SC_Lat", "Burst_Inten", "Rate_Signif", "Moon_Illum", "x"}
	var exprs []*xpath.Expr
	for i := 0; len(exprs) < 1000; i++ {
		n := names[i%len(names)]
		var f string
		switch i % 5 {
		case 0:
			f = fmt.Sprintf(`//Param[@name=%q and @value>%d]`, n, i)
		case 1:
			f = fmt.Sprintf(`//Param[@name=%q and @value<%d]`, n, i)
		case 2:
			f = fmt.Sprintf(`/*[local-name()="VOEvent" and @role!="test%d"]`, i)
		case 3:
			f = fmt.Sprintf(`//Who[AuthorIVORN="ivo://nasa.gsfc.tan/gcn%d"]`, i)
		default:
			f = fmt.Sprintf(`contains(//Who/AuthorIVORN, "SWIFT%d") or starts-with(/*/@ivorn, "ivo://nasa%d")`, i, i)
		}
		exprs = append(exprs, xpath.MustCompile(f))
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range exprs {
			if _, err := e.Matches(d); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkDocument is the cost of building the document model for a
// 5 KB event (voevent's parser driving a Builder).
func BenchmarkDocument(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join(testdataDir, "swift_bat_grb.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := voevent.Parse(raw); err != nil {
			b.Fatal(err)
		}
	}
}
