package vtp

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"

	"comet/voevent"
)

func sigKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func signed(t *testing.T, raw []byte, k ed25519.PrivateKey) []byte {
	t.Helper()
	ev, err := voevent.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	out, err := voevent.Sign(ev, k)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// trustFor lists k for the test events' prefix, ivo://example.org/test.
func trustFor(t *testing.T, k ed25519.PrivateKey) *voevent.Trust {
	t.Helper()
	tr, err := voevent.ParseTrust("keys.txt", strings.NewReader(voevent.TrustedKey("ivo://example.org/test", k.Public().(ed25519.PublicKey))+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func withPolicy(p *voevent.Policy) func(*Config) {
	return func(c *Config) { c.Signatures = p.Check }
}

// A broker that checks nothing relays a signed event byte for byte, so
// the subscriber can verify it.
func TestSignedEventRelayedIntact(t *testing.T) {
	k := sigKey(1)
	tb := startBroker(t, "ivo://example.org/broker", nil)
	sub := dialSub(t, tb, subOpts{})
	ev := signed(t, testEvent(ivorn("signed"), "observation", ""), k)
	mustAck(t, tb.recv, ev)
	got := sub.next(t)
	if !bytes.Equal(got, ev) {
		t.Fatalf("subscriber got\n%s\nwant the signed event byte for byte:\n%s", got, ev)
	}
	parsed, err := voevent.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if v := trustFor(t, k).Check(parsed); v.Outcome != voevent.SigValid {
		t.Fatalf("relayed event: %s", v.Reason)
	}
	if tb.Snapshot().Counters.Signatures != nil {
		t.Error("a broker without a signature check reports signature counters")
	}
}

func TestSignedOnlyRefusesUnsigned(t *testing.T) {
	k := sigKey(1)
	tb := startBroker(t, "ivo://example.org/broker", withPolicy(voevent.NewPolicy(trustFor(t, k), true)))
	sub := dialSub(t, tb, subOpts{})
	// Outside every trusted prefix, but --signed-only refuses it anyway.
	unsigned := testEvent("ivo://example.org/other#1", "observation", "")
	a := publish(t, tb.recv, unsigned)[0]
	if a.Role != RoleNak || len(a.Results) == 0 || !strings.Contains(a.Results[0], "accepts only validly signed events: not signed") {
		t.Fatalf("unsigned event: %s %v, want a nak saying it is not signed", a.Role, a.Results)
	}
	good := signed(t, testEvent(ivorn("good"), "observation", ""), k)
	mustAck(t, tb.recv, good)
	if got := sub.next(t); !bytes.Equal(got, good) {
		t.Fatalf("subscriber got %s, want the signed event only", got)
	}
	s := tb.Snapshot().Counters.Signatures
	if s == nil || s.Outcomes["missing"] != 1 || s.Outcomes["valid"] != 1 || s.RefusedFromAuthors != 1 {
		t.Fatalf("signature counters %+v", s)
	}
}

func TestWrongKeyNakd(t *testing.T) {
	k, wrong := sigKey(1), sigKey(2)
	tb := startBroker(t, "ivo://example.org/broker", withPolicy(voevent.NewPolicy(trustFor(t, k), false)))
	sub := dialSub(t, tb, subOpts{})
	tampered := bytes.Replace(signed(t, testEvent(ivorn("t"), "observation", ""), k), []byte(`value="7"`), []byte(`value="9"`), 1)
	answers := publish(t, tb.recv,
		signed(t, testEvent(ivorn("wrong"), "observation", ""), wrong),
		testEvent(ivorn("unsigned"), "observation", ""),
		tampered,
		append(testEvent(ivorn("bad"), "observation", ""), "<!-- voevent-signature v=1 -->"...))
	for i, want := range []string{
		"signature required: signed only by keys not trusted for ivo://example.org/test#",
		"signature required: not signed",
		"signature required: signature by trusted key",
		"signature required: malformed signature:",
	} {
		if a := answers[i]; a.Role != RoleNak || len(a.Results) == 0 || !strings.HasPrefix(a.Results[0], "Event rejected: "+want) {
			t.Errorf("event %d: %s %v, want a nak starting %q", i, a.Role, a.Results, want)
		}
	}
	// Events under no trusted prefix pass, signed or not.
	free := testEvent("ivo://example.org/free#1", "observation", "")
	mustAck(t, tb.recv, free)
	if got := sub.next(t); !bytes.Equal(got, free) {
		t.Fatalf("subscriber got %s, want only the event outside the trusted prefix", got)
	}
	s := tb.Snapshot().Counters.Signatures
	want := map[string]int64{"valid": 0, "invalid": 1, "missing": 2, "untrusted_key": 1, "malformed": 1}
	for o, n := range want {
		if s.Outcomes[o] != n {
			t.Errorf("outcome %s counted %d, want %d (all: %v)", o, s.Outcomes[o], n, s.Outcomes)
		}
	}
	if s.RefusedFromAuthors != 4 {
		t.Errorf("refused from authors %d, want 4", s.RefusedFromAuthors)
	}
}

// From a remote, an event under a trusted prefix with a bad signature is
// acknowledged (a nak would get us dropped) but not relayed, and logged.
func TestRemoteWrongKeyAckedNotRelayed(t *testing.T) {
	k, wrong := sigKey(1), sigKey(2)
	up := startBroker(t, "ivo://example.org/up", nil)
	down := startBroker(t, "ivo://example.org/down", withPolicy(voevent.NewPolicy(trustFor(t, k), false)))
	down.Subscribe(up.bcast)
	waitSubscribed(t, up, 1)
	sub := dialSub(t, down, subOpts{})

	bad := signed(t, testEvent(ivorn("remote"), "observation", ""), wrong)
	good := signed(t, testEvent(ivorn("remote"), "observation", ""), k)
	mustAck(t, up.recv, bad)
	down.log.waitLog(t, "event from remote broker refused: acknowledged, not relayed")
	mustAck(t, up.recv, good)
	if got := sub.next(t); !bytes.Equal(got, good) {
		t.Fatalf("downstream subscriber got\n%s\nwant only the validly signed event", got)
	}
	if !strings.Contains(down.log.String(), "signed only by keys not trusted") {
		t.Errorf("the refusal does not say why:\n%s", down.log)
	}
	s := down.Snapshot().Counters.Signatures
	if s.DroppedFromRemotes != 1 || s.Outcomes["untrusted_key"] != 1 || s.Outcomes["valid"] != 1 {
		t.Errorf("signature counters %+v", s)
	}
	if n := down.Snapshot().Counters.AcceptedFromRemotes; n != 1 {
		t.Errorf("accepted from remotes %d, want 1", n)
	}
	// The refused event is acknowledged like any other, and not recorded
	// as seen: a correctly signed copy of the same element, arriving
	// later by another path, is still relayed.
	var w warnings
	plain := testEvent(ivorn("x"), "observation", "")
	reply, ev := down.remoteAnswer(signed(t, plain, wrong), discardLogger(), &w)
	if ev != nil {
		t.Fatal("refused event returned for delivery")
	}
	if a, err := voevent.Parse(reply); err != nil || a.Role != RoleAck {
		t.Fatalf("reply %s, want an ack", reply)
	}
	if _, ev := down.remoteAnswer(signed(t, plain, k), discardLogger(), &w); ev == nil {
		t.Fatal("the validly signed copy of a refused event was not relayed")
	}
}

// Thousands of signature comments: the author gets a one-line nak, and
// the broker goes on serving others.
func TestHostileSignatures(t *testing.T) {
	k := sigKey(1)
	tb := startBroker(t, "ivo://example.org/broker", withPolicy(voevent.NewPolicy(trustFor(t, k), false)))
	sub := dialSub(t, tb, subOpts{})
	base := testEvent(ivorn("many"), "observation", "")
	one := signed(t, base, sigKey(3))
	comment := one[len(base):]
	many := append(bytes.Clone(base), bytes.Repeat(comment, 4000)...)
	huge := append(bytes.Clone(base), "<!-- voevent-signature v=1 alg=ed25519 key="+strings.Repeat("QUFB", 200000)+" sig=x -->"...)
	answers := publish(t, tb.recv, many, huge)
	for i, want := range []string{
		"signature required: malformed signature: more than 8 signature comments",
		"signature required: malformed signature: want a 44-character key",
	} {
		a := answers[i]
		if a.Role != RoleNak || len(a.Results) != 1 || !strings.HasPrefix(a.Results[0], "Event rejected: "+want) || len(a.Results[0]) > 300 {
			t.Errorf("hostile event %d: %s %v, want one short nak starting %q", i, a.Role, a.Results, want)
		}
	}
	good := signed(t, testEvent(ivorn("after"), "observation", ""), k)
	mustAck(t, tb.recv, good)
	if got := sub.next(t); !bytes.Equal(got, good) {
		t.Fatal("the broker did not go on relaying")
	}
}

// TestPaddedIvornUnderTrustedPrefix: white space around an ivorn does not
// take it out of a trusted prefix. xs:anyURI drops it, and so does every
// rule here (trust, identity, logs): an unsigned " ivo://example.org/test#…"
// is refused from an author and from a remote alike.
func TestPaddedIvornUnderTrustedPrefix(t *testing.T) {
	k := sigKey(1)
	noValidation := func(c *Config) { c.Validate = nil }
	up := startBroker(t, "ivo://example.org/up", noValidation)
	down := startBroker(t, "ivo://example.org/down", func(c *Config) {
		withPolicy(voevent.NewPolicy(trustFor(t, k), false))(c)
		c.SeenRemote = newMemSeen().check
	})
	down.Subscribe(up.bcast)
	waitSubscribed(t, up, 1)
	sub := dialSub(t, down, subOpts{})

	// From an author. Validation refuses a padded ivorn too; without it,
	// the trust check still sees the ivorn under the prefix.
	lax := startBroker(t, "ivo://example.org/lax", func(c *Config) {
		noValidation(c)
		withPolicy(voevent.NewPolicy(trustFor(t, k), false))(c)
	})
	for _, iv := range []string{" " + ivorn("pad"), "&#9;" + ivorn("tab") + "&#10; "} {
		a := publish(t, lax.recv, testEvent(iv, "observation", ""))[0]
		if a.Role != RoleNak || len(a.Results) == 0 || !strings.Contains(a.Results[0], "signature required: not signed, and ivo://example.org/test#") {
			t.Errorf("unsigned event with ivorn %q from an author: %s %v, want a nak: signature required", iv, a.Role, a.Results)
		}
		if a.Origin != strings.Trim(strings.NewReplacer("&#9;", "", "&#10;", "").Replace(iv), " ") {
			t.Errorf("nak for %q answers ivorn %q, want it without the white space", iv, a.Origin)
		}
		a = publish(t, down.recv, testEvent(iv, "observation", ""))[0]
		if a.Role != RoleNak || !strings.Contains(strings.Join(a.Results, " "), "is not a valid IVORN") {
			t.Errorf("unsigned event with ivorn %q from an author, validated: %s %v, want a nak from validation", iv, a.Role, a.Results)
		}
	}
	if !strings.Contains(lax.log.String(), `ivorn=ivo://example.org/test#pad-`) {
		t.Errorf("the log does not give the ivorn without its white space:\n%s", lax.log)
	}

	// From a remote: acknowledged upstream, not relayed.
	mustAck(t, up.recv, testEvent(" "+ivorn("pad-remote"), "observation", ""))
	down.log.waitLog(t, "event from remote broker refused: acknowledged, not relayed")
	if !strings.Contains(down.log.String(), "not signed, and ivo://example.org/test#pad-remote") {
		t.Errorf("the refusal does not name the ivorn without its white space:\n%s", down.log)
	}
	good := signed(t, testEvent(ivorn("after"), "observation", ""), k)
	mustAck(t, up.recv, good)
	if got := sub.next(t); !bytes.Equal(got, good) {
		t.Fatalf("downstream subscriber got\n%s\nwant only the signed event, not the padded unsigned one", got)
	}
}

// TestPaddedIvornIdentity: an author's identity is held to the ivorn
// without its white space, in the check and in the nak.
func TestPaddedIvornIdentity(t *testing.T) {
	tb := startBroker(t, "ivo://example.org/broker", func(c *Config) { c.Validate = nil })
	var w warnings
	raw := testEvent(" ivo://example.org/test#id-1", "observation", "")
	author := func(identity string) ([]byte, *voevent.Event) {
		v := tb.submit(raw, &source{kind: authorSource, who: &publisher{identity: identity}, warn: &w}, discardLogger())
		return tb.authorReply(v), v.ev
	}
	reply, ev := author("ivo://example.org/test")
	if ev == nil {
		t.Fatalf("an author publishing under its identity, padded, was refused: %s", reply)
	}
	reply, ev = author("ivo://example.org/other")
	if ev != nil || !bytes.Contains(reply, []byte("ivorn ivo://example.org/test#id-1 is not under this author's identity ivo://example.org/other")) {
		t.Fatalf("an author publishing outside its identity: %s", reply)
	}
}

// TestRefusedCopyDoesNotSuppressSigned: a copy the signature policy
// refuses (stripped of its signature, or signed by another key) is
// refused before it is recorded as seen, so the validly signed copy of
// the same element, arriving later, is still accepted; from an author
// and from a remote. Under no trusted prefix a stripped copy is accepted,
// and the signed one is then a duplicate.
func TestRefusedCopyDoesNotSuppressSigned(t *testing.T) {
	k, wrong := sigKey(1), sigKey(2)
	for _, signedOnly := range []bool{false, true} {
		tb := startBroker(t, "ivo://example.org/broker", withPolicy(voevent.NewPolicy(trustFor(t, k), signedOnly)))
		sub := dialSub(t, tb, subOpts{})
		base := testEvent(ivorn("strip"), "observation", "")
		good := signed(t, base, k)
		answers := publish(t, tb.recv, base, signed(t, base, wrong), good, base, good)
		for i, want := range []string{RoleNak, RoleNak, RoleAck, RoleNak, RoleAck} {
			if answers[i].Role != want {
				t.Errorf("signed-only %v, copy %d: %s %v, want %s", signedOnly, i, answers[i].Role, answers[i].Results, want)
			}
		}
		if r := answers[2].Results; len(r) != 0 {
			t.Errorf("signed-only %v: the signed copy after refused ones: ack %v, want it accepted as new", signedOnly, r)
		}
		if r := answers[4].Results; len(r) != 1 || r[0] != ReasonDuplicate {
			t.Errorf("signed-only %v: the signed copy again: ack %v, want %q", signedOnly, r, ReasonDuplicate)
		}
		if got := sub.next(t); !bytes.Equal(got, good) {
			t.Fatalf("signed-only %v: subscriber got\n%s\nwant the signed copy", signedOnly, got)
		}
	}

	// Under no trusted prefix, the first copy wins, signed or not.
	tb := startBroker(t, "ivo://example.org/broker", withPolicy(voevent.NewPolicy(trustFor(t, k), false)))
	free := testEvent("ivo://example.org/free#strip", "observation", "")
	answers := publish(t, tb.recv, free, signed(t, free, k))
	if answers[0].Role != RoleAck || len(answers[0].Results) != 0 || answers[1].Role != RoleAck || len(answers[1].Results) != 1 || answers[1].Results[0] != ReasonDuplicate {
		t.Errorf("under no trusted prefix: %+v, want the stripped copy accepted and the signed one a duplicate", answers)
	}

	// From remotes: one upstream relays a stripped copy, another the
	// signed one; the downstream broker relays the signed one.
	up1 := startBroker(t, "ivo://example.org/up1", nil)
	up2 := startBroker(t, "ivo://example.org/up2", nil)
	downSeen := newMemSeen()
	down := startBroker(t, "ivo://example.org/down", func(c *Config) {
		withPolicy(voevent.NewPolicy(trustFor(t, k), false))(c)
		c.SeenRemote = downSeen.check
	})
	down.Subscribe(up1.bcast)
	down.Subscribe(up2.bcast)
	waitSubscribed(t, up1, 1)
	waitSubscribed(t, up2, 1)
	sub := dialSub(t, down, subOpts{})
	base := testEvent(ivorn("strip-remote"), "observation", "")
	good := signed(t, base, k)
	mustAck(t, up1.recv, base)
	down.log.waitLog(t, "not signed, and ivo://example.org/test#strip-remote")
	mustAck(t, up2.recv, good)
	if got := sub.next(t); !bytes.Equal(got, good) {
		t.Fatalf("downstream subscriber got\n%s\nwant the signed copy", got)
	}
	if s := down.Snapshot().Counters.Signatures; s.DroppedFromRemotes != 1 || s.Outcomes["valid"] != 1 {
		t.Errorf("signature counters %+v, want the stripped copy dropped and the signed one valid", s)
	}
}

// TestEncodingSwapRefused: a validly signed event whose declaration a
// relay changed to ISO-8859-1 reads as other text under the same
// signature; an author gets a nak naming the encoding, and from a remote
// it is not relayed.
func TestEncodingSwapRefused(t *testing.T) {
	k := sigKey(1)
	policy := withPolicy(voevent.NewPolicy(trustFor(t, k), false))
	tb := startBroker(t, "ivo://example.org/broker", policy)
	good := signed(t, testEvent(ivorn("enc"), "observation", `<Description>München</Description>`), k)
	swapped := bytes.Replace(good, []byte(`encoding="UTF-8"`), []byte(`encoding="ISO-8859-1"`), 1)
	a := publish(t, tb.recv, swapped)[0]
	if a.Role != RoleNak || len(a.Results) == 0 || !strings.Contains(a.Results[0], "signature required: the event declares encoding ISO-8859-1") {
		t.Fatalf("signed event declared ISO-8859-1: %s %v, want a nak naming the encoding", a.Role, a.Results)
	}
	var w warnings
	if _, ev := tb.remoteAnswer(swapped, discardLogger(), &w); ev != nil {
		t.Fatal("a signed event declared ISO-8859-1 from a remote was relayed")
	}
	mustAck(t, tb.recv, good)
}
