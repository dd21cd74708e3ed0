package status

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ask sends GET path with the given Host header over c's transport and
// returns the status code and body.
func ask(t *testing.T, client *http.Client, url, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestForeignHostRefused: a page that had its own name resolve to this
// machine (DNS rebinding) sends that name as Host: the server refuses it
// with one line saying why, while localhost and loopback addresses, with
// any port or none, are answered.
func TestForeignHostRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := Serve(l, &Source{LocalIVO: "ivo://example.org/broker"})
	defer s.Close()
	url := "http://" + l.Addr().String()
	client := &http.Client{Timeout: 10 * time.Second}
	_, port, _ := net.SplitHostPort(l.Addr().String())
	for _, host := range []string{"localhost", "localhost:" + port, "LocalHost.:80", "127.0.0.1", "127.0.0.1:" + port,
		"127.1.2.3:9", "[::1]", "[::1]:" + port} {
		for _, path := range []string{"/status", "/healthz"} {
			if code, body := ask(t, client, url+path, host); code != 200 {
				t.Errorf("Host %q %s: %d %q", host, path, code, body)
			}
		}
	}
	for _, host := range []string{"rebind.example", "rebind.example:" + port, "localhost.rebind.example",
		"127.0.0.1.rebind.example", "192.0.2.7", "[2001:db8::1]:" + port, "localhost:x"} {
		for _, path := range []string{"/status", "/healthz", "/metrics", "/"} {
			code, body := ask(t, client, url+path, host)
			if code != http.StatusMisdirectedRequest || strings.Count(body, "\n") != 1 || !strings.Contains(body, "is not this status server's") {
				t.Errorf("Host %q %s: %d %q, want 421 and one line", host, path, code, body)
			}
			if strings.Contains(body, "ivo://example.org/broker") {
				t.Errorf("Host %q %s: the status was served", host, path)
			}
		}
	}
	// HTTP/1.0 without a Host header: no browser sends that.
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET /healthz HTTP/1.0\r\n\r\n")
	if line, err := bufio.NewReader(c).ReadString('\n'); err != nil || !strings.Contains(line, "200") {
		t.Errorf("no Host: %q %v", line, err)
	}
}

// TestHostAllowedOnInterface: a server given an interface also answers
// its address; one listening on all addresses answers any address, but
// never a name other than localhost.
func TestHostAllowedOnInterface(t *testing.T) {
	own := netip.MustParseAddr("192.0.2.5")
	all := netip.MustParseAddr("0.0.0.0")
	all6 := netip.MustParseAddr("::")
	for _, tt := range []struct {
		own  netip.Addr
		host string
		want bool
	}{
		{own, "192.0.2.5", true}, {own, "192.0.2.5:8097", true}, {own, "localhost", true}, {own, "127.0.0.1", true},
		{own, "192.0.2.6:8097", false}, {own, "scope.example:8097", false}, {own, "[::ffff:192.0.2.5]:8097", true},
		{all, "198.51.100.1:8097", true}, {all, "[2001:db8::5]", true}, {all, "scope.example", false},
		{all6, "[fe80::1%25eth0]:8097", true}, {all6, "[2001:db8::5]:8097", true}, {all6, "2001:db8::5", false},
		{own, "[::1", false}, {own, "[::1]x", false}, {own, ":8097", false}, {own, "", true},
	} {
		if got := hostAllowed(tt.own, tt.host); got != tt.want {
			t.Errorf("listening on %v, Host %q allowed = %v, want %v", tt.own, tt.host, got, tt.want)
		}
	}
}

// TestAnyHostOnUnixSocket: no browser reaches a Unix socket, so any Host
// is answered there.
func TestAnyHostOnUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "status.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	s := Serve(l, &Source{})
	defer s.Close()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", sock)
		}}}
	for _, host := range []string{"comet", "rebind.example", "localhost"} {
		if code, body := ask(t, client, "http://comet/healthz", host); code != 200 {
			t.Errorf("unix socket, Host %q: %d %q", host, code, body)
		}
	}
}
