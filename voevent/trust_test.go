package voevent

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		prefix, ivorn string
		want          bool
	}{
		{"ivo://nasa.gsfc.gcn", "ivo://nasa.gsfc.gcn/SWIFT#1", true},
		{"ivo://nasa.gsfc.gcn", "ivo://nasa.gsfc.gcn", true},
		{"ivo://nasa.gsfc.gcn", "ivo://nasa.gsfc.gcn#1", true},
		{"ivo://nasa.gsfc.gcn", "ivo://nasa.gsfc.gcn?x", true},
		{"ivo://nasa.gsfc.gcn/SWIFT", "ivo://nasa.gsfc.gcn/SWIFTX#1", false},
		{"ivo://nasa.gsfc.gcn/SWIFT", "ivo://nasa.gsfc.gcn/SWIF", false},
		{"ivo://nasa.gsfc.gcn", "ivo://nasa.gsfc.gcnx/a#1", false},
		{"ivo://nasa.gsfc.gcn/SWIFT", "ivo://NASA.gsfc.gcn/swift#1", true},
		{"ivo://org/a/", "ivo://org/a/b#1", true},
		{"ivo://org/a#GRB", "ivo://org/a#GRB-1", false},
		{"ivo://org/a#", "ivo://org/a#GRB-1", true},
		{"ivo://org/a", "", false},
	} {
		if got := Covers(tc.prefix, tc.ivorn); got != tc.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", tc.prefix, tc.ivorn, got, tc.want)
		}
	}
}

func TestParseTrust(t *testing.T) {
	a, b := base64.StdEncoding.EncodeToString(pubOf(testKey(1))), base64.StdEncoding.EncodeToString(pubOf(testKey(2)))
	file := "# trusted signers\n\n" +
		"ivo://nasa.gsfc.gcn ed25519:" + a + "   # GCN\n" +
		"  ivo://example.org/alerts#GRB\ted25519:" + b + "\n" +
		"ivo://nasa.gsfc.gcn ed25519:" + b + "\n"
	tr, err := ParseTrust("keys.txt", strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Len() != 3 {
		t.Fatalf("%d entries, want 3", tr.Len())
	}
	ev := mustParse(t, mustSign(t, sigEvent("ivo://nasa.gsfc.gcn/SWIFT#1"), testKey(2)))
	if v := tr.Check(ev); v.Outcome != SigValid || !strings.Contains(v.Reason, "ivo://nasa.gsfc.gcn") {
		t.Errorf("second key for the same prefix: %+v, want valid", v)
	}
	// '#' inside a prefix is part of it: b is trusted for #GRB... only.
	ev = mustParse(t, mustSign(t, sigEvent("ivo://example.org/alerts#GRB/7"), testKey(2)))
	if v := tr.Check(ev); v.Outcome != SigValid {
		t.Errorf("prefix with '#': %+v, want valid", v)
	}
	ev = mustParse(t, mustSign(t, sigEvent("ivo://example.org/alerts#XRB-7"), testKey(2)))
	if v := tr.Check(ev); v.Outcome != SigUntrusted || v.Required {
		t.Errorf("outside every prefix: %+v, want untrusted_key, not required", v)
	}
}

func TestParseTrustErrors(t *testing.T) {
	key := base64.StdEncoding.EncodeToString(pubOf(testKey(1)))
	for _, tc := range []struct{ name, file, want string }{
		{"one field", "ivo://org/a\n", "keys.txt:1: want \"IVORN-PREFIX ed25519:KEY\", got 1 fields"},
		{"three fields", "# c\nivo://org/a ed25519:" + key + " extra\n", "keys.txt:2: want"},
		{"not ivo", "http://org/a ed25519:" + key + "\n", "keys.txt:1: prefix \"http://org/a\""},
		{"no alg", "ivo://org/a " + key + "\n", "keys.txt:1: key \"" + key + "\": want ed25519:BASE64"},
		{"rsa", "ivo://org/a rsa:" + key + "\n", "want ed25519:BASE64"},
		{"short key", "\n\nivo://org/a ed25519:AAAA\n", "keys.txt:3: key \"ed25519:AAAA\" is not the base64 of a 32-byte Ed25519 public key"},
		{"long line", "# ok\nivo://org/a ed25519:" + strings.Repeat("A", 10000) + "\n", "keys.txt:2: line longer than 4096 bytes"},
	} {
		_, err := ParseTrust("keys.txt", strings.NewReader(tc.file))
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") || len(err.Error()) > 300 {
			t.Errorf("%s: error %v, want one line containing %q", tc.name, err, tc.want)
		}
	}
	if _, err := LoadTrust(os.DevNull); err == nil || err.Error() != os.DevNull+": not a regular file" {
		t.Errorf("a device as trust file: %v", err)
	}
	if _, err := LoadTrust(filepath.Join(t.TempDir(), "absent")); err == nil || !strings.Contains(err.Error(), "absent") {
		t.Errorf("missing file: %v, want an error naming it", err)
	}
}

func TestLoadTrustFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.txt")
	if err := os.WriteFile(path, []byte(TrustedKey("ivo://example.org", pubOf(testKey(1)))+"\nivo://x bad\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadTrust(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":2: ") {
		t.Fatalf("error %v, want it to start with %s:2:", err, path)
	}
}

func TestPolicy(t *testing.T) {
	k, wrong := testKey(1), testKey(2)
	trust := trustOf(t, "ivo://example.org/alerts", k)
	under, outside := "ivo://example.org/alerts#1", "ivo://other.org/x#1"
	for _, tc := range []struct {
		name       string
		raw        []byte
		signedOnly bool
		outcome    SignatureOutcome
		refused    string // "" if accepted
	}{
		{"valid", mustSign(t, sigEvent(under), k), false, SigValid, ""},
		{"valid, signed-only", mustSign(t, sigEvent(under), k), true, SigValid, ""},
		{"unsigned under prefix", sigEvent(under), false, SigMissing, "signature required: not signed"},
		{"wrong key under prefix", mustSign(t, sigEvent(under), wrong), false, SigUntrusted, "signature required: signed only by keys not trusted"},
		{"tampered under prefix", tamper(mustSign(t, sigEvent(under), k)), false, SigInvalid, "signature required: signature by trusted key"},
		{"unsigned outside", sigEvent(outside), false, SigMissing, ""},
		{"trusted key outside its prefix", mustSign(t, sigEvent(outside), k), false, SigUntrusted, ""},
		{"unsigned outside, signed-only", sigEvent(outside), true, SigMissing, "this broker accepts only validly signed events: not signed"},
		{"trusted key outside its prefix, signed-only", mustSign(t, sigEvent(outside), k), true, SigUntrusted, "this broker accepts only validly signed events"},
		// White space around the ivorn does not take it out of the prefix.
		{"unsigned under prefix, padded", sigEvent(" " + under + "\t"), false, SigMissing, "signature required: not signed, and " + under + " lies under"},
		{"unsigned under prefix, padded by references", sigEvent("&#10;&#32;" + under + "&#13;"), false, SigMissing, "signature required: not signed, and " + under + " lies under"},
		{"valid, padded", mustSign(t, sigEvent("  "+under), k), false, SigValid, ""},
	} {
		o, err := NewPolicy(trust, tc.signedOnly).Check(mustParse(t, tc.raw))
		if o != tc.outcome {
			t.Errorf("%s: outcome %v, want %v", tc.name, o, tc.outcome)
		}
		switch {
		case tc.refused == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.refused != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.refused)):
			t.Errorf("%s: %v, want refusal %q", tc.name, err, tc.refused)
		}
	}
}

func TestPolicySetTrust(t *testing.T) {
	a, b := testKey(1), testKey(2)
	p := NewPolicy(trustOf(t, "ivo://example.org", a), false)
	ev := mustParse(t, mustSign(t, sigEvent("ivo://example.org/s#1"), b))
	if _, err := p.Check(ev); err == nil {
		t.Fatal("signed by an untrusted key: accepted")
	}
	p.SetTrust(trustOf(t, "ivo://example.org", b))
	if _, err := p.Check(ev); err != nil {
		t.Fatalf("after trusting b: %v", err)
	}
}

// tamper changes a Param value inside the signed element.
func tamper(raw []byte) []byte {
	return []byte(strings.Replace(string(raw), `value="7"`, `value="8"`, 1))
}

// TestIVORNWithoutWhiteSpace: Event.IVORN is the ivorn as xs:anyURI reads
// it, the value every rule judges; validation still refuses the padding.
func TestIVORNWithoutWhiteSpace(t *testing.T) {
	for _, attr := range []string{" ivo://example.org/alerts#1", "ivo://example.org/alerts#1\n", "&#9;ivo://example.org/alerts#1&#13;&#10;"} {
		ev := mustParse(t, sigEvent(attr))
		if ev.IVORN != "ivo://example.org/alerts#1" {
			t.Errorf("ivorn=%q read as %q, want it without white space", attr, ev.IVORN)
		}
		if err := Validate(ev); err == nil || !strings.Contains(err.Error(), "is not a valid IVORN") {
			t.Errorf("ivorn=%q: validation says %v, want it refused", attr, err)
		}
	}
}
