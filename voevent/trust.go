package voevent

import (
	"bufio"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Trust is a parsed trust file: which Ed25519 keys may sign events under
// which ivorn prefixes. It is immutable once parsed.
type Trust struct {
	entries []trustEntry
}

type trustEntry struct {
	prefix string
	key    ed25519.PublicKey
}

// Limits on a trust file, so a wrong path (a log file, /dev/zero) is an
// error rather than a hang.
const (
	maxTrustLine    = 4096
	maxTrustEntries = 100000
)

// LoadTrust reads the trust file at path. It must be a regular file: a
// FIFO or a device would block the broker's signal handling on reload.
func LoadTrust(path string) (*Trust, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	return ParseTrust(path, f)
}

// ParseTrust reads a trust file from r; name is used in errors, which say
// "name:line: why". Each line is "IVORN-PREFIX ed25519:KEY", KEY the
// standard base64 of a 32-byte Ed25519 public key. '#' at the start of a
// line or after white space starts a comment ('#' inside a prefix, as in
// ivo://org/stream#local, is part of it). Blank lines are ignored. The
// same prefix may be listed with several keys (a key rotation).
func ParseTrust(name string, r io.Reader) (*Trust, error) {
	t := &Trust{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxTrustLine)
	n := 1
	for ; sc.Scan(); n++ {
		fields := trustFields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		fail := func(format string, a ...any) error {
			return fmt.Errorf("%s:%d: %s", name, n, fmt.Sprintf(format, a...))
		}
		if len(fields) != 2 {
			return nil, fail("want \"IVORN-PREFIX ed25519:KEY\", got %d fields", len(fields))
		}
		prefix, key := fields[0], fields[1]
		if err := ValidTrustPrefix(prefix); err != nil {
			return nil, fail("%v", err)
		}
		b64, ok := strings.CutPrefix(key, "ed25519:")
		if !ok {
			return nil, fail("key %q: want ed25519:BASE64", Clip(key))
		}
		pub, err := base64.StdEncoding.Strict().DecodeString(b64)
		if err != nil || len(pub) != ed25519.PublicKeySize {
			return nil, fail("key %q is not the base64 of a 32-byte Ed25519 public key", Clip(key))
		}
		if len(t.entries) == maxTrustEntries {
			return nil, fail("more than %d entries", maxTrustEntries)
		}
		t.entries = append(t.entries, trustEntry{prefix: prefix, key: pub})
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fmt.Errorf("%s:%d: line longer than %d bytes", name, n, maxTrustLine)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return t, nil
}

// trustFields splits a line into fields, dropping a comment.
func trustFields(line string) []string {
	var out []string
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "#") {
			break
		}
		out = append(out, f)
	}
	return out
}

// ValidTrustPrefix accepts an IVOID, optionally followed by '#' and the start
// of a local part.
func ValidTrustPrefix(p string) error {
	id, _, _ := strings.Cut(p, "#")
	if msg := ivoidProblem(id); msg != "" {
		return fmt.Errorf("prefix %q: %s", Clip(p), msg)
	}
	return nil
}

// Len is how many entries the file had.
func (t *Trust) Len() int { return len(t.entries) }

// Covers reports whether ivorn lies under prefix: it equals the prefix,
// or continues it with '/', '#' or '?' (a prefix that itself ends in one
// of those covers whatever follows). So ivo://org/a covers ivo://org/a#1
// and ivo://org/a/b but not ivo://org/ab#1. The comparison ignores ASCII
// case, as IVOA identifiers do, so an event cannot leave a prefix's
// protection by changing the case of its authority.
func Covers(prefix, ivorn string) bool {
	if len(ivorn) < len(prefix) || !strings.EqualFold(ivorn[:len(prefix)], prefix) {
		return false
	}
	if len(ivorn) == len(prefix) || prefix == "" {
		return true
	}
	return strings.IndexByte("/#?", ivorn[len(prefix)]) >= 0 || strings.IndexByte("/#?", prefix[len(prefix)-1]) >= 0
}

// SignatureOutcome is what checking an event's signatures found.
type SignatureOutcome int

// The outcomes, in the order they are reported.
const (
	// SigValid: a signature verifies under a key trusted for the ivorn.
	SigValid SignatureOutcome = iota
	// SigInvalid: a signature by a key trusted for the ivorn does not
	// verify: the event was changed after signing, or the signature is
	// corrupt, and none verifies. Every signature on an event not read
	// as UTF-8 is invalid (see EncodingProblem).
	SigInvalid
	// SigMissing: the event carries no signature comment.
	SigMissing
	// SigUntrusted: signatures that parse, none by a key trusted for the ivorn.
	SigUntrusted
	// SigMalformed: a signature comment that does not parse, or too many.
	SigMalformed
)

// SignatureOutcomes lists every outcome, for counters.
func SignatureOutcomes() []SignatureOutcome {
	return []SignatureOutcome{SigValid, SigInvalid, SigMissing, SigUntrusted, SigMalformed}
}

// String is the outcome's name in counters and output: valid, invalid,
// missing, untrusted_key, malformed.
func (o SignatureOutcome) String() string {
	switch o {
	case SigValid:
		return "valid"
	case SigInvalid:
		return "invalid"
	case SigMissing:
		return "missing"
	case SigUntrusted:
		return "untrusted_key"
	case SigMalformed:
		return "malformed"
	}
	return fmt.Sprintf("SignatureOutcome(%d)", int(o))
}

// Verdict is the result of checking one event against a Trust.
type Verdict struct {
	Outcome SignatureOutcome
	// Required is set when the ivorn lies under a listed prefix, so the
	// event must be validly signed.
	Required bool
	// Reason says in one line what was found; for a valid signature, which
	// key and prefix.
	Reason string
}

// Check examines ev's signatures against t. At most MaxSignatures are
// parsed, and only those by a key trusted for ev's ivorn are verified.
// A nil Trust lists nothing.
func (t *Trust) Check(ev *Event) Verdict {
	var covering []trustEntry
	if t != nil && ev.IVORN != "" {
		for _, e := range t.entries {
			if Covers(e.prefix, ev.IVORN) {
				covering = append(covering, e)
			}
		}
	}
	v := Verdict{Required: len(covering) > 0}
	sigs, perr := ParseSignatures(ev.Raw[ev.End:])
	if len(sigs) > 0 {
		if why := EncodingProblem(ev); why != "" {
			v.Outcome, v.Reason = SigInvalid, why
			return v
		}
	}
	var failed *Signature
	for i := range sigs {
		s := &sigs[i]
		for _, e := range covering {
			if !e.key.Equal(s.Key) {
				continue
			}
			if s.Verify(ev.Element()) {
				v.Outcome, v.Reason = SigValid, fmt.Sprintf("signed by key %s, trusted for %s", s.KeyString(), Clip(e.prefix))
				return v
			}
			failed = s
			break
		}
	}
	switch {
	case failed != nil:
		v.Outcome, v.Reason = SigInvalid, fmt.Sprintf("signature by trusted key %s does not verify: the event was changed after it was signed", failed.KeyString())
	case perr != nil:
		v.Outcome, v.Reason = SigMalformed, perr.Error()
	case len(sigs) > 0 && v.Required:
		v.Outcome, v.Reason = SigUntrusted, fmt.Sprintf("signed only by keys not trusted for %s (first: %s)", Clip(ev.IVORN), sigs[0].KeyString())
	case len(sigs) > 0:
		v.Outcome, v.Reason = SigUntrusted, fmt.Sprintf("signed only by keys not trusted for %s: no trusted prefix covers it (first: %s)", Clip(ev.IVORN), sigs[0].KeyString())
	case v.Required:
		v.Outcome, v.Reason = SigMissing, fmt.Sprintf("not signed, and %s lies under a prefix whose events must be signed", Clip(ev.IVORN))
	default:
		v.Outcome, v.Reason = SigMissing, "not signed"
	}
	return v
}

// TrustedKey is the trust-file line for pub under prefix.
func TrustedKey(prefix string, pub ed25519.PublicKey) string {
	return prefix + " ed25519:" + base64.StdEncoding.EncodeToString(pub)
}
