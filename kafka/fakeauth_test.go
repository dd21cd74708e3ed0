package kafka

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// The SASL side of the fake cluster (PLAIN and OAUTHBEARER, as Kafka's
// own servers answer them), its TLS certificate, and an OAuth token
// endpoint whose tokens the cluster takes.

func (fc *fakeConn) saslHandshake(r *reader) ([]byte, bool) {
	mech := r.string()
	if err := r.done(apiSaslHandshake); err != nil {
		fc.violation("%v", err)
		return nil, false
	}
	c := fc.c
	c.mu.Lock()
	sasl := c.sasl
	c.mu.Unlock()
	resp := &saslHandshakeResponse{}
	if sasl.mechanism != "" {
		resp.mechanisms = []string{sasl.mechanism}
	}
	if mech != sasl.mechanism || sasl.mechanism == "" {
		resp.errorCode = int16(ErrUnsupportedSaslMechanism)
		return encodeSaslHandshakeResponse(resp), false
	}
	fc.mechanism = mech
	fc.challenged = false
	fc.reauthing = fc.authed
	return encodeSaslHandshakeResponse(resp), true
}

func (fc *fakeConn) saslAuthenticate(v int16, r *reader) ([]byte, bool) {
	auth := r.bytes()
	if err := r.done(apiSaslAuthenticate); err != nil {
		fc.violation("%v", err)
		return nil, false
	}
	c := fc.c
	c.mu.Lock()
	sasl := c.sasl
	c.mu.Unlock()
	if fc.mechanism == "" {
		fc.violation("SaslAuthenticate without SaslHandshake")
		return nil, false
	}
	fail := func(msg string) ([]byte, bool) {
		c.mu.Lock()
		c.stats.AuthFailures++
		c.mu.Unlock()
		return encodeSaslAuthenticateResponse(&saslAuthenticateResponse{
			errorCode: int16(ErrSaslAuthenticationFailed), errorMessage: msg}, v, false), false
	}
	var lifetime time.Duration
	switch fc.mechanism {
	case "PLAIN":
		parts := bytes.Split(auth, []byte{0})
		if len(parts) != 3 || string(parts[1]) != sasl.user || string(parts[2]) != sasl.pass {
			return fail("Authentication failed: Invalid username or password")
		}
		lifetime = sasl.lifetime
	case "OAUTHBEARER":
		if fc.challenged {
			// The client's \x01 after the error challenge.
			return fail("Authentication failed during authentication due to invalid credentials with SASL mechanism OAUTHBEARER")
		}
		_, rest, ok1 := bytes.Cut(auth, []byte("\x01auth=Bearer "))
		tok, _, ok2 := bytes.Cut(rest, []byte{1})
		c.mu.Lock()
		exp, known := c.tokens[string(tok)]
		c.mu.Unlock()
		if !ok1 || !ok2 || !known || !time.Now().Before(exp) {
			fc.challenged = true
			return encodeSaslAuthenticateResponse(&saslAuthenticateResponse{
				authBytes: []byte(`{"status":"invalid_token"}`)}, v, true), true
		}
		lifetime = time.Until(exp)
		if sasl.lifetime > 0 {
			lifetime = min(lifetime, sasl.lifetime)
		}
	default:
		fc.violation("mechanism %q", fc.mechanism)
		return nil, false
	}
	c.mu.Lock()
	if fc.authed {
		c.stats.Reauths++
	}
	c.mu.Unlock()
	fc.authed = true
	fc.reauthing = false
	fc.authExpires = time.Time{}
	resp := &saslAuthenticateResponse{}
	if v >= 1 && lifetime > 0 {
		fc.authExpires = time.Now().Add(lifetime)
		resp.sessionLifetimeMs = lifetime.Milliseconds()
	}
	return encodeSaslAuthenticateResponse(resp, v, true), true
}

// testCert makes a self-signed certificate for 127.0.0.1 and localhost,
// and a pool that trusts only it.
func testCert(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fake kafka"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// fakeTokenEndpoint is an OAuth 2.0 client-credentials endpoint over TLS
// whose tokens its cluster takes until they expire.
type fakeTokenEndpoint struct {
	url   string
	roots *x509.CertPool

	mu     sync.Mutex
	issued []string // every token handed out, for the no-secret checks
	asked  int
	// expiresIn is the lifetime of the tokens handed out.
	expiresIn time.Duration
}

// startTokenEndpoint serves tokens for clientID and secret, each valid
// for expiresIn (whole seconds), and makes c take them.
func (c *fakeCluster) startTokenEndpoint(t testing.TB, clientID, secret string, expiresIn time.Duration) *fakeTokenEndpoint {
	t.Helper()
	cert, roots := testCert(t)
	te := &fakeTokenEndpoint{roots: roots, expiresIn: expiresIn}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, sec, ok := r.BasicAuth()
		if !ok {
			r.ParseForm()
			id, sec = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		te.mu.Lock()
		defer te.mu.Unlock()
		te.asked++
		if id != clientID || sec != secret {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		var nonce [12]byte
		rand.Read(nonce[:])
		tok := "fake-token-" + hex.EncodeToString(nonce[:])
		te.issued = append(te.issued, tok)
		c.mu.Lock()
		c.tokens[tok] = time.Now().Add(te.expiresIn)
		c.mu.Unlock()
		fmt.Fprintf(w, `{"access_token":%q,"expires_in":%d,"token_type":"Bearer"}`, tok, int(te.expiresIn/time.Second))
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	te.url = srv.URL + "/oauth2/token"
	return te
}

// tokens returns every token handed out so far.
func (te *fakeTokenEndpoint) tokens() []string {
	te.mu.Lock()
	defer te.mu.Unlock()
	return append([]string(nil), te.issued...)
}
