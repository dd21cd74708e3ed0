package main

import (
	"bytes"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTLSEndpointFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--receive", "tls:8443:interface=127.0.0.1", "--broadcast=tls:port=8444",
		"-b", "tcp:8099", "--subscribe=tls:broker.example.org:8099", "--subscribe=tls:[::1]:9000", "--remote=plain.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []endpoint{{"tls", "127.0.0.1:8443"}}; !reflect.DeepEqual(cfg.receive, want) {
		t.Errorf("receive %v, want %v", cfg.receive, want)
	}
	if want := []endpoint{{"tls", ":8444"}, {"tcp", ":8099"}}; !reflect.DeepEqual(cfg.broadcast, want) {
		t.Errorf("broadcast %v, want %v", cfg.broadcast, want)
	}
	if want := []string{"tls:broker.example.org:8099", "tls:[::1]:9000", "plain.example.org:8099"}; !reflect.DeepEqual(cfg.remotes, want) {
		t.Errorf("remotes %q, want %q", cfg.remotes, want)
	}
	for _, bad := range []string{"tls:", "tls:x", "tls:8443:interface=nowhere", "tls:8443:colour=red"} {
		_, err := parseFlags([]string{"--receive=" + bad})
		if err == nil || !strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "tcp:") {
			t.Errorf("--receive=%s: %v, want an error about the tls: endpoint", bad, err)
		}
	}
	if _, err := parseFlags([]string{"--subscribe=ssl:h:1"}); err == nil || !strings.Contains(err.Error(), "tls:HOST:PORT") {
		t.Errorf("--subscribe=ssl:h:1: %v", err)
	}
}

// TestTLSFlagErrors: TLS flags that do not fit together, and bad files,
// stop comet at start-up with exit status 2 and one line naming the
// flag or the file.
func TestTLSFlagErrors(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	cert, key := ca.files(t, localServer("broker"))
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writeTestFile(t, caFile, ca.pem)
	junk := filepath.Join(t.TempDir(), "junk.pem")
	writeTestFile(t, junk, []byte("junk"))
	base := []string{"--local-ivo=ivo://example.org/b", "--eventdb=" + t.TempDir()}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--receive=tls:0"}, "a tls: endpoint needs --tls-cert and --tls-key"},
		{[]string{"--receive=tls:0", "--tls-cert=" + cert}, "--tls-cert and --tls-key go together"},
		{[]string{"--receive=tls:0", "--tls-cert=/nonexistent/cert.pem", "--tls-key=" + key}, "/nonexistent/cert.pem"},
		{[]string{"--receive=tls:0", "--tls-cert=" + junk, "--tls-key=" + key}, junk},
		{[]string{"--receive=tls:0", "--tls-cert=" + cert, "--tls-key=" + cert}, cert},
		{[]string{"--receive=tls:0", "--tls-cert=" + cert, "--tls-key=" + key, "--tls-client-ca=" + junk}, "--tls-client-ca: " + junk},
		{[]string{"--receive", "--tls-client-ca=" + caFile}, "--tls-client-ca needs a tls: endpoint"},
		{[]string{"--receive=tls:0", "--tls-cert=" + cert, "--tls-key=" + key, "--author-identity=ivo://example.org/a"}, "need --tls-client-ca"},
		{[]string{"--receive", "--subscribe=tls:h:1", "--tls-ca=/nonexistent/ca.pem"}, "--tls-ca: open /nonexistent/ca.pem"},
		{[]string{"--receive=tls:0", "--tls-cert=" + cert, "--tls-key=" + key, "--tls-client-ca=" + caFile, "--author-identity=swift"}, "a common name is never an identity"},
		{[]string{"--broadcast=tls:0", "--tls-cert=" + cert, "--tls-key=" + key, "--tls-client-ca=" + caFile, "--subscriber-identity=CN=sub"}, "want an ivo:// identity"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append(base, c.args...), &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), c.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("comet %q: exit %d, stderr %q; want exit 2 and one line with %q", c.args, code, stderr.String(), c.want)
		}
	}
}

func writeTestFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

var tlsListenRE = regexp.MustCompile(`msg="listening for authors" addr=tls:(\S+)`)

// TestProcTLSCommonNameIsNoIdentity: with mutual TLS and no identity list,
// an author whose certificate, from a sub-CA name-constrained to
// example.org, says ivo://nasa.gsfc.gcn in its common name only, publishes
// nothing: comet sendvo gets a nak saying the certificate has no identity.
func TestProcTLSCommonNameIsNoIdentity(t *testing.T) {
	root := newTestCA(t, "Test CA")
	org := root.subCA(t, "Example Org CA", "example.org")
	dir := t.TempDir()
	certFile, keyFile := root.files(t, localServer("broker"))
	caFile := filepath.Join(dir, "ca.pem")
	writeTestFile(t, caFile, root.pem)
	p := startProc(t, "--eventdb="+t.TempDir(), "--receive=tls:0:interface=127.0.0.1",
		"--tls-cert="+certFile, "--tls-key="+keyFile, "--tls-client-ca="+caFile)
	var tlsRecv string
	p.waitFor(t, "a TLS listener", func() bool {
		m := tlsListenRE.FindStringSubmatch(p.stderr.String())
		if m != nil {
			tlsRecv = m[1]
		}
		return m != nil
	})
	_, port, _ := net.SplitHostPort(tlsRecv)
	forgedCert, forgedKey := org.files(t, certSpec{cn: "ivo://nasa.gsfc.gcn"})
	f := filepath.Join(dir, "gcn.xml")
	writeTestFile(t, f, procEvent("ivo://nasa.gsfc.gcn/SWIFT#1"))
	var stdout, stderr bytes.Buffer
	code := run([]string{"sendvo", "--tls", "-p", port, "--timeout", "10s", "--ca", caFile, "--cert", forgedCert, "--key", forgedKey,
		"-h", "127.0.0.1", "-f", f}, &stdout, &stderr)
	if code != 1 || !strings.Contains(stdout.String(), "certificate carries no ivo:// URI, so it has no identity and may publish nothing here") {
		t.Errorf("sendvo with a common-name-only certificate: exit %d, stdout %q, stderr %q; want exit 1 and a nak saying it has no identity", code, stdout.String(), stderr.String())
	}
	p.waitLog(t, `msg="author certificate carries no ivo:// URI: every event it sends will be refused"`)
}

// TestProcTLS runs comet with an author-only mutual-TLS port beside its
// plain ports: comet sendvo --tls publishes under its identity and is
// refused outside it; SIGHUP rotates the certificate, and a bad file at
// SIGHUP keeps the one in use.
func TestProcTLS(t *testing.T) {
	ca := newTestCA(t, "Test CA")
	dir := t.TempDir()
	certFile, keyFile := ca.files(t, localServer("first"))
	caFile := filepath.Join(dir, "ca.pem")
	writeTestFile(t, caFile, ca.pem)
	p := startProc(t, "--eventdb="+t.TempDir(), "--receive=tls:0:interface=127.0.0.1",
		"--tls-cert="+certFile, "--tls-key="+keyFile, "--tls-client-ca="+caFile,
		"--author-identity=ivo://example.org/proc-author")
	var tlsRecv string
	p.waitFor(t, "a TLS listener", func() bool {
		m := tlsListenRE.FindStringSubmatch(p.stderr.String())
		if m != nil {
			tlsRecv = m[1]
		}
		return m != nil
	})
	_, port, _ := net.SplitHostPort(tlsRecv)
	authorCert, authorKey := ca.files(t, certSpec{cn: "author", uris: []string{"ivo://example.org/proc-author"}})
	event := func(id string) string {
		f := filepath.Join(dir, strings.NewReplacer("/", "_", ":", "_", "#", "_").Replace(id)+".xml")
		writeTestFile(t, f, procEvent(id))
		return f
	}
	sub := subscriber(t, p.bcast)
	for _, c := range []struct {
		args      []string
		code      int
		out, errs string
	}{
		{[]string{"-f", event("ivo://example.org/proc-author#1")}, 0, "ack ivo://example.org/proc-author#1", ""},
		{[]string{"-f", event("ivo://example.org/proc#2")}, 1, "is not under this author's identity ivo://example.org/proc-author", ""},
		{[]string{"--ca", caFile, "-h", "localhost", "-f", event("ivo://example.org/proc-author#3")}, 2, "", "certificate required"},
		{[]string{"-h", "127.0.0.1", "-f", event("ivo://example.org/proc-author#4")}, 2, "", "signed by an unknown authority"},
	} {
		args := c.args
		if len(args) == 2 { // the author with its certificate
			args = append([]string{"--ca", caFile, "--cert", authorCert, "--key", authorKey, "-h", "127.0.0.1"}, args...)
		}
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"sendvo", "--tls", "-p", port, "--timeout", "10s"}, args...), &stdout, &stderr)
		if code != c.code || !strings.Contains(stdout.String(), c.out) || !strings.Contains(stderr.String(), c.errs) {
			t.Errorf("sendvo %q: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", args, code, stdout.String(), stderr.String(), c.code, c.out, c.errs)
		}
	}
	select {
	case got := <-sub:
		if got != "ivo://example.org/proc-author#1" {
			t.Errorf("subscriber got %s, want only the event under the identity", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the plain subscriber got nothing")
	}

	served := func() string {
		c, err := tls.Dial("tcp", tlsRecv, &tls.Config{RootCAs: ca.pool})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].Subject.CommonName
	}
	if got := served(); got != "first" {
		t.Fatalf("serves %q, want first", got)
	}
	c, k := ca.issue(t, localServer("second"))
	writeTestFile(t, certFile, c)
	writeTestFile(t, keyFile, k)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, `msg="TLS certificate reloaded" subject="CN=second"`)
	if got := served(); got != "second" {
		t.Errorf("after SIGHUP serves %q, want second", got)
	}
	writeTestFile(t, keyFile, []byte("not a key"))
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, `level=ERROR msg="TLS certificate not reloaded: keeping the one in use"`)
	if !strings.Contains(p.stderr.String(), keyFile) {
		t.Errorf("the ERROR line does not name %s:\n%s", keyFile, p.stderr)
	}
	if got := served(); got != "second" {
		t.Errorf("after a bad SIGHUP serves %q, want second", got)
	}
}
