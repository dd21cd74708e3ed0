//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSpoolEndpointForms(t *testing.T) {
	cfg, err := parseFlags([]string{"--receive=dir:/var/spool/comet", "--receive", "dir:/srv/in:coming",
		"-r", "tcp:8098", "--receive=DIR:/x\\:y", "--local-ivo=ivo://example.org/b"})
	if err != nil {
		t.Fatal(err)
	}
	want := []endpoint{{"dir", "/var/spool/comet"}, {"dir", "/srv/in:coming"}, {"tcp", ":8098"}, {"dir", "/x:y"}}
	if !reflect.DeepEqual(cfg.receive, want) {
		t.Errorf("receive endpoints %v, want %v", cfg.receive, want)
	}
	for _, args := range [][]string{
		{"--receive=dir:", "--local-ivo=ivo://example.org/b"},
		{"--receive=dir:/var/spool\ncomet", "--local-ivo=ivo://example.org/b"},
		{"--broadcast=dir:/var/spool/comet", "--local-ivo=ivo://example.org/b"},
	} {
		var stderr bytes.Buffer
		if code := run(args, &bytes.Buffer{}, &stderr); code != 2 || strings.Count(stderr.String(), "\n") != 1 || !strings.Contains(stderr.String(), "dir:") {
			t.Errorf("%q: exit %d, %q; want exit 2 and one line naming the endpoint", args, code, stderr.String())
		}
	}
}

// TestSpoolDirRefusedAtStart: a spool every user may write to stops the
// broker at start with one line saying why, before it takes any file.
func TestSpoolDirRefusedAtStart(t *testing.T) {
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	os.Mkdir(spool, 0o777)
	os.Chmod(spool, 0o777) // whatever the umask
	os.WriteFile(filepath.Join(spool, "a.xml"), procEvent("ivo://example.org/proc#open"), 0o600)
	p := startBare(t, "--local-ivo=ivo://example.org/proc", "--eventdb="+filepath.Join(dir, "db"), "--receive=dir:"+spool)
	if code := p.waitExit(t); code != 1 {
		t.Errorf("exit %d, want 1:\n%s", code, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "comet: --receive: spool "+spool+" is writable by every user") {
		t.Errorf("stderr:\n%s", p.stderr)
	}
	if _, err := os.Stat(filepath.Join(spool, "a.xml")); err != nil {
		t.Errorf("file taken from a refused spool: %v", err)
	}
}
