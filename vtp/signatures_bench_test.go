package vtp

import (
	"testing"

	"comet/voevent"
)

// BenchmarkAuthorSignatures is an author's submission (parse, schema
// validation, answer) without a signature check and with one: the
// difference is what --trusted-keys costs per event.
func BenchmarkAuthorSignatures(b *testing.B) {
	t := &testing.T{}
	k := sigKey(1)
	raw := signed(t, testEvent("ivo://example.org/test#bench", "observation", ""), k)
	for _, tc := range []struct {
		name  string
		check func(*voevent.Event) (voevent.SignatureOutcome, error)
	}{
		{"no-check", nil},
		{"trusted-keys", voevent.NewPolicy(trustFor(t, k), false).Check},
	} {
		b.Run(tc.name, func(b *testing.B) {
			br := New(Config{LocalIVO: brokerIVO, Logger: discardLogger(), Validate: voevent.Validate, Signatures: tc.check})
			var w warnings
			b.ReportAllocs()
			for b.Loop() {
				v := br.submit(raw, &source{kind: authorSource, warn: &w}, discardLogger())
				if br.authorReply(v); v.kind != verdictAccepted {
					b.Fatal("refused")
				}
			}
		})
	}
}
