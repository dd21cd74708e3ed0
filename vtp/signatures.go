package vtp

import (
	"sync/atomic"

	"comet/voevent"
)

// signatures is the signature policy in force (Config.Signatures) and
// its counters: one per outcome, and the events refused for their
// signature, from authors (nak) and remotes (acked, not relayed). The
// Broker has one only when it checks signatures.
type signatures struct {
	check                  func(*voevent.Event) (voevent.SignatureOutcome, error)
	outcome                [voevent.SigMalformed + 1]atomic.Int64 // indexed by outcome, the last being SigMalformed
	refusedAuthor, dropped atomic.Int64
}

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

// snapshot returns the counts, nil when no signatures are checked.
func (s *signatures) snapshot() *SignatureCounts {
	if s == nil {
		return nil
	}
	c := &SignatureCounts{Outcomes: map[string]int64{}, RefusedFromAuthors: s.refusedAuthor.Load(), DroppedFromRemotes: s.dropped.Load()}
	for _, o := range voevent.SignatureOutcomes() {
		c.Outcomes[o.String()] = s.outcome[o].Load()
	}
	return c
}

// refusal runs the policy on ev, counts the outcome, and returns why ev
// is refused, or "" when it passes.
func (s *signatures) refusal(ev *voevent.Event, remote bool) string {
	o, err := s.check(ev)
	if int(o) < len(s.outcome) {
		s.outcome[o].Add(1)
	}
	if err == nil {
		return ""
	}
	if remote {
		s.dropped.Add(1)
	} else {
		s.refusedAuthor.Add(1)
	}
	return err.Error()
}
