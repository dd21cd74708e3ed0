package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestArgFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "comet.args")
	os.WriteFile(file, []byte(`# comet's options
--receive
  --local-ivo=ivo://example.org/broker

--receive-port 9000
--remote	one.example.org
--filter //Param[@name="a b"]
	# indented comment
-b
`), 0o644)
	want := func(cfg *config, port int, remotes ...string) {
		t.Helper()
		if cfg.localIVO != "ivo://example.org/broker" || !cfg.receiveOn || !cfg.broadOn || cfg.receivePort != port ||
			!reflect.DeepEqual(cfg.remotes, remotes) || !reflect.DeepEqual(cfg.filters, []string{`//Param[@name="a b"]`}) {
			t.Errorf("config: ivo %q, receive %v, broadcast %v, port %d, remotes %q, filters %q",
				cfg.localIVO, cfg.receiveOn, cfg.broadOn, cfg.receivePort, cfg.remotes, cfg.filters)
		}
	}
	for _, args := range [][]string{{"@" + file}, {"--config=" + file}, {"--config", file}} {
		cfg, err := parseFlags(args)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		want(cfg, 9000, "one.example.org:8099")
	}
	// Later flags win; repeatable ones accumulate.
	cfg, err := parseFlags([]string{"--receive-port=8000", "@" + file, "--receive-port=9001", "--remote=two.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	want(cfg, 9001, "one.example.org:8099", "two.example.org:8099")
}

func TestArgFileErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(content), 0o644)
		return path
	}
	inner := write("inner.args", "--remote=h\n")
	tests := []struct {
		file string
		want string
	}{
		{write("nested.args", "--remote=h\n@"+inner+"\n"), "may not name another"},
		{write("config.args", "--config="+inner+"\n"), "may not name another"},
		{write("config2.args", "--config "+inner+"\n"), "may not name another"},
		{write("big.args", "--remote=h\n"+strings.Repeat("#", maxArgFile)), "larger than"},
		{write("bad.args", "--no-such-flag\n"), "no-such-flag"},
		{filepath.Join(dir, "missing.args"), "missing.args"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run([]string{"@" + tt.file}, &stdout, &stderr)
		if code != 2 || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("@%s: exit %d, stderr %q; want 2 and one line with %q", filepath.Base(tt.file), code, stderr.String(), tt.want)
		}
	}
}
