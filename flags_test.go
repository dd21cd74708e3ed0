package main

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{
		"-r", "--broadcast", "--local-ivo", "ivo://example.org/broker",
		"--remote=broker.example.org", "--remote", "[::1]:9000", "--subscribe=tcp:10.0.0.1:8100",
		"--filter=//Param", "--filter", `/*[@role!="test"]`,
		"--eventdb=/var/lib/comet", "--receive-port", "9098", "--broadcast-port=9099",
		"--broadcast-test-interval=0", "--author-whitelist=10.0.0.0/8", "--author-whitelist", "127.0.0.1/255.255.255.255",
		"--subscriber-whitelist=::1", "-vv", "-q", "--save-event", "--save-event-directory=/tmp/ev",
		"--cmd=/bin/true", "--cmd", "/bin/false", "--max-connections=10000", "--max-connections-per-address", "2000",
		"--max-subscriber-filters=8", "--max-subscriber-filter-bytes=4096",
	}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("receive", cfg.receiveOn, true)
	check("broadcast", cfg.broadOn, true)
	check("remotes", cfg.remotes, []string{"broker.example.org:8099", "[::1]:9000", "10.0.0.1:8100"})
	check("filters", cfg.filters, []string{"//Param", `/*[@role!="test"]`})
	check("eventdb", cfg.eventDB, "/var/lib/comet")
	check("limits", []int{cfg.maxConns, cfg.maxConnsPerAddr, cfg.maxFilters, cfg.maxFilterBytes}, []int{10000, 2000, 8, 4096})
	check("ports", []int{cfg.receivePort, cfg.broadcastPort}, []int{9098, 9099})
	check("test interval", cfg.testInterval, time.Duration(0))
	check("author whitelist", len(cfg.authorWL), 2)
	check("subscriber whitelist", cfg.subWL[0].String(), "::1/128")
	check("verbosity", cfg.verbose-cfg.quiet, 1)
	for _, pf := range cfg.plugins {
		switch pf.p.Name {
		case "save-event":
			check("save-event", pf.enabled, true)
			check("save-event-directory", *pf.opts["directory"], "/tmp/ev")
		case "cmd":
			check("cmd", pf.args, []string{"/bin/true", "/bin/false"})
		case "print-event":
			check("print-event", pf.enabled, false)
		}
	}
	check("receive endpoints", endpoints(cfg.receiveOn, cfg.receive, cfg.receivePort), []endpoint{{"tcp", ":9098"}})
}

func TestParseFlagsDefaults(t *testing.T) {
	cfg, err := parseFlags([]string{"--remote=example.org"}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.receivePort != 8098 || cfg.broadcastPort != 8099 || cfg.testInterval != time.Hour ||
		cfg.eventDB != "" || cfg.maxFrame != 1<<20 || len(cfg.authorWL) != 0 ||
		cfg.maxConns != 4096 || cfg.maxConnsPerAddr != 64 || cfg.maxFilters != 64 || cfg.maxFilterBytes != 64<<10 {
		t.Errorf("defaults: %+v", cfg)
	}
}

func TestEndpointForms(t *testing.T) {
	cfg, err := parseFlags([]string{
		"--receive=tcp:8098:interface=127.0.0.1", "--receive=tcp:port=8100:interface=\\:\\:1",
		"--broadcast=unix:/run/comet.sock", "--broadcast=unix:address=/tmp/b.sock",
		"--local-ivo=ivo://example.org/b",
	}, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	want := []endpoint{{"tcp", "127.0.0.1:8098"}, {"tcp", "[::1]:8100"}}
	if !reflect.DeepEqual(cfg.receive, want) {
		t.Errorf("receive endpoints %v, want %v", cfg.receive, want)
	}
	want = []endpoint{{"unix", "/run/comet.sock"}, {"unix", "/tmp/b.sock"}}
	if !reflect.DeepEqual(cfg.broadcast, want) {
		t.Errorf("broadcast endpoints %v, want %v", cfg.broadcast, want)
	}
}

// TestCommandLineErrors runs the whole command line: every bad value is
// one line naming the flag and the value, with exit status 2; nothing to
// do is exit status 1.
func TestCommandLineErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want []string // substrings of the one-line message
	}{
		{nil, 1, []string{"nothing to do"}},
		{[]string{"-v"}, 1, []string{"nothing to do"}},
		{[]string{"--receive-port=80a", "-r"}, 2, []string{"--receive-port", `"80a"`}},
		{[]string{"--broadcast-port", "70000", "-b"}, 2, []string{"--broadcast-port", "70000"}},
		{[]string{"--broadcast-test-interval=-5", "-b"}, 2, []string{"--broadcast-test-interval", "-5"}},
		{[]string{"--author-whitelist=10.0.0.0/33", "-r"}, 2, []string{"--author-whitelist", "10.0.0.0/33"}},
		{[]string{"--subscriber-whitelist=nonsense", "-b"}, 2, []string{"--subscriber-whitelist", "nonsense"}},
		{[]string{"--remote=host:port"}, 2, []string{"--remote", "host:port"}},
		{[]string{"--subscribe=host:8099"}, 2, []string{"--subscribe", "host:8099"}},
		{[]string{"--receive=tcp:notaport", "--local-ivo=ivo://a.b/c"}, 2, []string{"--receive", "tcp:notaport"}},
		{[]string{"--receive=udp:8098", "--local-ivo=ivo://a.b/c"}, 2, []string{"--receive", "udp:8098"}},
		{[]string{"--filter=//Param[", "--remote=h"}, 2, []string{"--filter", `"//Param["`}},
		{[]string{"-r"}, 2, []string{"--local-ivo is required"}},
		{[]string{"-b", "--local-ivo=example.org"}, 2, []string{"--local-ivo", `"example.org"`}},
		{[]string{"--no-such-flag"}, 2, []string{"no-such-flag"}},
		{[]string{"-r", "extra"}, 2, []string{`unexpected argument "extra"`}},
		{[]string{"--max-frame-size=12", "-r"}, 2, []string{"--max-frame-size", "12"}},
		{[]string{"-vx"}, 2, []string{"-vx"}},
		{[]string{"--max-connections=0", "-r"}, 2, []string{"--max-connections", `"0"`}},
		{[]string{"--max-connections-per-address=x", "-r"}, 2, []string{"--max-connections-per-address", `"x"`}},
		{[]string{"--max-subscriber-filters=-1", "-b"}, 2, []string{"--max-subscriber-filters", `"-1"`}},
		{[]string{"--max-subscriber-filter-bytes=1e9", "-b"}, 2, []string{"--max-subscriber-filter-bytes", `"1e9"`}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tt.args, &stdout, &stderr)
		msg := stderr.String()
		if code != tt.code || strings.Count(msg, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and one line", tt.args, code, msg, tt.code)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q: message %q does not contain %q", tt.args, msg, w)
			}
		}
	}
}

func TestHelpAndVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--help"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--help: exit %d", code)
	}
	for _, flag := range []string{"--receive", "--broadcast", "--remote", "--filter", "--local-ivo", "--eventdb",
		"--receive-port", "--broadcast-port", "--broadcast-test-interval", "--author-whitelist",
		"--subscriber-whitelist", "--cmd=PATH", "--print-event", "--save-event", "--save-event-directory",
		"--verbose", "--quiet", "--version", "--max-connections", "--max-connections-per-address",
		"--max-subscriber-filters", "--max-subscriber-filter-bytes"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("--help does not mention %s", flag)
		}
	}
	stdout.Reset()
	if code := run([]string{"--version"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), version) {
		t.Errorf("--version: exit %d, %q", code, stdout.String())
	}
}
