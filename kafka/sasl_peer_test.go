package kafka

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests run the mechanisms against kafkapeer (a local Kafka cluster
// in a separate process, with Kafka's SCRAM and OAUTHBEARER servers and a
// token endpoint). They are skipped when kafkapeer cannot be had: set
// KAFKAPEER to a built binary, or let the test build it from
// ../../shared/tools/kafkapeer, which needs Go's module proxy or cache.
// The few request encoders here are the test's own, so that it does not
// depend on the package's wire codec.

// kafkapeer returns the kafkapeer binary, building it into a directory
// removed when t ends, or skips t.
func kafkapeer(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("kafkapeer tests skipped in -short mode")
	}
	if p := os.Getenv("KAFKAPEER"); p != "" {
		return p
	}
	src, err := filepath.Abs("../../shared/tools/kafkapeer")
	if err != nil {
		t.Skipf("kafkapeer not available: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "kafkapeer")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("kafkapeer not available (set KAFKAPEER to a built binary): building %s: %v: %s", src, err, bytes.TrimSpace(out))
	}
	return bin
}

// startPeer runs a one-broker kafkapeer with the given SASL mechanism and
// returns its directory once it is ready.
func startPeer(t *testing.T, bin, mech string) string {
	dir := t.TempDir()
	cmd := exec.Command(bin, "serve", "-dir", dir, "-brokers", "1", "-sasl", mech)
	var logBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logBuf, &logBuf
	if err := cmd.Start(); err != nil {
		t.Skipf("kafkapeer does not start: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	// kafkapeer writes "ready" last; wait for it or for the process to end.
	for deadline := time.Now().Add(60 * time.Second); ; {
		if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
			return dir
		}
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("kafkapeer exited: %v\n%s", err, logBuf.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("kafkapeer not ready after 60 s\n%s", logBuf.String())
		}
	}
}

type saslPeer struct {
	net.Conn
	corr int32
}

func dialPeer(t *testing.T, dir string) (*saslPeer, *x509.CertPool) {
	t.Helper()
	boot, err := os.ReadFile(filepath.Join(dir, "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("ca.pem holds no certificate")
	}
	addr := strings.TrimSpace(strings.Split(string(boot), ",")[0])
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(30 * time.Second))
	return &saslPeer{Conn: c}, roots
}

// roundTrip sends one request (header v1) and returns the response body
// after its correlation id.
func (p *saslPeer) roundTrip(key, version int16, body []byte) ([]byte, error) {
	p.corr++
	var b []byte
	b = binary.BigEndian.AppendUint16(b, uint16(key))
	b = binary.BigEndian.AppendUint16(b, uint16(version))
	b = binary.BigEndian.AppendUint32(b, uint32(p.corr))
	b = binary.BigEndian.AppendUint16(b, 4)
	b = append(b, "test"...)
	b = append(b, body...)
	msg := binary.BigEndian.AppendUint32(nil, uint32(len(b)))
	if _, err := p.Write(append(msg, b...)); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(p, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 1<<20 {
		return nil, fmt.Errorf("response size %d", n)
	}
	resp := make([]byte, n)
	if _, err := io.ReadFull(p, resp); err != nil {
		return nil, err
	}
	if got := int32(binary.BigEndian.Uint32(resp)); got != p.corr {
		return nil, fmt.Errorf("correlation id %d, want %d", got, p.corr)
	}
	return resp[4:], nil
}

func kstring(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

func (p *saslPeer) handshake(mech string) error {
	resp, err := p.roundTrip(17, 1, kstring(mech))
	if err != nil {
		return err
	}
	if len(resp) < 2 {
		return errors.New("short SaslHandshake response")
	}
	if code := int16(binary.BigEndian.Uint16(resp)); code != 0 {
		return fmt.Errorf("SaslHandshake error %d", code)
	}
	return nil
}

// authenticate sends SaslAuthenticate v1 and returns its error code and
// auth bytes.
func (p *saslPeer) authenticate(auth []byte) (code int16, out []byte, lifetimeMs int64, err error) {
	body := append(binary.BigEndian.AppendUint32(nil, uint32(len(auth))), auth...)
	resp, err := p.roundTrip(36, 1, body)
	if err != nil {
		return 0, nil, 0, err
	}
	bad := errors.New("malformed SaslAuthenticate response")
	if len(resp) < 4 {
		return 0, nil, 0, bad
	}
	code = int16(binary.BigEndian.Uint16(resp))
	msgLen := int16(binary.BigEndian.Uint16(resp[2:]))
	resp = resp[4:]
	if msgLen > 0 {
		if int(msgLen) > len(resp) {
			return 0, nil, 0, bad
		}
		resp = resp[msgLen:]
	}
	if len(resp) < 4 {
		return 0, nil, 0, bad
	}
	n := int32(binary.BigEndian.Uint32(resp))
	resp = resp[4:]
	if n < 0 || int(n) > len(resp) || len(resp)-int(n) != 8 {
		return 0, nil, 0, bad
	}
	out = resp[:n]
	lifetimeMs = int64(binary.BigEndian.Uint64(resp[n:]))
	return code, out, lifetimeMs, nil
}

// exchange runs m over p the way the consumer will: a non-zero error code
// fails, and a mechanism's reply that comes with an error is sent before
// failing.
func exchange(p *saslPeer, m saslMechanism) (lifetimeMs int64, err error) {
	if err := p.handshake(m.name()); err != nil {
		return 0, err
	}
	out, err := m.start()
	if err != nil {
		return 0, err
	}
	for {
		code, in, life, err := p.authenticate(out)
		if err != nil {
			return 0, err
		}
		if code != 0 {
			return 0, fmt.Errorf("SaslAuthenticate error %d", code)
		}
		reply, merr := m.next(in)
		if reply == nil {
			return life, merr
		}
		if merr != nil {
			code, _, _, err := p.authenticate(reply)
			if err == nil && code == 0 {
				return 0, fmt.Errorf("broker accepted the end of a failed exchange; mechanism said %v", merr)
			}
			return 0, merr
		}
		out = reply
	}
}

func TestPeer(t *testing.T) {
	bin := kafkapeer(t)
	for _, mech := range []string{MechScramSHA512, MechScramSHA256, MechPlain} {
		t.Run(mech, func(t *testing.T) {
			dir := startPeer(t, bin, mech)
			creds, err := LoadCreds(filepath.Join(dir, "credentials"), "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			p, _ := dialPeer(t, dir)
			m, err := newSASL(creds, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := exchange(p, m); err != nil {
				t.Fatalf("good password: %v", err)
			}
			bad := *creds
			bad.Password += "x"
			p2, _ := dialPeer(t, dir)
			m, _ = newSASL(&bad, "")
			if _, err := exchange(p2, m); err == nil {
				t.Fatal("wrong password accepted")
			}
		})
	}
	t.Run(MechOAuthBearer, func(t *testing.T) { testPeerOAuthBearer(t, bin) })
}

func testPeerOAuthBearer(t *testing.T, bin string) {
	dir := startPeer(t, bin, MechOAuthBearer)
	creds, err := LoadCreds(filepath.Join(dir, "credentials"), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	p, roots := dialPeer(t, dir)
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
	p2, _ := dialPeer(t, dir)
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
