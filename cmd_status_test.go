package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"comet/status"
	"comet/vtp"
)

var statusRE = regexp.MustCompile(`msg="listening for status requests" addr=tcp:(\S+)`)

// scrape fetches /metrics and reads it back as "name{labels}" → value.
func scrape(t *testing.T, addr string) (map[string]float64, string) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	m := map[string]float64{}
	for _, line := range strings.Split(buf.String(), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("bad sample %q", line)
		}
		m[line[:i]] = v
	}
	return m, buf.String()
}

func TestStatusOfARunningBroker(t *testing.T) {
	p := startProc(t, "--eventdb="+t.TempDir(), "--status=tcp:0:interface=127.0.0.1", "--print-event")
	var m []string
	p.waitFor(t, "the status listener's log line", func() bool {
		m = statusRE.FindStringSubmatch(p.stderr.String())
		return m != nil
	})
	addr := m[1]
	got := subscriber(t, p.bcast)
	const n = 6
	c, err := net.Dial("tcp", p.recv)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	for i := range n {
		vtp.WriteFrame(c, procEvent(fmt.Sprintf("ivo://example.org/proc#status-%d", i)))
		if _, err := vtp.ReadFrame(r, vtp.DefaultMaxFrame); err != nil {
			t.Fatal(err)
		}
	}
	vtp.WriteFrame(c, []byte("<not xml"))
	vtp.ReadFrame(r, vtp.DefaultMaxFrame)
	for range n {
		select {
		case <-got:
		case <-time.After(10 * time.Second):
			t.Fatal("the subscriber did not get every event")
		}
	}

	want := map[string]float64{
		`comet_events_accepted_total{source="author"}`:                     n,
		`comet_events_refused_total{reason="not_well_formed"}`:             1,
		`comet_deliveries_total`:                                           n,
		`comet_subscribers`:                                                1,
		`comet_seen_keys`:                                                  n,
		`comet_handler_events_total{handler="print-event",outcome="done"}`: n,
		`comet_healthy`:                                                    1,
	}
	var metrics map[string]float64
	var text string
	p.waitFor(t, "the figures", func() bool {
		metrics, text = scrape(t, addr)
		for k, v := range want {
			if metrics[k] != v {
				return false
			}
		}
		return true
	})
	if _, err := exec.LookPath("promtool"); err == nil {
		cmd := exec.Command("promtool", "check", "metrics")
		cmd.Stdin = strings.NewReader(text)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("promtool check metrics: %v\n%s", err, out)
		}
	}

	var stdout, stderr bytes.Buffer
	if code := run([]string{"status", "tcp:" + strings.Split(addr, ":")[1]}, &stdout, &stderr); code != 0 {
		t.Fatalf("comet status: exit %d\n%s%s", code, stdout.String(), stderr.String())
	}
	for _, s := range []string{"ivo://example.org/proc: healthy", "events: 6 from authors", "subscribers: 1",
		"handler print-event: 6 done", "last event: ivo://example.org/proc#status-5"} {
		if !strings.Contains(stdout.String(), s) {
			t.Errorf("comet status said\n%s\nwithout %q", stdout.String(), s)
		}
	}
}

func TestStatusExitCodes(t *testing.T) {
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			http.Error(w, "the seen-events store cannot write: disk full", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"version":"1.0.0","local_ivo":"ivo://example.org/sick","healthy":false}`)
	}))
	defer sick.Close()

	sock := filepath.Join(t.TempDir(), "status.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	well := status.Serve(l, &status.Source{Version: "1.0.0", LocalIVO: "ivo://example.org/well"})
	defer well.Close()

	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedAddr := closed.Addr().String()
	closed.Close()

	for _, tt := range []struct {
		arg  string
		code int
		out  string
	}{
		{"unix:" + sock, 0, "ivo://example.org/well: healthy"},
		{sick.URL, 1, "problem: the seen-events store cannot write: disk full"},
		{"http://" + closedAddr, 2, ""},
		{"tcp:" + strings.Split(closedAddr, ":")[1], 2, ""},
		{"tls:8097", 2, ""},
	} {
		var stdout, stderr bytes.Buffer
		code := run([]string{"status", tt.arg}, &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String(), tt.out) {
			t.Errorf("comet status %s: exit %d\n%s%s\nwant exit %d with %q", tt.arg, code, stdout.String(), stderr.String(), tt.code, tt.out)
		}
	}
}

func TestStatusFlags(t *testing.T) {
	for _, tt := range []struct{ in, network, addr string }{
		{"tcp:8097", "tcp", "127.0.0.1:8097"},
		{"tcp:8097:interface=0.0.0.0", "tcp", "0.0.0.0:8097"},
		{`tcp:8097:interface=\:\:1`, "tcp", "[::1]:8097"},
		{"unix:/run/comet/status.sock", "unix", "/run/comet/status.sock"},
	} {
		ep, err := parseStatusEndpoint(tt.in)
		if err != nil || ep.network != tt.network || ep.address != tt.addr {
			t.Errorf("%s: %+v %v, want %s %s", tt.in, ep, err, tt.network, tt.addr)
		}
	}
	cfg, err := parseFlags([]string{"--remote=a.example.org"})
	if err != nil || cfg.remoteBackoffMax != time.Minute || cfg.status != nil {
		t.Errorf("defaults: %v %v %v", err, cfg.remoteBackoffMax, cfg.status)
	}
	cfg, err = parseFlags([]string{"--remote-backoff-max=5m", "--status=tcp:9000"})
	if err != nil || cfg.remoteBackoffMax != 5*time.Minute || cfg.status == nil || cfg.status.address != "127.0.0.1:9000" {
		t.Errorf("set: %v %+v", err, cfg)
	}
	for _, bad := range []string{"--status=8097", "--status=tls:8097", "--remote-backoff-max=0", "--remote-backoff-max=x"} {
		var stderr bytes.Buffer
		if code := run([]string{bad, "--remote=a.example.org"}, &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), strings.Split(bad, "=")[0]) {
			t.Errorf("%s: exit %d, %q; want 2 naming the flag", bad, code, stderr.String())
		}
	}
}
