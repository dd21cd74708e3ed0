package voevent

import "testing"

// BenchmarkValidate21 is BenchmarkValidate on the same 1, 5 and 10 KB
// events moved to the 2.1 namespace, so the two compare schema tables on
// the same content.
func BenchmarkValidate21(b *testing.B) {
	for _, ev := range benchEvents {
		b.Run(ev.name, func(b *testing.B) {
			raw := to21(readBench(b, ev.file))
			e, err := Parse(raw)
			if err != nil {
				b.Fatal(err)
			}
			if Version(e) != "2.1" {
				b.Fatal("not a 2.1 event")
			}
			for b.Loop() {
				if err := Validate(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParseValidate21 is what a 2.1 author submission costs.
func BenchmarkParseValidate21(b *testing.B) {
	for _, ev := range benchEvents {
		b.Run(ev.name, func(b *testing.B) {
			raw := to21(readBench(b, ev.file))
			for b.Loop() {
				e, err := Parse(raw)
				if err != nil {
					b.Fatal(err)
				}
				if err := Validate(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
