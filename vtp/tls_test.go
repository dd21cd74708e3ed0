package vtp

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// tlsBroker is a test broker with TLS author and subscriber endpoints
// beside its plain ones.
type tlsBroker struct {
	*testBroker
	tlsRecv, tlsBcast string
	certs             *Certs
	certFile, keyFile string
}

// startTLSBroker starts a broker whose TLS endpoints serve a certificate
// from ca for the loopback addresses; with mtls they require a client
// certificate ca verifies.
func startTLSBroker(t *testing.T, ivo string, ca *testCA, mtls bool, mod func(*Config)) *tlsBroker {
	t.Helper()
	certs, certFile, keyFile := ca.certs(t, localServer(ivo))
	var clientCAs *x509.CertPool
	if mtls {
		clientCAs = ca.pool
	}
	tb := startBroker(t, ivo, func(c *Config) {
		c.TLS.Server = ServerConfig(certs, clientCAs)
		if mod != nil {
			mod(c)
		}
	})
	lr, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lb, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var serving sync.WaitGroup
	serving.Go(func() { tb.ServeAuthorsTLS(lr) })
	serving.Go(func() { tb.ServeSubscribersTLS(lb) })
	t.Cleanup(func() { shutdown(t, tb.Broker); serving.Wait() })
	return &tlsBroker{testBroker: tb, tlsRecv: lr.Addr().String(), tlsBcast: lb.Addr().String(),
		certs: certs, certFile: certFile, keyFile: keyFile}
}

// tlsDial connects to a TLS endpoint, verifying it against ca and
// offering cert when it is not nil.
func tlsDial(t *testing.T, addr string, ca *testCA, cert *tls.Certificate) *tls.Conn {
	t.Helper()
	conf := &tls.Config{RootCAs: ca.pool}
	if cert != nil { // offered whatever CAs the server names, as ClientConfig does
		conf.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, conf)
	if err != nil {
		t.Fatalf("TLS connection to %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// tlsSub subscribes over c, as dialSub does over plain TCP.
func tlsSub(t *testing.T, tb *testBroker, c net.Conn) *testSub {
	t.Helper()
	return subscribeOn(t, tb, c, subOpts{})
}

// mustBeRefused waits for the broker to close c, failing if it sends a frame.
func mustBeRefused(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	raw, err := ReadFrame(bufio.NewReader(c), DefaultMaxFrame)
	if err == nil {
		t.Fatalf("connection admitted: the broker sent %.200s", raw)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("connection neither admitted nor closed after 10 s")
	}
}

func TestTLSAuthorToSubscriberByteForByte(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	tb := startTLSBroker(t, brokerIVO, ca, true, nil)
	subCert := ca.pair(t, certSpec{cn: "sub", uris: []string{"https://example.org/x", "ivo://example.org/sub"}})
	sub := tlsSub(t, tb.testBroker, tlsDial(t, tb.tlsBcast, ca, &subCert))
	plain := dialSub(t, tb.testBroker, subOpts{})

	authorCert := ca.pair(t, certSpec{cn: "author", uris: []string{"ivo://example.org/test"}})
	ev := testEvent(ivorn("tls"), "observation", "")
	if a := exchange(t, tlsDial(t, tb.tlsRecv, ca, &authorCert), ev)[0]; a.Role != RoleAck {
		t.Fatalf("TLS author got %s %v, want ack", a.Role, a.Results)
	}
	if got := sub.next(t); !bytes.Equal(got, ev) {
		t.Errorf("TLS subscriber got\n%s\nwant the event byte for byte", got)
	}
	if got := plain.next(t); !bytes.Equal(got, ev) {
		t.Errorf("plain subscriber got\n%s\nwant the event byte for byte", got)
	}
	// The identities are in the log and the status figures.
	tb.log.waitLog(t, `identity=ivo://example.org/sub`)
	tb.log.waitLog(t, `msg="event accepted" peer=`)
	if !strings.Contains(tb.log.String(), `identity=ivo://example.org/test ivorn=`) {
		t.Errorf("the author's identity is not in its log lines:\n%s", tb.log)
	}
	snap := tb.Snapshot()
	ids := map[string]bool{}
	for _, s := range snap.Subscribers {
		ids[s.Identity] = true
	}
	if !ids["ivo://example.org/sub"] || !ids[""] || len(snap.Subscribers) != 2 {
		t.Errorf("subscribers in Snapshot %+v, want one with identity ivo://example.org/sub and one plain", snap.Subscribers)
	}
	if src := snap.LastEvent.Source; !strings.HasSuffix(src, " ivo://example.org/test") {
		t.Errorf("last event source %q does not name the author's identity", src)
	}
	tlsListeners := 0
	for _, l := range snap.Listeners {
		if strings.HasPrefix(l.Addr, "tls:") {
			tlsListeners++
		}
	}
	if tlsListeners != 2 {
		t.Errorf("listeners %+v, want the two TLS ones shown as tls:", snap.Listeners)
	}
}

func TestTLSSubscriberWithoutClientCertificateRefused(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	tb := startTLSBroker(t, brokerIVO, ca, true, nil)
	mustBeRefused(t, tlsDial(t, tb.tlsBcast, ca, nil))
	tb.log.waitLog(t, "no client certificate offered")
	if !strings.Contains(tb.log.String(), `msg="TLS handshake failed: closing" port=broadcast peer=127.0.0.1:`) {
		t.Errorf("the warning does not name the port and the peer:\n%s", tb.log)
	}
	// A certificate from another CA is refused too, saying why.
	other := newTestCA(t, "Other CA")
	stranger := other.pair(t, certSpec{cn: "stranger", uris: []string{"ivo://example.org/sub"}})
	mustBeRefused(t, tlsDial(t, tb.tlsBcast, ca, &stranger))
	tb.log.waitLog(t, `client certificate \"CN=stranger\" (issuer \"CN=Other CA\") is signed by an unknown authority`)
	// An expired one from the right CA likewise.
	expired := ca.pair(t, certSpec{cn: "old", uris: []string{"ivo://example.org/sub"}, expired: true})
	mustBeRefused(t, tlsDial(t, tb.tlsBcast, ca, &expired))
	tb.log.waitLog(t, `client certificate \"CN=old\" (issuer \"CN=Test CA\") has expired`)
	if n := tb.Snapshot().Counters.ConnsRefusedTLS; n != 3 {
		t.Errorf("connections_refused_tls = %d, want 3", n)
	}
	// Nobody was admitted, and a good subscriber still is.
	good := ca.pair(t, certSpec{cn: "sub"})
	s := tlsSub(t, tb.testBroker, tlsDial(t, tb.tlsBcast, ca, &good))
	mustAck(t, tb.recv, testEvent(ivorn("after"), "test", ""))
	s.next(t)
	if n := tb.Subscribers(); n != 1 {
		t.Errorf("%d subscribers, want the one good one", n)
	}
}

func TestTLSSubscriberIdentityAllowList(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	tb := startTLSBroker(t, brokerIVO, ca, true, func(c *Config) {
		c.TLS.SubscriberIdentities = []string{"ivo://example.org/sub", "ivo://example.org/sub2"}
	})
	other := ca.pair(t, certSpec{cn: "ivo://example.org/sub", uris: []string{"ivo://example.org/other"}})
	mustBeRefused(t, tlsDial(t, tb.tlsBcast, ca, &other))
	tb.log.waitLog(t, `msg="connection refused: certificate identity not allowed on this port" port=broadcast peer=127.0.0.1:`)
	tb.log.waitLog(t, `identity=ivo://example.org/other`)
	// A listed identity in the common name alone is no identity.
	cnOnly := ca.pair(t, certSpec{cn: "ivo://example.org/sub"})
	mustBeRefused(t, tlsDial(t, tb.tlsBcast, ca, &cnOnly))
	tb.log.waitLog(t, `identity="" subject="CN=ivo://example.org/sub"`)
	if n := tb.Snapshot().Counters.ConnsRefusedIdentity; n != 2 {
		t.Errorf("connections_refused_identity = %d, want 2", n)
	}
	// Listed identities, by their ivo:// URI.
	for _, spec := range []certSpec{{cn: "x", uris: []string{"ivo://example.org/sub"}}, {uris: []string{"https://example.org/", "ivo://example.org/sub2"}}} {
		cert := ca.pair(t, spec)
		tlsSub(t, tb.testBroker, tlsDial(t, tb.tlsBcast, ca, &cert))
	}
	if n := tb.Subscribers(); n != 2 {
		t.Errorf("%d subscribers, want the 2 allowed", n)
	}
}

// TestTLSCommonNameIsNoIdentity: a sub-CA name-constrained to
// example.org URIs cannot issue a certificate for ivo://nasa.gsfc.gcn,
// and a certificate it issues with that name in the common name only
// has no identity: its holder may subscribe, but publishes nothing, not
// even under example.org.
func TestTLSCommonNameIsNoIdentity(t *testing.T) {
	root := newTestCA(t, "Test CA")
	org := root.subCA(t, "Example Org CA", "example.org")
	tb := startTLSBroker(t, brokerIVO, root, true, nil)
	watcher := dialSub(t, tb.testBroker, subOpts{})

	// The name constraint holds where it applies: on URIs.
	uri := org.pair(t, certSpec{cn: "gcn", uris: []string{"ivo://nasa.gsfc.gcn"}})
	mustBeRefused(t, tlsDial(t, tb.tlsRecv, root, &uri))
	tb.log.waitLog(t, "is not authorized to sign for this name")

	forged := org.pair(t, certSpec{cn: "ivo://nasa.gsfc.gcn"})
	if len(forged.Certificate) != 2 {
		t.Fatalf("the leaf does not carry its sub-CA: %d certificates", len(forged.Certificate))
	}
	answers := exchange(t, tlsDial(t, tb.tlsRecv, root, &forged),
		testEvent("ivo://nasa.gsfc.gcn/SWIFT#1", "observation", ""),
		testEvent("ivo://example.org/test#cn-only", "observation", ""))
	for i, a := range answers {
		if a.Role != RoleNak || len(a.Results) == 0 || !strings.Contains(a.Results[0], "certificate carries no ivo:// URI, so it has no identity and may publish nothing here") {
			t.Errorf("event %d from a certificate with only a common name: %s %v, want a nak saying it has no identity", i, a.Role, a.Results)
		}
	}
	tb.log.waitLog(t, `msg="author certificate carries no ivo:// URI: every event it sends will be refused" port=receive peer=127.0.0.1:`)
	if n := tb.Snapshot().Counters.RefusedIdentity; n != 2 {
		t.Errorf("refused_identity = %d, want 2", n)
	}

	// Where no identity list applies, the same certificate subscribes.
	sub := tlsSub(t, tb.testBroker, tlsDial(t, tb.tlsBcast, root, &forged))
	// And the sub-CA's own identities publish as usual.
	alerts := org.pair(t, certSpec{cn: "alerts", uris: []string{"ivo://example.org/test"}})
	ev := testEvent(ivorn("org"), "observation", "")
	if a := exchange(t, tlsDial(t, tb.tlsRecv, root, &alerts), ev)[0]; a.Role != RoleAck {
		t.Fatalf("author with an ivo:// URI from the sub-CA: %s %v, want ack", a.Role, a.Results)
	}
	for _, s := range []*testSub{watcher, sub} {
		if got := s.next(t); !bytes.Equal(got, ev) {
			t.Errorf("subscriber got\n%s\nwant only the event of the author with an identity", got)
		}
	}
}

// TestTLSAnonymousAuthor: a TLS endpoint without --tls-client-ca asks for
// no certificate, and its authors publish as plain ones do.
func TestTLSAnonymousAuthor(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	tb := startTLSBroker(t, brokerIVO, ca, false, nil)
	ev := testEvent("ivo://nasa.gsfc.gcn/SWIFT#anon", "observation", "")
	if a := exchange(t, tlsDial(t, tb.tlsRecv, ca, nil), ev)[0]; a.Role != RoleAck {
		t.Fatalf("anonymous TLS author: %s %v, want ack", a.Role, a.Results)
	}
	if strings.Contains(tb.log.String(), "no ivo:// URI") {
		t.Errorf("an anonymous author is taken for a certificate without identity:\n%s", tb.log)
	}
}

func TestTLSAuthorIdentity(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	tb := startTLSBroker(t, brokerIVO, ca, true, func(c *Config) {
		c.TLS.AuthorIdentities = []string{"ivo://example.org/SWIFT"}
	})
	swift := ca.pair(t, certSpec{cn: "swift", uris: []string{"ivo://example.org/SWIFT"}})
	c := tlsDial(t, tb.tlsRecv, ca, &swift)
	answers := exchange(t, c,
		testEvent("ivo://example.org/SWIFTX#1", "observation", ""),
		testEvent("ivo://example.org/SWIFT#1", "observation", ""),
		testEvent("ivo://example.org/SWIFT/sub#2", "observation", ""),
		testEvent("ivo://example.org/other#3", "observation", ""))
	want := []string{RoleNak, RoleAck, RoleAck, RoleNak}
	for i, a := range answers {
		if a.Role != want[i] {
			t.Errorf("event %d: %s %v, want %s", i, a.Role, a.Results, want[i])
		}
	}
	reason := strings.Join(answers[0].Results, " ")
	if !strings.Contains(reason, "ivo://example.org/SWIFTX#1") || !strings.Contains(reason, "identity ivo://example.org/SWIFT") {
		t.Errorf("nak reason %q does not name both the ivorn and the identity", reason)
	}
	if n := tb.Snapshot().Counters.RefusedIdentity; n != 2 {
		t.Errorf("refused_identity = %d, want 2", n)
	}
	// An identity not in --author-identity may not even connect.
	gcn := ca.pair(t, certSpec{cn: "gcn", uris: []string{"ivo://nasa.gsfc.gcn"}})
	mustBeRefused(t, tlsDial(t, tb.tlsRecv, ca, &gcn))
	tb.log.waitLog(t, `port=receive peer=127.0.0.1:`)
	// Plain authors are not concerned.
	mustAck(t, tb.recv, testEvent("ivo://example.org/plain#4", "observation", ""))
}

func TestIdentityCovers(t *testing.T) {
	for _, c := range []struct {
		id, ivorn string
		ok        bool
	}{
		{"ivo://nasa.gsfc.gcn", "ivo://nasa.gsfc.gcn/SWIFT#1", true},
		{"ivo://nasa.gsfc.gcn/SWIFT", "ivo://nasa.gsfc.gcn/SWIFTX#1", false},
		{"ivo://nasa.gsfc.gcn/SWIFT", "ivo://nasa.gsfc.gcn/SWIFT", true},
		{"ivo://nasa.gsfc.gcn/SWIFT", "ivo://nasa.gsfc.gcn/SWIFT#1", true},
		{"ivo://nasa.gsfc.gcn/SWIFT", "ivo://nasa.gsfc.gcn/SWIFT?x", true},
		{"ivo://nasa.gsfc.gcn/SWIFT", "ivo://nasa.gsfc.gcn", false},
		{"ivo://nasa.gsfc.gcn/SWIFT", "IVO://nasa.gsfc.gcn/SWIFT#1", false},
		{"ivo://nasa.gsfc.gcn/", "ivo://nasa.gsfc.gcn/SWIFT#1", true},
		{"ivo://nasa.gsfc.gcn/SWIFT", "", false},
		{"", "ivo://nasa.gsfc.gcn/SWIFT#1", false},
	} {
		if got := IdentityCovers(c.id, c.ivorn); got != c.ok {
			t.Errorf("IdentityCovers(%q, %q) = %v, want %v", c.id, c.ivorn, got, c.ok)
		}
	}
}

func TestIdentityFromCertificate(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	parse := func(s certSpec) *x509.Certificate {
		p := ca.pair(t, s)
		return p.Leaf
	}
	for _, c := range []struct {
		spec     certSpec
		verified bool
		want     string
	}{
		{certSpec{cn: "cn", uris: []string{"https://example.org/a", "ivo://example.org/b", "ivo://example.org/c"}}, true, "ivo://example.org/b"},
		{certSpec{cn: "cn", uris: []string{"https://example.org/a"}}, true, ""},
		{certSpec{cn: "ivo://nasa.gsfc.gcn"}, true, ""},
		{certSpec{cn: "cn", uris: []string{"ivo://example.org/b"}}, false, ""},
	} {
		leaf := parse(c.spec)
		cs := tls.ConnectionState{PeerCertificates: []*x509.Certificate{leaf}}
		if c.verified {
			cs.VerifiedChains = [][]*x509.Certificate{{leaf, ca.cert}}
		}
		if got := Identity(cs); got != c.want {
			t.Errorf("Identity(%v, verified %v) = %q, want %q", c.spec.uris, c.verified, got, c.want)
		}
	}
}

// TestTLSRemoteBrokers: a broker subscribes to another over TLS with
// mutual authentication, and a wrong CA or a wrong host name are refused
// with a log line that says which certificate and why.
func TestTLSRemoteBrokers(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	up := startTLSBroker(t, "ivo://example.org/up", ca, true, func(c *Config) {
		c.TLS.SubscriberIdentities = []string{"ivo://example.org/down"}
	})
	downCerts, _, _ := ca.certs(t, certSpec{cn: "down", uris: []string{"ivo://example.org/down"}})
	down := startBroker(t, "ivo://example.org/down", func(c *Config) {
		c.TLS.Client = ClientConfig(downCerts, ca.pool)
	})
	down.Subscribe("tls:" + up.tlsBcast)
	waitSubscribed(t, up.testBroker, 1)
	sub := dialSub(t, down, subOpts{})
	ev := testEvent(ivorn("over-tls"), "observation", "")
	mustAck(t, up.recv, ev)
	if got := sub.next(t); !bytes.Equal(got, ev) {
		t.Errorf("downstream subscriber got\n%s\nwant the event byte for byte", got)
	}
	up.log.waitLog(t, "identity=ivo://example.org/down")
	if r := down.Snapshot().Remotes; len(r) != 1 || r[0].Addr != "tls:"+up.tlsBcast || r[0].State != RemoteAuthenticated {
		t.Errorf("remotes %+v, want one authenticated tls: remote", r)
	}

	other := newTestCA(t, "Other CA")
	wrongCA := startBroker(t, "ivo://example.org/wrong-ca", func(c *Config) {
		c.TLS.Client = ClientConfig(downCerts, other.pool)
	})
	wrongCA.Subscribe("tls:" + up.tlsBcast)
	wrongCA.log.waitLog(t, `server certificate \"CN=ivo://example.org/up\" (issuer \"CN=Test CA\") is signed by an unknown authority`)

	wrongHost := startBroker(t, "ivo://example.org/wrong-host", func(c *Config) {
		c.TLS.Client = ClientConfig(downCerts, ca.pool)
	})
	var d net.Dialer // "elsewhere.example.org" is the up broker
	wrongHost.dial = func(ctx context.Context, addr string) (net.Conn, error) {
		_, port, _ := net.SplitHostPort(addr)
		return d.DialContext(ctx, "tcp", "127.0.0.1:"+port)
	}
	_, port, _ := net.SplitHostPort(up.tlsBcast)
	wrongHost.Subscribe("tls:elsewhere.example.org:" + port)
	wrongHost.log.waitLog(t, `is not valid for \"elsewhere.example.org\"`)
	if !strings.Contains(wrongHost.log.String(), `msg="cannot connect to remote broker" remote=tls:elsewhere.example.org:`) {
		t.Errorf("the log line does not name the remote:\n%s", wrongHost.log)
	}
	if n := up.Subscribers(); n != 1 {
		t.Errorf("up has %d subscribers, want only the verified one", n)
	}
}

// TestTLSRemoteExpiredCertificate: a remote serving an expired
// certificate is refused, and the error says so and names it.
func TestTLSRemoteExpiredCertificate(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	spec := localServer("stale")
	spec.expired = true
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{ca.pair(t, spec)}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger(), TLS: TLS{Client: ClientConfig(nil, ca.pool)}})
	defer shutdown(t, b)
	c, err := b.dialRemote(t.Context(), "tls:"+l.Addr().String())
	if err == nil {
		c.Close()
		t.Fatal("connected to a remote with an expired certificate")
	}
	if want := `server certificate "CN=stale" (issuer "CN=Test CA") has expired or is not yet valid: valid from `; !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to contain %q", err, want)
	}
}

// TestTLSCertificateRotation: a reloaded certificate is served to the
// next connection; a bad file keeps the one in use.
func TestTLSCertificateRotation(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	tb := startTLSBroker(t, brokerIVO, ca, false, nil)
	served := func() string {
		c := tlsDial(t, tb.tlsRecv, ca, nil)
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	first := served()
	held := tlsDial(t, tb.tlsRecv, ca, nil) // open across the rotation

	c, k := ca.issue(t, localServer("rotated"))
	writeFile(t, tb.certFile, c)
	writeFile(t, tb.keyFile, k)
	if err := tb.certs.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := served(); got != "rotated" {
		t.Errorf("after reload a new connection sees %q, want rotated (was %q)", got, first)
	}
	// The connection opened before still works.
	if a := exchange(t, held, testEvent(ivorn("held"), "test", ""))[0]; a.Role != RoleAck {
		t.Errorf("connection from before the rotation: %s %v", a.Role, a.Results)
	}

	writeFile(t, tb.certFile, []byte("not a certificate"))
	err := tb.certs.Reload()
	if err == nil || !strings.Contains(err.Error(), tb.certFile) {
		t.Errorf("reload of a bad file: %v, want an error naming %s", err, tb.certFile)
	}
	other := newTestCA(t, "Other CA")
	oc, _ := other.issue(t, localServer("mismatch"))
	writeFile(t, tb.certFile, oc) // a certificate that is not the key's
	if err := tb.certs.Reload(); err == nil {
		t.Error("a certificate that does not match the key was loaded")
	}
	if got := served(); got != "rotated" {
		t.Errorf("after a failed reload a new connection sees %q, want rotated", got)
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLoadCertsErrors(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	certFile, keyFile := ca.files(t, localServer("ok"))
	expiredCert, expiredKey := ca.files(t, certSpec{cn: "old", serverTo: true, expired: true})
	for _, c := range []struct {
		cert, key, want string
	}{
		{"/nonexistent/cert.pem", keyFile, "/nonexistent/cert.pem"},
		{certFile, "/nonexistent/key.pem", "/nonexistent/key.pem"},
		{keyFile, keyFile, keyFile + ": no PEM CERTIFICATE"},
		{certFile, certFile, certFile + ": no PEM PRIVATE KEY"},
		{expiredCert, expiredKey, expiredCert + " is valid only from"},
	} {
		_, err := LoadCerts(c.cert, c.key)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("LoadCerts(%s, %s) = %v, want one line containing %q", c.cert, c.key, err, c.want)
		}
	}
	// openssl ecparam -genkey writes the curve's parameters before the key.
	key, _ := os.ReadFile(keyFile)
	writeFile(t, keyFile, append([]byte("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n"), key...))
	if _, err := LoadCerts(certFile, keyFile); err != nil {
		t.Errorf("a key after EC PARAMETERS: %v", err)
	}
}

// TestTLSHostilePeers: a peer that connects and says nothing, and one that
// speaks plain VTP to a TLS port, are closed with a warning saying why;
// an author over TLS is served meanwhile.
func TestTLSHostilePeers(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	tb := startTLSBroker(t, brokerIVO, ca, false, func(c *Config) { c.Timers.Handshake = 200 * time.Millisecond })
	silent := holdConn(t, "", tb.tlsRecv)
	plain := holdConn(t, "", tb.tlsRecv)
	if err := WriteFrame(plain, testEvent(ivorn("plain"), "test", "")); err != nil {
		t.Fatal(err)
	}
	good := tlsDial(t, tb.tlsRecv, ca, nil)
	if a := exchange(t, good, testEvent(ivorn("good"), "test", ""))[0]; a.Role != RoleAck {
		t.Errorf("TLS author beside the hostile peers: %s %v", a.Role, a.Results)
	}
	good.Close()
	tb.log.waitLog(t, "no TLS handshake within 200ms")
	tb.log.waitLog(t, "not TLS: the peer's first bytes are not a TLS handshake")
	for _, c := range []net.Conn{silent, plain} {
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, err := c.Read(make([]byte, 512)); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Error("hostile peer still connected")
				}
				break
			}
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for tb.conns.open() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := tb.conns.open(); n != 0 {
		t.Errorf("%d connections still counted after the hostile peers left", n)
	}
}

// TestTLSHandshakeTimeout: a silent peer is closed exactly when the
// handshake time runs out.
func TestTLSHandshakeTimeout(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	certs, _, _ := ca.certs(t, localServer("broker"))
	synctest.Test(t, func(t *testing.T) {
		log := &logBuf{}
		b := New(Config{LocalIVO: brokerIVO, Logger: slog.New(slog.NewTextHandler(log, nil)),
			TLS: TLS{Server: ServerConfig(certs, nil)}})
		defer shutdown(t, b)
		srv, cli := net.Pipe()
		defer cli.Close()
		start := time.Now()
		srv = pipeAddr{srv}
		go b.overTLS("receive", nil, b.HandleAuthor)(srv)
		_, err := cli.Read(make([]byte, 1))
		if d := time.Since(start); d != 10*time.Second {
			t.Errorf("silent peer closed after %v (%v), want 10s", d, err)
		}
		synctest.Wait()
		if !strings.Contains(log.String(), "no TLS handshake within 10s") {
			t.Errorf("log:\n%s", log)
		}
	})
}

// pipeAddr gives a net.Pipe end a TCP address, as the broker logs it.
type pipeAddr struct{ net.Conn }

func (pipeAddr) RemoteAddr() net.Addr {
	return net.TCPAddrFromAddrPort(netip.MustParseAddrPort("192.0.2.1:4000"))
}

// TestTLSWhitelistBeforeHandshake: an address outside the whitelist is
// closed before any handshake, and handshakes count against the limits.
func TestTLSWhitelistBeforeHandshake(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	tb := startTLSBroker(t, brokerIVO, ca, false, func(c *Config) {
		c.AuthorWhitelist = Whitelist{netip.MustParsePrefix("192.0.2.0/24")}
		c.MaxConnsPerAddr = 1
	})
	conf := &tls.Config{RootCAs: ca.pool}
	if _, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", tb.tlsRecv, conf); err == nil {
		t.Error("handshake completed from outside the whitelist")
	}
	tb.log.waitLog(t, "connection refused: not in whitelist")
	s := tb.Snapshot().Counters
	if s.ConnsRefusedWhitelist != 1 || s.ConnsRefusedTLS != 0 {
		t.Errorf("refused by whitelist %d, by TLS %d: want 1 and 0 (no handshake attempted)", s.ConnsRefusedWhitelist, s.ConnsRefusedTLS)
	}
	// One address, one connection: a peer in the middle of a handshake
	// holds its place.
	holdConn(t, "", tb.tlsBcast)
	deadline := time.Now().Add(10 * time.Second)
	for tb.conns.open() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if _, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", tb.tlsBcast, conf); err == nil {
		t.Error("a second connection was admitted beside one in its handshake")
	}
	tb.log.waitLog(t, "--max-connections-per-address")
}

// TestWriteBuffersOverTLS: the records writeBuffers gathers carry the
// buffers' bytes in order, whatever their sizes around a record's limit.
func TestWriteBuffersOverTLS(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	certs, _, _ := ca.certs(t, localServer("broker"))
	srv, cli := net.Pipe()
	defer cli.Close()
	var bufs net.Buffers
	var want []byte
	for i, n := range []int{4, 10, 4, tlsChunk + 3, 4, tlsChunk, 4, tlsChunk - 4, 4, 5, 3 * tlsChunk, 1} {
		b := bytes.Repeat([]byte{byte('a' + i)}, n)
		bufs = append(bufs, b)
		want = append(want, b...)
	}
	errs := make(chan error, 1)
	go func() {
		tc := tls.Server(srv, ServerConfig(certs, nil))
		if err := tc.Handshake(); err != nil {
			errs <- err
			return
		}
		c := &tlsConn{Conn: tc, raw: srv}
		for range 2 { // the scratch space is reused
			b := slices.Clone(bufs)
			if n, err := writeBuffers(c, &b); err != nil || n != int64(len(want)) {
				errs <- fmt.Errorf("wrote %d of %d: %v", n, len(want), err)
				return
			}
		}
		errs <- nil
	}()
	client := tls.Client(cli, &tls.Config{RootCAs: ca.pool, ServerName: "localhost"})
	got := make([]byte, 2*len(want))
	if _, err := io.ReadFull(client, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append(slices.Clone(want), want...)) {
		t.Error("the bytes read differ from the buffers written")
	}
}
