package voevent

import "testing"

// BenchmarkSignatureCheck is what the broker adds per event with a trust
// file: finding the signature comments and one Ed25519 verification of
// the element (the event is parsed once, outside the loop).
func BenchmarkSignatureCheck(b *testing.B) {
	k := testKey(1)
	trust := trustOf(b, "ivo://org.example.observatory", k)
	for _, e := range benchEvents {
		b.Run(e.name, func(b *testing.B) {
			ev := mustParse(b, mustSign(b, readBench(b, e.file), k))
			for b.Loop() {
				if v := trust.Check(ev); v.Outcome != SigValid {
					b.Fatal(v.Reason)
				}
			}
		})
	}
	b.Run("unsigned-outside-prefixes", func(b *testing.B) {
		ev := mustParse(b, readBench(b, benchEvents[0].file))
		other := trustOf(b, "ivo://other.org", k)
		for b.Loop() {
			other.Check(ev)
		}
	})
}
