package kafka

import (
	"bufio"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"comet/internal/kafkapeertest"
)

// The tests that need a real broker run kafkapeer (a local Kafka cluster,
// franz-go's kfake behind a front with Kafka's SCRAM, PLAIN and
// OAUTHBEARER servers and a token endpoint) as a separate process, so
// that comet never imports its module. They are skipped, saying why, in
// -short mode and when kafkapeer cannot be had: set KAFKAPEER to a built
// binary, or let the test build it from ../../shared/tools/kafkapeer,
// which needs Go's module proxy or a warm module cache.

// kafkapeer returns the kafkapeer binary, or skips t saying why.
func kafkapeer(t *testing.T) string {
	return kafkapeertest.Bin(t, "../../shared/tools/kafkapeer")
}

// TestMain removes the kafkapeer the tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	kafkapeertest.Cleanup()
	os.Exit(code)
}

// peerTopic is the one topic every kafkapeer of these tests serves, with
// one partition.
const peerTopic = "gcn.classic.voevent.TEST"

// peerOpts says how kafkapeer listens: which SASL mechanism it asks for
// ("none", "plain", "scram-sha-256", "scram-sha-512", "oauthbearer"),
// whether its broker listener is TLS, and fixed credentials for PLAIN and
// SCRAM (empty: random ones, read back from the credentials file).
type peerOpts struct {
	sasl               string
	tls                bool
	username, password string
}

// runningPeer is one started kafkapeer with one broker.
type runningPeer struct {
	dir     string         // holds bootstrap, ca.pem, credentials, control
	broker  string         // the broker's address
	control string         // URL of the control API
	roots   *x509.CertPool // trusts the TLS listeners; nil when there are none
	tls     bool
}

// startKafkapeer starts bin as a one-broker cluster with opts and returns
// it once ready; it is stopped when t ends. It skips t when the process
// cannot be started or is not ready within a minute, and fails t, with the
// peer's log, when the peer exits before it is ready.
func startKafkapeer(t *testing.T, bin string, o peerOpts) *runningPeer {
	t.Helper()
	args := []string{"-brokers=1", "-topics=" + peerTopic + ":1", "-sasl=" + o.sasl, "-tls=" + strconv.FormatBool(o.tls)}
	if o.username != "" {
		args = append(args, "-username="+o.username, "-password="+o.password)
	}
	p := kafkapeertest.Start(t, bin, args...)
	// ca.pem is there when something listens with TLS: the broker, or the
	// token endpoint of OAUTHBEARER.
	var roots *x509.CertPool
	if o.tls || o.sasl == MechOAuthBearer {
		roots = p.Roots(t)
	}
	return &runningPeer{dir: p.Dir, broker: p.Brokers[0], control: p.Control, roots: roots, tls: o.tls}
}

// peerConn is one connection to the peer's broker, speaking through this
// package's request and response codec, with the correlation ids kept.
type peerConn struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	corr int32
}

// dial connects to the broker, over TLS when the peer listens so, with a
// deadline so that the test stops by itself if the peer stops answering.
// The connection is closed when t ends.
func (p *runningPeer) dial(t *testing.T) *peerConn {
	t.Helper()
	d := &net.Dialer{Timeout: 10 * time.Second}
	var conn net.Conn
	var err error
	if p.tls {
		conn, err = tls.DialWithDialer(d, "tcp", p.broker, &tls.Config{RootCAs: p.roots, ServerName: "127.0.0.1"})
	} else {
		conn, err = d.Dial("tcp", p.broker)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	return &peerConn{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// send writes req and returns the body of its response.
func (c *peerConn) send(req request) ([]byte, error) {
	c.corr++
	if err := writeRequest(c.conn, c.corr, "comet-test", req); err != nil {
		return nil, err
	}
	return readResponse(c.br, 1<<20, c.corr)
}

// roundTrip is send for requests that must reach the broker and be
// answered: anything else fails the test.
func (c *peerConn) roundTrip(req request) []byte {
	c.t.Helper()
	body, err := c.send(req)
	if err != nil {
		c.t.Fatalf("%s: %v", req.key(), err)
	}
	return body
}
