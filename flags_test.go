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
	})
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
	check("receive endpoints", endpoints(cfg.receiveOn, cfg.receive, cfg.receivePort, nil), []endpoint{{"tcp", ":9098"}})
}

func TestParseFlagsDefaults(t *testing.T) {
	cfg, err := parseFlags([]string{"--remote=example.org"})
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
	})
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
		{[]string{"--receive=28098", "--local-ivo=ivo://a.b/c"}, 2, []string{`invalid value "28098" for flag --receive`, "tcp:28098"}},
		{[]string{"-b=8099", "--local-ivo=ivo://a.b/c"}, 2, []string{`"8099" for flag --b`, "tcp:8099"}},
		{[]string{"--cmd=/bin/true", "--cmd-timeout=abc", "--remote=h"}, 2, []string{"--cmd-timeout", `"abc"`}},
		{[]string{"--cmd=/bin/true", "--cmd-concurrency=0", "--remote=h"}, 2, []string{"--cmd-concurrency", `"0"`}},
		{[]string{"--cmd=/bin/true", "--cmd-queue=-1", "--remote=h"}, 2, []string{"--cmd-queue", `"-1"`}},
		{[]string{"--log-format=xml", "--remote=h"}, 2, []string{"--log-format", `"xml"`, "text or json"}},
		{[]string{"--logfile=/nonexistent/dir/comet.log", "--remote=h"}, 2, []string{"--logfile", "/nonexistent/dir/comet.log"}},
		{[]string{"--uid=1000", "-r"}, 2, []string{"--uid is a twistd option", "User="}},
		{[]string{"-u", "comet", "-r"}, 2, []string{"-u is a twistd option", "User="}},
		{[]string{"--gid", "100", "-r"}, 2, []string{"--gid is a twistd option", "Group="}},
		{[]string{"--umask=022", "-r"}, 2, []string{"--umask is a twistd option", "UMask="}},
		{[]string{"--rundir=/var/lib/comet", "-r"}, 2, []string{"--rundir is a twistd option", "WorkingDirectory="}},
		{[]string{"--syslog", "-r"}, 2, []string{"--syslog is a twistd option", "journal"}},
		{[]string{"--prefix=comet", "-r"}, 2, []string{"--prefix is a twistd option", "SyslogIdentifier="}},
		{[]string{"-l", "/var/log/comet.log", "-r"}, 2, []string{"-l is a twistd option", "--logfile=PATH"}},
		{[]string{"--reactor=epoll", "-r"}, 2, []string{"--reactor is a twistd option"}},
		{[]string{"-n", "comet", "-r"}, 2, []string{`unexpected argument "comet"`, "twistd"}},
		{[]string{"@/nonexistent/comet.args"}, 2, []string{"argument file", "/nonexistent/comet.args"}},
		{[]string{"--config=/nonexistent/comet.args"}, 2, []string{"argument file", "/nonexistent/comet.args"}},
		{[]string{"--remote=h", "--config"}, 2, []string{"--config"}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(tt.args, &stdout, &stderr)
		msg := stderr.String()
		if code != tt.code || strings.Count(msg, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want exit %d and one line", tt.args, code, msg, tt.code)
			continue
		}
		if strings.Contains(msg, "boolean") {
			t.Errorf("%q: message %q calls a flag boolean", tt.args, msg)
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q: message %q does not contain %q", tt.args, msg, w)
			}
		}
	}
}

// TestBadHandlerOptionOpensNothing: a bad handler option stops comet
// before the log file, the pidfile, the store or another handler's
// directory is created.
func TestBadHandlerOptionOpensNothing(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	code := run([]string{"-r", "--local-ivo=ivo://example.org/b", "--eventdb=" + dir + "/db",
		"--logfile=" + dir + "/log", "--pidfile=" + dir + "/pid", "--save-event", "--save-event-directory=" + dir + "/saved",
		"--cmd=/bin/true", "--cmd-timeout=abc"}, &stdout, &stderr)
	if code != 2 || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("exit %d, stderr %q; want 2 and one line", code, stderr.String())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("created %v", entries)
	}
}

func TestSwitchesTakeSpacedEndpoints(t *testing.T) {
	cfg, err := parseFlags([]string{"--receive", "tcp:9000:interface=127.0.0.1", "-b", "unix:/tmp/b.sock",
		"--receive", "--broadcast", "-r", "UNIX:/tmp/r.sock", "-n", "--nodaemon", "--local-ivo=ivo://example.org/b"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []endpoint{{"tcp", "127.0.0.1:9000"}, {"unix", "/tmp/r.sock"}}; !reflect.DeepEqual(cfg.receive, want) {
		t.Errorf("receive %v, want %v", cfg.receive, want)
	}
	if want := []endpoint{{"unix", "/tmp/b.sock"}}; !reflect.DeepEqual(cfg.broadcast, want) {
		t.Errorf("broadcast %v, want %v", cfg.broadcast, want)
	}
}

func TestHandlerOptionWithoutHandlerWarns(t *testing.T) {
	cfg, err := parseFlags([]string{"--remote=h", "--save-event-directory=/srv/events"})
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	hs, err := buildHandlers(cfg, newLogger(&logged, "text", 0))
	if err != nil || len(hs) != 0 {
		t.Fatalf("handlers %v, %v", hs, err)
	}
	if !strings.Contains(logged.String(), `level=WARN msg="--save-event-directory is ignored without --save-event"`) {
		t.Errorf("log: %q", logged.String())
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
		"--max-subscriber-filters", "--max-subscriber-filter-bytes", "--cmd-timeout=S", "--cmd-concurrency=N",
		"--save-event-directory=DIR", "--logfile=PATH", "--pidfile=PATH", "--log-format=FORMAT", "--nodaemon", "@FILE"} {
		if !strings.Contains(stdout.String(), flag) {
			t.Errorf("--help does not mention %s", flag)
		}
	}
	// Every description starts in one column, and no line is wider than 88.
	for _, line := range strings.Split(stdout.String(), "\n") {
		if len(line) > 88 {
			t.Errorf("--help line wider than 88 columns: %q", line)
		}
		if strings.HasPrefix(strings.TrimLeft(line, " "), "-") && len(line) > 34 && strings.Contains(line[6:], "  ") &&
			(line[33] != ' ' || line[34] == ' ') {
			t.Errorf("--help line not aligned: %q", line)
		}
	}
	stdout.Reset()
	if code := run([]string{"--version"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), version) {
		t.Errorf("--version: exit %d, %q", code, stdout.String())
	}
}
