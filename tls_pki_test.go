// A copy of vtp/tls_pki_test.go: test files cannot be shared between packages.

package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"comet/vtp"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
	pool *x509.CertPool
	// chain is the PEM of the CA's own certificate when it is a sub-CA:
	// the certificates it issues carry it, and pool is the root's.
	chain []byte
}

// certSpec says what goes into a certificate testCA.issue makes.
type certSpec struct {
	cn       string
	uris     []string // URI subject alternative names
	dns      []string
	ips      []string
	expired  bool // valid only in the past
	serverTo bool // a server certificate (else a client one)
}

func nextSerial() *big.Int {
	s, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	return s
}

func newTestCA(t testing.TB, name string) *testCA {
	return makeCA(t, name, nil)
}

// makeCA makes a CA: a root when parent is nil, else an intermediate
// under parent whose URIs are name-constrained to the permitted domains
// (x509.Certificate.PermittedURIDomains).
func makeCA(t testing.TB, name string, parent *testCA, permittedURIDomains ...string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	signer, signerKey := tmpl, key
	if parent != nil {
		tmpl.PermittedURIDomains = permittedURIDomains
		tmpl.PermittedDNSDomainsCritical = true
		signer, signerKey = parent.cert, parent.key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &key.PublicKey, signerKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	own := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if parent != nil {
		return &testCA{cert: cert, key: key, pem: parent.pem, pool: parent.pool, chain: append(own, parent.chain...)}
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pem: own, pool: pool}
}

// issue makes a certificate and key signed by the CA, as PEM.
func (ca *testCA) issue(t testing.TB, s certSpec) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: nextSerial(),
		Subject:      pkix.Name{CommonName: s.cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		DNSNames:     s.dns,
	}
	if s.serverTo {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	}
	if s.expired {
		tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour)
	}
	for _, ip := range s.ips {
		tmpl.IPAddresses = append(tmpl.IPAddresses, net.ParseIP(ip))
	}
	for _, u := range s.uris {
		parsed, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		tmpl.URIs = append(tmpl.URIs, parsed)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), ca.chain...),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// subCA makes an intermediate CA under ca whose URIs are name-constrained
// to the permitted domains (x509.Certificate.PermittedURIDomains), as a
// network's root gives an organisation a CA for its own identities only.
func (ca *testCA) subCA(t testing.TB, name string, permittedURIDomains ...string) *testCA {
	return makeCA(t, name, ca, permittedURIDomains...)
}

// pair is issue as a tls.Certificate, for test clients.
func (ca *testCA) pair(t testing.TB, s certSpec) tls.Certificate {
	t.Helper()
	c, k := ca.issue(t, s)
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

// files is issue written to files.
func (ca *testCA) files(t testing.TB, s certSpec) (certFile, keyFile string) {
	t.Helper()
	c, k := ca.issue(t, s)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, c, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, k, 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// certs is files loaded as Certs, with the paths.
func (ca *testCA) certs(t testing.TB, s certSpec) (certs *vtp.Certs, certFile, keyFile string) {
	t.Helper()
	certFile, keyFile = ca.files(t, s)
	certs, err := vtp.LoadCerts(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return certs, certFile, keyFile
}

// localServer is the spec of a server certificate for the loopback
// addresses and localhost.
func localServer(cn string) certSpec {
	return certSpec{cn: cn, serverTo: true, dns: []string{"localhost"}, ips: []string{"127.0.0.1", "::1"}}
}
