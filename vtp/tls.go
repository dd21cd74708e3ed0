package vtp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"comet/voevent"
)

// TLS is what a broker needs for tls: endpoints and for remotes
// subscribed to as "tls:HOST:PORT". The zero value has neither.
type TLS struct {
	// Server configures the TLS endpoints (see ServerConfig).
	Server *tls.Config
	// Client configures connections to TLS remotes (see ClientConfig);
	// the server name each is verified for is set per remote.
	Client *tls.Config
	// AuthorIdentities and SubscriberIdentities, when not empty, are the
	// only peer identities admitted on the TLS author and subscriber
	// endpoints; plain endpoints are not concerned.
	AuthorIdentities, SubscriberIdentities []string
}

// Certs is a certificate and its key, read from PEM files, that can be
// read again while connections use it: each handshake takes the pair
// current at that moment, so a rotated certificate is served to every
// new connection and the connections already open keep theirs.
type Certs struct {
	certFile, keyFile string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadCerts reads a PEM certificate (chain) and its PEM private key. An
// error names the file at fault and why.
func LoadCerts(certFile, keyFile string) (*Certs, error) {
	c := &Certs{certFile: certFile, keyFile: keyFile}
	if err := c.Reload(); err != nil {
		return nil, err
	}
	return c, nil
}

// Reload reads the files again. On error the pair in use is kept.
func (c *Certs) Reload() error {
	pair, err := loadPair(c.certFile, c.keyFile)
	if err != nil {
		return err
	}
	c.cur.Store(pair)
	return nil
}

// Leaf returns the certificate in use.
func (c *Certs) Leaf() *x509.Certificate { return c.cur.Load().Leaf }

func loadPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("TLS key: %w", err)
	}
	if !hasBlock(certPEM, func(t string) bool { return t == "CERTIFICATE" }) {
		return nil, fmt.Errorf("TLS certificate %s: no PEM CERTIFICATE block", certFile)
	}
	if !hasBlock(keyPEM, func(t string) bool { return strings.HasSuffix(t, "PRIVATE KEY") }) {
		return nil, fmt.Errorf("TLS key %s: no PEM PRIVATE KEY block", keyFile)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate %s with key %s: %v", certFile, keyFile, err)
	}
	if now := time.Now(); now.After(pair.Leaf.NotAfter) || now.Before(pair.Leaf.NotBefore) {
		return nil, fmt.Errorf("TLS certificate %s is valid only from %s to %s", certFile,
			pair.Leaf.NotBefore.UTC().Format(time.RFC3339), pair.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return &pair, nil
}

// hasBlock reports whether data holds a PEM block whose type is wanted;
// other blocks (such as openssl's "EC PARAMETERS") may come first.
func hasBlock(data []byte, wanted func(string) bool) bool {
	for {
		b, rest := pem.Decode(data)
		if b == nil {
			return false
		}
		if wanted(b.Type) {
			return true
		}
		data = rest
	}
}

// LoadCAs reads a PEM bundle of CA certificates.
func LoadCAs(file string) (*x509.CertPool, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s: no PEM CERTIFICATE in it", file)
	}
	return pool, nil
}

// ServerConfig serves certs' current pair with TLS 1.2 or later. With
// clientCAs, clients must present a certificate those CAs verify.
func ServerConfig(certs *Certs, clientCAs *x509.CertPool) *tls.Config {
	conf := &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return certs.cur.Load(), nil
		},
	}
	if clientCAs != nil {
		conf.ClientAuth = tls.RequireAndVerifyClientCert
		conf.ClientCAs = clientCAs
	}
	return conf
}

// ClientConfig verifies servers against roots (nil: the system's) and
// offers certs' current pair as client certificate, when certs is not nil.
func ClientConfig(certs *Certs, roots *x509.CertPool) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		RootCAs:    roots,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if certs == nil {
				return &tls.Certificate{}, nil // none to offer
			}
			return certs.cur.Load(), nil
		},
	}
}

// Identity is the identity a verified peer certificate carries: its first
// URI subject alternative name that starts with "ivo://". The subject
// common name is never used: X.509 name constraints do not cover it, so a
// sub-CA constrained to its own URIs could otherwise mint any identity in
// a common name. A peer with no verified certificate, or whose verified
// certificate has no such URI, has none ("").
func Identity(cs tls.ConnectionState) string {
	if !Certified(cs) {
		return ""
	}
	for _, u := range cs.PeerCertificates[0].URIs {
		if s := u.String(); strings.HasPrefix(s, "ivo://") {
			return s
		}
	}
	return ""
}

// Certified reports whether the peer presented a certificate that was
// verified. A certified author publishes only under its Identity, and
// nothing if it has none; an anonymous one (a TLS endpoint that asks for
// no client certificate) is restricted only as a plain author is.
func Certified(cs tls.ConnectionState) bool {
	return len(cs.VerifiedChains) > 0 && len(cs.PeerCertificates) > 0
}

// IdentityCovers reports whether an author with identity may publish
// ivorn: the ivorn is the identity, or continues it with '/', '#' or '?'.
func IdentityCovers(identity, ivorn string) bool {
	rest, ok := strings.CutPrefix(ivorn, identity)
	switch {
	case !ok || identity == "":
		return false
	case rest == "":
		return true
	}
	return strings.ContainsRune("/#?", rune(rest[0])) || strings.ContainsRune("/#?", rune(identity[len(identity)-1]))
}

// tlsCounters are the TLS extension's counts: connections a TLS endpoint
// refused because the handshake failed or because the certificate's
// identity is not in the port's allow-list, and events refused from
// certified authors for an ivorn outside their identity. The Broker has
// them only when it has a TLS server configuration (Config.TLS.Server):
// without one no TLS endpoint admits a connection, so none of them can
// grow. Each method does nothing on a nil receiver.
type tlsCounters struct {
	refusedHandshake, refusedIdentity, outsideIdentity atomic.Int64
}

func (t *tlsCounters) handshakeFailed() {
	if t != nil {
		t.refusedHandshake.Add(1)
	}
}

func (t *tlsCounters) identityRefused() {
	if t != nil {
		t.refusedIdentity.Add(1)
	}
}

func (t *tlsCounters) eventOutsideIdentity() {
	if t != nil {
		t.outsideIdentity.Add(1)
	}
}

// fill sets the TLS counts in c; without TLS they stay zero.
func (t *tlsCounters) fill(c *Counters) {
	if t == nil {
		return
	}
	c.ConnsRefusedTLS, c.ConnsRefusedIdentity = t.refusedHandshake.Load(), t.refusedIdentity.Load()
	c.RefusedIdentity = t.outsideIdentity.Load()
}

// tlsConn is a TLS connection whose Close closes the socket at once.
// tls.Conn.Close first sends a close alert, which waits for a write in
// progress to finish; a broker must be able to drop a stalled peer
// without waiting on it.
type tlsConn struct {
	*tls.Conn
	raw      net.Conn
	identity string
	// certified: the peer's certificate was verified. With an empty
	// identity, the peer is known but may publish nothing.
	certified bool
	scratch   []byte // writeBuffers' records being gathered; one writer at a time
}

func (c *tlsConn) Close() error { return c.raw.Close() }

// tlsChunk is the most plaintext one TLS record carries.
const tlsChunk = 16 << 10

// writeBuffers writes bufs to c, as a buffersWriter: each Write on a
// TLS connection is sealed as a record of its own, so small buffers (a
// 4-byte frame header, a short event) are first gathered into records of
// up to tlsChunk bytes, and a batch of events costs a few records
// instead of two per event.
func (tc *tlsConn) writeBuffers(bufs *net.Buffers) (int64, error) {
	var n int64
	buf := tc.scratch[:0]
	flush := func() error {
		m, err := tc.Conn.Write(buf)
		n += int64(m)
		buf = buf[:0]
		return err
	}
	for _, b := range *bufs {
		if len(buf) > 0 && len(buf)+len(b) > tlsChunk {
			if err := flush(); err != nil {
				return n, err
			}
		}
		if len(b) >= tlsChunk {
			m, err := tc.Conn.Write(b)
			n += int64(m)
			if err != nil {
				return n, err
			}
			continue
		}
		buf = append(buf, b...)
	}
	var err error
	if len(buf) > 0 {
		err = flush()
	}
	tc.scratch = buf[:0]
	*bufs = (*bufs)[:0]
	return n, err
}

// PeerIdentity is the identity of the peer on c, "" if it has none or c
// is not a TLS connection.
func PeerIdentity(c net.Conn) string {
	if tc, ok := c.(*tlsConn); ok {
		return tc.identity
	}
	return ""
}

// peerSubject is the subject of the peer's certificate, for the log; ""
// if it showed none.
func peerSubject(cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	return voevent.Clip(cs.PeerCertificates[0].Subject.String())
}

// publisher is what an author whose TLS certificate was verified may
// publish under: only ivorns under its identity, and nothing if its
// certificate carries none. An author without one is not restricted.
type publisher struct {
	identity string // "" for none
}

// peerPublisher restricts an author connection c: a certified TLS peer
// to its identity; a plain or anonymous TLS one (nil) not at all.
func peerPublisher(c net.Conn) *publisher {
	if tc, ok := c.(*tlsConn); ok && tc.certified {
		return &publisher{identity: tc.identity}
	}
	return nil
}

// refusal says why p may not publish ivorn, or "" if it may.
func (p *publisher) refusal(ivorn string) string {
	switch {
	case IdentityCovers(p.identity, ivorn):
		return ""
	case p.identity == "":
		return "this author's certificate carries no ivo:// URI, so it has no identity and may publish nothing here"
	}
	return fmt.Sprintf("ivorn %s is not under this author's identity %s", voevent.Clip(ivorn), voevent.Clip(p.identity))
}

// identityArgs are the log attributes for a peer's identity: none for a
// peer without one.
func identityArgs(identity string) []any {
	if identity == "" {
		return nil
	}
	return []any{"identity", voevent.Clip(identity)}
}

// tlsListener is a listener whose address says "tls", for Snapshot and
// the log. It hands out the plain connections: the broker handshakes
// after the whitelist and the connection limits have admitted them.
type tlsListener struct{ net.Listener }

type tlsAddr struct{ net.Addr }

func (l tlsListener) Addr() net.Addr { return tlsAddr{l.Listener.Addr()} }
func (tlsAddr) Network() string      { return "tls" }

// ServeAuthorsTLS is ServeAuthors for a TLS endpoint, whose configuration
// is Config.TLS.
func (b *Broker) ServeAuthorsTLS(l net.Listener) error {
	return b.serve(tlsListener{l}, b.cfg.AuthorWhitelist, "receive", b.overTLS("receive", b.cfg.TLS.AuthorIdentities, b.HandleAuthor))
}

// ServeSubscribersTLS is ServeSubscribers for a TLS endpoint.
func (b *Broker) ServeSubscribersTLS(l net.Listener) error {
	return b.serve(tlsListener{l}, b.cfg.SubscriberWhitelist, "broadcast", b.overTLS("broadcast", b.cfg.TLS.SubscriberIdentities, b.HandleSubscriber))
}

// overTLS returns handle preceded by the server's TLS handshake, which
// runs on the connection's own goroutine and within Timers.Handshake, and
// by the identity allow-list. A failure is a rate-limited warning naming
// the peer and the reason, and closes the connection.
func (b *Broker) overTLS(kind string, allowed []string, handle func(net.Conn)) func(net.Conn) {
	return func(raw net.Conn) {
		peer := raw.RemoteAddr().String()
		defer b.recovered(peer, func() { raw.Close() })
		if b.cfg.TLS.Server == nil {
			b.log.Error("TLS endpoint without a TLS configuration: closing connection", "port", kind, "peer", peer)
			raw.Close()
			return
		}
		tc := tls.Server(raw, b.cfg.TLS.Server)
		ctx, cancel := context.WithTimeout(b.stopCtx, b.cfg.Timers.Handshake)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			raw.Close()
			if !b.closing.Load() {
				b.tlsCounts.handshakeFailed()
				b.warn.warn(b.log, "TLS handshake failed: closing", "port", kind, "peer", peer,
					"reason", DescribeTLSError(err, "client", b.cfg.Timers.Handshake))
			}
			return
		}
		cs := tc.ConnectionState()
		c := &tlsConn{Conn: tc, raw: raw, identity: Identity(cs), certified: Certified(cs)}
		if len(allowed) > 0 && !slices.Contains(allowed, c.identity) {
			b.tlsCounts.identityRefused()
			b.warn.warn(b.log, "connection refused: certificate identity not allowed on this port", "port", kind,
				"peer", peer, "identity", voevent.Clip(c.identity), "subject", peerSubject(cs))
			raw.Close()
			return
		}
		if kind == "receive" && c.certified && c.identity == "" {
			b.warn.warn(b.log, "author certificate carries no ivo:// URI: every event it sends will be refused", "port", kind,
				"peer", peer, "subject", peerSubject(cs))
		}
		handle(c)
	}
}

// dialTLS runs the client's TLS handshake on raw, a connection to a
// remote broker subscribed to as "tls:host:port", verifying the server
// for host, within Timers.Handshake. It closes raw on failure.
func (b *Broker) dialTLS(ctx context.Context, raw net.Conn, host string) (net.Conn, error) {
	if b.cfg.TLS.Client == nil {
		raw.Close()
		return nil, errors.New("no TLS client configuration for a tls: remote")
	}
	conf := b.cfg.TLS.Client.Clone()
	conf.ServerName = host
	tc := tls.Client(raw, conf)
	hctx, cancel := context.WithTimeout(ctx, b.cfg.Timers.Handshake)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, errors.New(DescribeTLSError(err, "server", b.cfg.Timers.Handshake))
	}
	cs := tc.ConnectionState()
	return &tlsConn{Conn: tc, raw: raw, identity: Identity(cs), certified: Certified(cs)}, nil
}

// DescribeTLSError says in one line why a handshake failed; which is
// whose certificate was being verified ("client" or "server"), and
// timeout the time the handshake had. Certificate errors name the
// certificate and the reason: expired, unknown authority or wrong name.
func DescribeTLSError(err error, which string, timeout time.Duration) string {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) && len(cve.UnverifiedCertificates) > 0 {
		leaf := cve.UnverifiedCertificates[0]
		name := fmt.Sprintf("%s certificate %q (issuer %q)", which,
			voevent.Clip(leaf.Subject.String()), voevent.Clip(leaf.Issuer.String()))
		var inv x509.CertificateInvalidError
		var ua x509.UnknownAuthorityError
		var host x509.HostnameError
		switch {
		case errors.As(cve.Err, &inv) && inv.Reason == x509.Expired:
			return fmt.Sprintf("%s has expired or is not yet valid: valid from %s to %s", name,
				leaf.NotBefore.UTC().Format(time.RFC3339), leaf.NotAfter.UTC().Format(time.RFC3339))
		case errors.As(cve.Err, &ua):
			return name + " is signed by an unknown authority"
		case errors.As(cve.Err, &host):
			names := slices.Clone(leaf.DNSNames)
			for _, ip := range leaf.IPAddresses {
				names = append(names, ip.String())
			}
			return fmt.Sprintf("%s is not valid for %q: it names %s", name, voevent.Clip(host.Host),
				voevent.Clip(strings.Join(names, ", ")))
		}
		return fmt.Sprintf("%s: %s", name, voevent.Clip(cve.Err.Error()))
	}
	var rec tls.RecordHeaderError
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Sprintf("no TLS handshake within %v", timeout)
	case errors.As(err, &rec):
		return "not TLS: the peer's first bytes are not a TLS handshake (plain VTP on a TLS port?)"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the peer closed the connection during the TLS handshake"
	case strings.Contains(err.Error(), "didn't provide a certificate"):
		return "no client certificate offered, and this endpoint requires one"
	}
	if strings.Contains(err.Error(), "remote error") { // an alert from the peer
		return "the peer refused the handshake (it does not accept our certificate, or we offer none it accepts): " + voevent.Clip(err.Error())
	}
	return voevent.Clip(err.Error())
}
