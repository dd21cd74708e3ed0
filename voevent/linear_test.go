package voevent

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// shapes build documents of about size bytes that Parse accepts, each
// made to stress one kind of per-element work in the parser and the
// document builder.
var shapes = []struct {
	name  string
	build func(size int) []byte
}{
	// Sibling elements each declaring 32 prefixes bound to URIs never seen
	// before, with a child that uses two of them: many distinct URIs, many
	// declarations per element.
	{"namespaces", func(size int) []byte {
		var b strings.Builder
		b.WriteString("<r>")
		for n := 0; b.Len() < size-4; {
			b.WriteString("<e")
			for i := range 32 {
				fmt.Fprintf(&b, ` xmlns:a%d="urn:%d"`, i, n)
				n++
			}
			b.WriteString(`><a3:c a5:x=""/></e>`)
		}
		b.WriteString("</r>")
		return []byte(b.String())
	}},
	// The root binds 128 prefixes; every child has 256 attributes: one
	// local name in each of the 128 namespaces, and 128 unprefixed names
	// with a long common prefix.
	{"attributes", func(size int) []byte {
		var b strings.Builder
		b.WriteString("<r")
		for i := range 128 {
			fmt.Fprintf(&b, ` xmlns:p%d="urn:p%d"`, i, i)
		}
		b.WriteString(">")
		for b.Len() < size-4 {
			b.WriteString("<e")
			for i := range 128 {
				fmt.Fprintf(&b, ` p%d:a=""`, i)
			}
			for i := range 128 {
				fmt.Fprintf(&b, ` attribute%03d=""`, i)
			}
			b.WriteString("/>")
		}
		b.WriteString("</r>")
		return []byte(b.String())
	}},
	// Elements nested MaxDepth deep, again and again, each level
	// rebinding the same four prefixes: many bindings in scope, most of
	// them shadowed, and unprefixed names resolved past all of them.
	{"deep", func(size int) []byte {
		var b strings.Builder
		b.WriteString("<r>")
		for b.Len() < size-4 {
			for l := range MaxDepth - 1 {
				fmt.Fprintf(&b, `<a xmlns:q0="urn:%d" xmlns:q1="urn:%d" xmlns:q2="urn:%d" xmlns:q3="urn:%d">`, l, l+1, l+2, l+3)
			}
			b.WriteString(strings.Repeat("</a>", MaxDepth-1))
		}
		b.WriteString("</r>")
		return []byte(b.String())
	}},
	// A root with as many small children as the limits allow.
	{"wide", func(size int) []byte {
		n := (size - 7) / len("<bc>xyz</bc>")
		return []byte("<r>" + strings.Repeat("<bc>xyz</bc>", n) + "</r>")
	}},
}

var shapeSizes = []struct {
	name string
	size int
}{{"10KB", 10 << 10}, {"100KB", 100 << 10}, {"1MiB", 1 << 20}}

// BenchmarkHostile parses the hostile shapes at three sizes; ns/byte
// should not grow with the size.
func BenchmarkHostile(b *testing.B) {
	for _, sh := range shapes {
		for _, sz := range shapeSizes {
			b.Run(sh.name+"/"+sz.name, func(b *testing.B) {
				raw := sh.build(sz.size)
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Parse(raw); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(raw)), "ns/byte")
			})
		}
	}
}

// TestLinearWork checks, without timing anything, that parsing the
// hostile shapes costs the same per byte at 1 MiB as at 10 KB: the
// parser's work counter (the steps of its loops over bindings,
// namespace-node lists and attributes, plus the bytes line numbering
// reads) with the document-model nodes, which the builder's per-node work
// is proportional to, and the number of allocations. The bytes allocated
// are bounded outright: pooled buffers make the small documents' figure
// smaller, not comparable.
func TestLinearWork(t *testing.T) {
	for _, sh := range shapes {
		type cost struct{ work, allocs float64 }
		measure := func(size int) cost {
			raw := sh.build(size)
			_, st, err := parse(raw, false)
			if err != nil {
				t.Fatalf("%s, %d bytes: %v", sh.name, len(raw), err)
			}
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			allocs := testing.AllocsPerRun(2, func() { parse(raw, false) })
			runtime.ReadMemStats(&m1)
			if perByte := float64(m1.TotalAlloc-m0.TotalAlloc) / 3 / float64(len(raw)); perByte > 128 {
				t.Errorf("%s, %d bytes: %.0f bytes allocated per byte", sh.name, len(raw), perByte)
			}
			n := float64(len(raw))
			return cost{float64(st.work+st.nodes) / n, allocs / n}
		}
		small, large := measure(10<<10), measure(1<<20)
		t.Logf("%s: per byte, work %.3f then %.3f, allocations %.5f then %.5f", sh.name, small.work, large.work, small.allocs, large.allocs)
		if large.work > 1.5*small.work || large.allocs > 2*small.allocs {
			t.Errorf("%s: 1 MiB costs more per byte than 10 KB: %+v, %+v", sh.name, large, small)
		}
	}
}
