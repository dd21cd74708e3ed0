package voevent

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"
)

const sigTestIVORN = "ivo://example.org/alerts#GRB-1"

// sigEvent is a schema-valid VOEvent with ivorn id.
func sigEvent(id string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="` + id + `" role="test" version="2.0">
  <Who><AuthorIVORN>ivo://example.org/author</AuthorIVORN><Date>2026-11-24T12:00:00</Date></Who>
  <What><Param name="x" value="7"/></What>
</voe:VOEvent>
`)
}

// testKey returns a fixed key, so failures reproduce.
func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func pubOf(k ed25519.PrivateKey) ed25519.PublicKey { return k.Public().(ed25519.PublicKey) }

func mustParse(t testing.TB, raw []byte) *Event {
	t.Helper()
	ev, err := Parse(raw)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, raw)
	}
	return ev
}

func mustSign(t testing.TB, raw []byte, k ed25519.PrivateKey) []byte {
	t.Helper()
	out, err := Sign(mustParse(t, raw), k)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// trustOf is a trust file listing each key for prefix.
func trustOf(t testing.TB, prefix string, keys ...ed25519.PrivateKey) *Trust {
	t.Helper()
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(TrustedKey(prefix, pubOf(k)) + "\n")
	}
	tr, err := ParseTrust("trust.txt", strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestSignThenVerify(t *testing.T) {
	k := testKey(1)
	raw := sigEvent(sigTestIVORN)
	signed := mustSign(t, raw, k)
	if !bytes.HasPrefix(signed, raw) {
		t.Fatal("signing changed the event's bytes instead of appending")
	}
	ev := mustParse(t, signed)
	if err := Validate(ev); err != nil {
		t.Fatalf("a signed event must stay schema-valid: %v", err)
	}
	if !bytes.Equal(ev.Element(), mustParse(t, raw).Element()) {
		t.Fatal("signing changed the VOEvent element")
	}
	sigs, err := ParseSignatures(ev.Raw[ev.End:])
	if err != nil || len(sigs) != 1 {
		t.Fatalf("signatures %v, %v; want one", sigs, err)
	}
	if !sigs[0].Key.Equal(pubOf(k)) || !sigs[0].Verify(ev.Element()) {
		t.Fatal("the signature does not verify under the signer's key")
	}
	v := trustOf(t, "ivo://example.org/alerts", k).Check(ev)
	if v.Outcome != SigValid || !v.Required || !strings.Contains(v.Reason, sigs[0].KeyString()) {
		t.Fatalf("verdict %+v, want valid and required, naming the key", v)
	}
}

func TestFlippedByteFails(t *testing.T) {
	k := testKey(1)
	signed := mustSign(t, sigEvent(sigTestIVORN), k)
	trust := trustOf(t, "ivo://example.org/alerts", k)
	el := mustParse(t, signed)
	flipped := 0
	// Every byte of the element whose change leaves a well-formed
	// document must make the signature fail.
	for i := el.Start; i < el.End; i++ {
		b := bytes.Clone(signed)
		b[i] ^= 0x01
		ev, err := Parse(b)
		if err != nil || ev.IVORN != sigTestIVORN {
			continue
		}
		flipped++
		if v := trust.Check(ev); v.Outcome != SigInvalid || !strings.Contains(v.Reason, "does not verify") {
			t.Fatalf("byte %d (%q) flipped: verdict %+v, want invalid", i, signed[i], v)
		}
	}
	if flipped < 50 {
		t.Fatalf("only %d flips tested", flipped)
	}
}

func TestChangedDeclarationStillVerifies(t *testing.T) {
	k := testKey(1)
	signed := mustSign(t, sigEvent(sigTestIVORN), k)
	trust := trustOf(t, "ivo://example.org/alerts", k)
	decl := []byte(`<?xml version="1.0" encoding="UTF-8"?>`)
	for name, b := range map[string][]byte{
		"other declaration": bytes.Replace(signed, decl, []byte(`<?xml version='1.0' encoding='utf-8' standalone='yes'?>`), 1),
		"no declaration":    bytes.Replace(signed, decl, nil, 1),
		"comment before":    bytes.Replace(signed, decl, append(decl, "\n<!-- relayed by x -->\r\n"...), 1),
		"CRLF after root":   bytes.ReplaceAll(signed, []byte("-->\n"), []byte("-->\r\n\r\n")),
		"comment after":     append(bytes.Clone(signed), "<!-- note -->\n<?pi x?>\n"...),
	} {
		ev := mustParse(t, b)
		if v := trust.Check(ev); v.Outcome != SigValid {
			t.Errorf("%s: verdict %+v, want valid", name, v)
		}
	}
}

func TestSeveralSigners(t *testing.T) {
	a, b, c := testKey(1), testKey(2), testKey(3)
	signed := mustSign(t, mustSign(t, sigEvent(sigTestIVORN), a), b)
	ev := mustParse(t, signed)
	sigs, err := ParseSignatures(ev.Raw[ev.End:])
	if err != nil || len(sigs) != 2 {
		t.Fatalf("got %d signatures, %v; want 2", len(sigs), err)
	}
	for _, k := range []ed25519.PrivateKey{a, b} {
		if v := trustOf(t, "ivo://example.org", k).Check(ev); v.Outcome != SigValid {
			t.Errorf("trusting one signer: %+v, want valid", v)
		}
	}
	if v := trustOf(t, "ivo://example.org", c).Check(ev); v.Outcome != SigUntrusted || !v.Required {
		t.Errorf("trusting neither signer: %+v, want untrusted_key", v)
	}
	// A forged signature by a trusted key beside a valid one: still valid.
	forged := bytes.Replace(signed, []byte(base64.StdEncoding.EncodeToString(pubOf(a))), []byte(base64.StdEncoding.EncodeToString(pubOf(c))), 1)
	if v := trustOf(t, "ivo://example.org", b, c).Check(mustParse(t, forged)); v.Outcome != SigValid {
		t.Errorf("one good signature among bad: %+v, want valid", v)
	}
	if v := trustOf(t, "ivo://example.org", c).Check(mustParse(t, forged)); v.Outcome != SigInvalid {
		t.Errorf("only the forged signature trusted: %+v, want invalid", v)
	}
}

// TestSignLatin1: an event read as ISO-8859-1 is not signed, because no
// signature on it would hold.
func TestSignLatin1(t *testing.T) {
	raw, err := os.ReadFile("../testdata/voevent/valid/latin1.xml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Sign(mustParse(t, raw), testKey(4))
	if err == nil || !strings.Contains(err.Error(), "declares encoding ISO-8859-1") || !strings.Contains(err.Error(), "convert it to UTF-8") {
		t.Fatalf("signing a Latin-1 event: %v, want a refusal naming the encoding", err)
	}
}

// TestDeclaredEncodingSwap: the declaration is not signed, so a relay can
// change encoding="UTF-8" to ISO-8859-1, and the signed bytes then read
// as other text ("München" as "MÃ¼nchen"). Every signature on an event
// not read as UTF-8 is therefore invalid, whoever signed it.
func TestDeclaredEncodingSwap(t *testing.T) {
	k := testKey(5)
	raw := bytes.Replace(sigEvent(sigTestIVORN), []byte(`<Param name="x" value="7"/>`),
		[]byte(`<Param name="site" value="München"/><Description>Ω ≥ 3σ</Description>`), 1)
	signed := mustSign(t, raw, k)
	trust := trustOf(t, "ivo://example.org/alerts", k)
	if v := trust.Check(mustParse(t, signed)); v.Outcome != SigValid {
		t.Fatalf("as signed: %+v, want valid", v)
	}
	decl := []byte(`<?xml version="1.0" encoding="UTF-8"?>`)
	for _, enc := range []string{"ISO-8859-1", "latin1", "iso_8859-1"} {
		swapped := bytes.Replace(signed, decl, []byte(`<?xml version="1.0" encoding="`+enc+`"?>`), 1)
		ev := mustParse(t, swapped)
		if !bytes.Equal(ev.Element(), mustParse(t, signed).Element()) {
			t.Fatal("the swap should leave the signed bytes as they were")
		}
		v := trust.Check(ev)
		if v.Outcome != SigInvalid || !v.Required || !strings.Contains(v.Reason, "declares encoding ISO-8859-1") {
			t.Errorf("declared %s: %+v, want invalid, naming ISO-8859-1", enc, v)
		}
		// Under no trusted prefix too: the signature is not valid, whoever made it.
		if v := trustOf(t, "ivo://example.org/other", k).Check(ev); v.Outcome != SigInvalid {
			t.Errorf("declared %s, no trusted prefix: %+v, want invalid", enc, v)
		}
		if _, err := NewPolicy(trust, false).Check(ev); err == nil || !strings.Contains(err.Error(), "signature required: the event declares encoding ISO-8859-1") {
			t.Errorf("declared %s: policy says %v, want a refusal naming the encoding", enc, err)
		}
	}
	// US-ASCII reads every document it accepts as UTF-8 does: an ASCII
	// event declared US-ASCII keeps its signature.
	ascii := mustSign(t, sigEvent(sigTestIVORN), k)
	ascii = bytes.Replace(ascii, decl, []byte(`<?xml version="1.0" encoding="US-ASCII"?>`), 1)
	if v := trust.Check(mustParse(t, ascii)); v.Outcome != SigValid {
		t.Errorf("ASCII event declared US-ASCII: %+v, want valid", v)
	}
	// An unsigned Latin-1 event is simply unsigned.
	latin := bytes.Replace(sigEvent(sigTestIVORN), decl, []byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`), 1)
	if v := trust.Check(mustParse(t, latin)); v.Outcome != SigMissing {
		t.Errorf("unsigned Latin-1 event: %+v, want missing", v)
	}
}

func TestSignRefusesTransport(t *testing.T) {
	ev := mustParse(t, []byte(`<trn:Transport xmlns:trn="http://www.telescope-networks.org/xml/Transport/v1.1" role="iamalive" version="1.0"/>`))
	if _, err := Sign(ev, testKey(1)); err == nil || !strings.Contains(err.Error(), "not VOEvent") {
		t.Fatalf("signing a Transport: %v", err)
	}
}

func TestSignRefusesMalformedOrFull(t *testing.T) {
	raw := sigEvent(sigTestIVORN)
	bad := append(bytes.Clone(raw), "<!-- voevent-signature v=2 -->\n"...)
	if _, err := Sign(mustParse(t, bad), testKey(1)); err == nil || !strings.Contains(err.Error(), "already carries a malformed signature") {
		t.Errorf("signing over a malformed signature: %v", err)
	}
	for i := range MaxSignatures {
		raw = mustSign(t, raw, testKey(byte(i+1)))
	}
	if _, err := Sign(mustParse(t, raw), testKey(99)); err == nil || !strings.Contains(err.Error(), "already carries 8 signatures") {
		t.Errorf("signing a ninth time: %v", err)
	}
	if v := trustOf(t, "ivo://example.org", testKey(MaxSignatures)).Check(mustParse(t, raw)); v.Outcome != SigValid {
		t.Errorf("the eighth signer: %+v, want valid", v)
	}
}

func TestSignatureCommentForms(t *testing.T) {
	k := testKey(1)
	el := mustParse(t, sigEvent(sigTestIVORN)).Element()
	good := string(SignatureComment(k, el))
	key := base64.StdEncoding.EncodeToString(pubOf(k))
	sig := good[strings.Index(good, "sig=")+4 : len(good)-4]
	for _, tc := range []struct {
		name, tail string
		want       int    // signatures returned
		err        string // "" for none
	}{
		{"one", good, 1, ""},
		{"none", "\n", 0, ""},
		{"other comments and a PI", "<!-- hello --><?x y?>\n" + good + "\n<!--voevent-->", 1, ""},
		{"double space", strings.Replace(good, " key=", "  key=", 1), 0, "single spaces"},
		{"no space before marker", "<!--voevent-signature v=1 alg=ed25519 key=" + key + " sig=" + sig + " -->", 0, "version 1"},
		{"version 2", strings.Replace(good, "v=1", "v=2", 1), 0, "version 1"},
		{"other algorithm", strings.Replace(good, "alg=ed25519", "alg=ed448", 1), 0, "ed25519"},
		{"no trailing space", strings.Replace(good, " -->", "-->", 1), 0, "single spaces"},
		{"short key", strings.Replace(good, key, key[:40], 1), 0, "44-character key"},
		{"key not base64", strings.Replace(good, key, strings.Repeat("!", 44), 1), 0, "key is not the base64"},
		{"key non-canonical base64", strings.Replace(good, key, key[:42]+"B=", 1), 0, "key is not the base64"},
		{"key 44 characters, no padding", strings.Replace(good, key, strings.Repeat("0", 44), 1), 0, "key is not the base64"},
		{"sig not base64", strings.Replace(good, sig, strings.Repeat("*", 88), 1), 0, "sig is not the base64"},
		{"huge base64", "<!-- voevent-signature v=1 alg=ed25519 key=" + strings.Repeat("A", 1<<20) + " sig=" + sig + " -->", 0, "44-character key"},
		{"malformed after a good one", good + "<!-- voevent-signature garbage -->", 1, "version 1"},
		{"text after root", good + " junk", 1, "unexpected bytes"},
		{"unterminated", "<!-- voevent-signature", 0, "unterminated comment"},
		{"too many", strings.Repeat(good+"\n", MaxSignatures+1), MaxSignatures, "more than 8 signature comments"},
	} {
		sigs, err := ParseSignatures([]byte(tc.tail))
		if len(sigs) != tc.want {
			t.Errorf("%s: %d signatures, want %d", tc.name, len(sigs), tc.want)
		}
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.err != "" && (err == nil || !errors.Is(err, ErrMalformedSignature) || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.err)
		case err != nil && (strings.Contains(err.Error(), "\n") || len(err.Error()) > 200):
			t.Errorf("%s: error not one short line: %q", tc.name, err)
		}
	}
}

// A hostile event: thousands of signature comments, each of which would
// cost a verification. At most MaxSignatures are parsed; the verdict is
// malformed with a one-line reason.
func TestThousandsOfSignatures(t *testing.T) {
	k := testKey(1)
	raw := sigEvent(sigTestIVORN)
	c := SignatureComment(testKey(2), mustParse(t, raw).Element())
	hostile := append(bytes.Clone(raw), bytes.Repeat(append(c, '\n'), 5000)...)
	ev := mustParse(t, hostile)
	v := trustOf(t, "ivo://example.org/alerts", k).Check(ev)
	if v.Outcome != SigMalformed || !v.Required || v.Reason != "malformed signature: more than 8 signature comments" {
		t.Fatalf("verdict %+v", v)
	}
	// The same with the valid signature first: it is found and counts.
	good := append(mustSign(t, raw, k), bytes.Repeat(append(c, '\n'), 5000)...)
	if v := trustOf(t, "ivo://example.org/alerts", k).Check(mustParse(t, good)); v.Outcome != SigValid {
		t.Fatalf("valid signature first: %+v", v)
	}
}

func TestMalformedIsNotMissing(t *testing.T) {
	raw := append(sigEvent(sigTestIVORN), "<!-- voevent-signature v=1 alg=ed25519 key=x sig=y -->\n"...)
	ev := mustParse(t, raw)
	for _, tr := range []*Trust{nil, trustOf(t, "ivo://example.org/alerts", testKey(1))} {
		if v := tr.Check(ev); v.Outcome != SigMalformed || !strings.Contains(v.Reason, "malformed signature") {
			t.Errorf("verdict %+v, want malformed", v)
		}
	}
	if v := (*Trust)(nil).Check(mustParse(t, sigEvent(sigTestIVORN))); v.Outcome != SigMissing || v.Required {
		t.Errorf("unsigned, no trust file: %+v, want missing, not required", v)
	}
}
