package main

import (
	"net"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

func TestEndpointsIPv4OnlyWhitelist(t *testing.T) {
	parse := func(args ...string) *config {
		t.Helper()
		cfg, err := parseFlags(append(args, "--local-ivo=ivo://example.org/b"))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	cfg := parse("-rb", "--author-whitelist=10.0.0.0/8", "--author-whitelist=127.0.0.1", "--subscriber-whitelist=::1")
	if got, want := endpoints(cfg.receiveOn, cfg.receive, cfg.receivePort, cfg.authorWL), []endpoint{{"tcp4", "0.0.0.0:8098"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("IPv4 whitelist: %v, want %v", got, want)
	}
	if got, want := endpoints(cfg.broadOn, cfg.broadcast, cfg.broadcastPort, cfg.subWL), []endpoint{{"tcp", ":8099"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("IPv6 whitelist: %v, want %v", got, want)
	}
	cfg = parse("-r", "--author-whitelist=10.0.0.0/8", "--author-whitelist=2001:db8::/32")
	if got := endpoints(cfg.receiveOn, cfg.receive, cfg.receivePort, cfg.authorWL); got[0].network != "tcp" {
		t.Errorf("mixed whitelist: %v, want both families", got)
	}
	cfg = parse("--receive=tcp:9000:interface=\\:\\:1", "--author-whitelist=10.0.0.0/8")
	if got := endpoints(cfg.receiveOn, cfg.receive, cfg.receivePort, cfg.authorWL); got[0] != (endpoint{"tcp", "[::1]:9000"}) {
		t.Errorf("explicit endpoint changed: %v", got)
	}
}

// TestIPv4OnlyWhitelistRefusesIPv6 runs a broker with a bare --receive and
// an IPv4-only whitelist: it says so, IPv4 loopback connects and IPv6
// loopback is refused rather than accepted and dropped.
func TestIPv4OnlyWhitelistRefusesIPv6(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startBare(t, "-r", "--receive-port=0", "--author-whitelist=127.0.0.0/8",
		"--local-ivo=ivo://example.org/v4", "--eventdb="+filepath.Join(dir, "db"))
	p.waitLog(t, `msg="comet started"`)
	p.waitLog(t, `msg="--receive listens on IPv4 only: every entry of its whitelist is IPv4; add an IPv6 entry to accept IPv6 too"`)
	m := listenRE.FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no listening line:\n%s", p.stderr)
	}
	_, port, _ := net.SplitHostPort(m[2])
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), 5*time.Second)
	if err != nil {
		t.Fatalf("IPv4 loopback: %v", err)
	}
	c.Close()
	if l, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skip("no IPv6 loopback here")
	} else {
		l.Close()
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort("::1", port), 5*time.Second); err == nil {
		c.Close()
		t.Errorf("IPv6 loopback connected to an IPv4-only listener")
	}
}
