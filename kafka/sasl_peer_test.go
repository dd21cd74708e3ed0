package kafka

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests run the SASL mechanisms and the token source against
// kafkapeer's SCRAM, PLAIN and OAUTHBEARER servers (see peer_test.go),
// over TLS as GCN and Hopskotch listen.

// exchange runs m over p the way the consumer will: a non-zero error code
// fails, and a mechanism's reply that comes with an error is sent before
// failing.
func exchange(p *peerConn, m saslMechanism) (lifetimeMs int64, err error) {
	body, err := p.send(saslHandshakeRequest{mechanism: m.name()})
	if err != nil {
		return 0, err
	}
	if _, err := decodeSaslHandshakeResponse(body); err != nil {
		return 0, err
	}
	out, err := m.start()
	if err != nil {
		return 0, err
	}
	for {
		resp, err := authenticate(p, out)
		if err != nil {
			return 0, err
		}
		reply, merr := m.next(resp.authBytes)
		if reply == nil {
			return resp.sessionLifetimeMs, merr
		}
		if merr != nil {
			if _, err := authenticate(p, reply); err == nil {
				return 0, fmt.Errorf("broker accepted the end of a failed exchange; mechanism said %v", merr)
			}
			return 0, merr
		}
		out = reply
	}
}

// authenticate sends SaslAuthenticate v1; a non-zero error code in the
// answer comes back as an error.
func authenticate(p *peerConn, auth []byte) (*saslAuthenticateResponse, error) {
	body, err := p.send(saslAuthenticateRequest{v: 1, authBytes: auth})
	if err != nil {
		return nil, err
	}
	return decodeSaslAuthenticateResponse(body, 1)
}

func TestPeer(t *testing.T) {
	bin := kafkapeer(t)
	for _, mech := range []string{MechScramSHA512, MechScramSHA256, MechPlain} {
		t.Run(mech, func(t *testing.T) {
			peer := startKafkapeer(t, bin, peerOpts{sasl: mech, tls: true})
			creds, err := LoadCreds(filepath.Join(peer.dir, "credentials"), "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			p := peer.dial(t)
			m, err := newSASL(creds, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := exchange(p, m); err != nil {
				t.Fatalf("good password: %v", err)
			}
			bad := *creds
			bad.Password += "x"
			p2 := peer.dial(t)
			m, _ = newSASL(&bad, "")
			if _, err := exchange(p2, m); err == nil {
				t.Fatal("wrong password accepted")
			}
		})
	}
	t.Run(MechOAuthBearer, func(t *testing.T) { testPeerOAuthBearer(t, bin) })
}

func testPeerOAuthBearer(t *testing.T, bin string) {
	peer := startKafkapeer(t, bin, peerOpts{sasl: MechOAuthBearer, tls: true})
	creds, err := LoadCreds(filepath.Join(peer.dir, "credentials"), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	p, roots := peer.dial(t), peer.roots
	src, err := newTokenSource(creds, roots, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := src.fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m, err := newSASL(creds, tok.value)
	if err != nil {
		t.Fatal(err)
	}
	life, err := exchange(p, m)
	if err != nil {
		t.Fatalf("fresh token: %v", err)
	}
	if life <= 0 || time.Duration(life)*time.Millisecond > time.Until(tok.expires)+time.Minute {
		t.Errorf("session lifetime %d ms for a token expiring %v", life, tok.expires)
	}

	// A token the broker does not accept gets the error challenge; the
	// exchange must fail even though its first answer had error code 0.
	forged := tok.value[:len(tok.value)-4] + "AAAA"
	p2 := peer.dial(t)
	m, _ = newSASL(creds, forged)
	_, err = exchange(p2, m)
	if err == nil || !strings.Contains(err.Error(), `status "invalid_token"`) {
		t.Fatalf("forged token: %v", err)
	}
	noSecrets(t, "error", err.Error())
	if strings.Contains(err.Error(), forged) || strings.Contains(err.Error(), creds.ClientSecret) {
		t.Errorf("error shows a secret: %v", err)
	}

	// A wrong client secret is named by the endpoint's error code.
	bad := *creds
	bad.ClientSecret += "x"
	src2, _ := newTokenSource(&bad, roots, 10*time.Second)
	_, err = src2.fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), `"invalid_client"`) || strings.Contains(err.Error(), bad.ClientSecret) {
		t.Fatalf("wrong secret: %v", err)
	}
}
