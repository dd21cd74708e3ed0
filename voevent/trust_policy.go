package voevent

import (
	"errors"
	"sync/atomic"
)

// Policy is a broker's rule for signed events: an event whose ivorn lies
// under a prefix of the trust file must be validly signed by a key listed
// for such a prefix; with SignedOnly, every event must be. The trust file
// can be replaced while events are being checked (SetTrust).
type Policy struct {
	trust      atomic.Pointer[Trust]
	signedOnly bool
}

// NewPolicy returns a Policy over t (nil: no prefix listed).
func NewPolicy(t *Trust, signedOnly bool) *Policy {
	p := &Policy{signedOnly: signedOnly}
	p.trust.Store(t)
	return p
}

// SetTrust replaces the trust file; checks already running finish with
// the old one.
func (p *Policy) SetTrust(t *Trust) { p.trust.Store(t) }

// Trust returns the trust file in force.
func (p *Policy) Trust() *Trust { return p.trust.Load() }

// Check returns what ev's signatures are and, when the policy refuses ev,
// an error whose text is the one-line reason (sent to an author in the nak).
func (p *Policy) Check(ev *Event) (SignatureOutcome, error) {
	v := p.trust.Load().Check(ev)
	switch {
	case v.Outcome == SigValid:
		return v.Outcome, nil
	case v.Required:
		return v.Outcome, errors.New("signature required: " + v.Reason)
	case p.signedOnly:
		return v.Outcome, errors.New("this broker accepts only validly signed events: " + v.Reason)
	}
	return v.Outcome, nil
}
