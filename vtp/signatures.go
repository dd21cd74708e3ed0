package vtp

import (
	"sync/atomic"

	"comet/voevent"
)

// sigCounters count signature checks: one per outcome, and the events
// refused for their signature, from authors (nak) and remotes (acked,
// not relayed).
type sigCounters struct {
	outcome                [len(sigOutcomes)]atomic.Int64
	refusedAuthor, dropped atomic.Int64
}

var sigOutcomes = [...]voevent.SignatureOutcome{voevent.SigValid, voevent.SigInvalid, voevent.SigMissing, voevent.SigUntrusted, voevent.SigMalformed}

// SignatureCounts are the totals of signature checks, present in
// Counters only when the broker checks signatures.
type SignatureCounts struct {
	// Outcomes counts every event checked (from authors after validation,
	// from remotes before the seen store, duplicates included) by
	// outcome: valid, invalid, missing, untrusted_key, malformed.
	Outcomes map[string]int64 `json:"outcomes"`
	// RefusedFromAuthors were nak'd; DroppedFromRemotes were acked and
	// not relayed.
	RefusedFromAuthors int64 `json:"refused_from_authors"`
	DroppedFromRemotes int64 `json:"dropped_from_remotes"`
}

func (c *sigCounters) snapshot(on bool) *SignatureCounts {
	if !on {
		return nil
	}
	s := &SignatureCounts{Outcomes: map[string]int64{}, RefusedFromAuthors: c.refusedAuthor.Load(), DroppedFromRemotes: c.dropped.Load()}
	for i, o := range sigOutcomes {
		s.Outcomes[o.String()] = c.outcome[i].Load()
	}
	return s
}

// signatureRefusal runs Config.Signatures on ev, counts the outcome, and
// returns why ev is refused, or "" when it passes (or nothing is checked).
func (b *Broker) signatureRefusal(ev *voevent.Event, fromAuthor bool) string {
	if b.cfg.Signatures == nil {
		return ""
	}
	o, err := b.cfg.Signatures(ev)
	for i, x := range sigOutcomes {
		if x == o {
			b.stats.sigs.outcome[i].Add(1)
		}
	}
	if err == nil {
		return ""
	}
	if fromAuthor {
		b.stats.sigs.refusedAuthor.Add(1)
	} else {
		b.stats.sigs.dropped.Add(1)
	}
	return err.Error()
}
