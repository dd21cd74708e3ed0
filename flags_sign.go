package main

import (
	"log/slog"

	"comet/voevent"
)

// signFlags are the broker's signed-event flags: --trusted-keys=FILE and
// --signed-only.
type signFlags struct {
	trustedKeys string
	signedOnly  bool
	policy      *voevent.Policy // set by load when a trust file is given
}

// register defines the signing flags on fl.
func (s *signFlags) register(fl *flagList) {
	fl.String(&s.trustedKeys, "trusted-keys", "FILE", `signing keys trusted per ivorn prefix, "IVORN-PREFIX ed25519:KEY" a line; `+
		"events under a listed prefix must be signed by its key (re-read on SIGHUP)")
	fl.Bool(&s.signedOnly, "signed-only", "refuse every event not validly signed by a trusted key")
}

// load reads the trust file at start-up. A bad file is a one-line error
// naming it (exit status 2), as is --signed-only without a trust file:
// no key could ever be trusted.
func (s *signFlags) load() error {
	if s.trustedKeys == "" {
		if s.signedOnly {
			return &usageError{"--signed-only needs --trusted-keys=FILE: without trusted keys every event would be refused"}
		}
		return nil
	}
	t, err := voevent.LoadTrust(s.trustedKeys)
	if err != nil {
		return &usageError{"--trusted-keys: " + err.Error()}
	}
	s.policy = voevent.NewPolicy(t, s.signedOnly)
	return nil
}

// hook is vtp.Config.Signatures: nil, checking nothing, without a trust
// file, so a broker without one relays signed and unsigned events alike
// at no cost.
func (s *signFlags) hook(log *slog.Logger) func(*voevent.Event) (voevent.SignatureOutcome, error) {
	if s.policy == nil {
		return nil
	}
	log.Info("checking signed events", "trusted-keys", s.trustedKeys, "entries", s.policy.Trust().Len(), "signed-only", s.signedOnly)
	return s.policy.Check
}

// reload re-reads the trust file, on SIGHUP. A file that cannot be read
// or parsed leaves the keys in force and is logged as an ERROR.
func (s *signFlags) reload(log *slog.Logger) {
	if s.policy == nil {
		return
	}
	t, err := voevent.LoadTrust(s.trustedKeys)
	if err != nil {
		log.Error("cannot re-read the trust file: keeping the keys in force", "trusted-keys", s.trustedKeys, "err", err)
		return
	}
	s.policy.SetTrust(t)
	log.Info("trust file re-read", "trusted-keys", s.trustedKeys, "entries", t.Len())
}
