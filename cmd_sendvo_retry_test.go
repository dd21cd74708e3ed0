//go:build unix

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestSendvoUnixSocket submits to a broker's --receive=unix:PATH.
func TestSendvoUnixSocket(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "author.sock")
	p := startProc(t, "--eventdb="+filepath.Join(dir, "db"), "--receive=unix:"+sock)
	relayed := subscriber(t, p.bcast)
	file := filepath.Join(dir, "ev.xml")
	id := "ivo://example.org/proc#unix-sendvo"
	os.WriteFile(file, procEvent(id), 0o600)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"sendvo", "-h", "unix:" + sock, "-f", file}, &stdout, &stderr); code != 0 ||
		!strings.HasPrefix(stdout.String(), "ack "+id+" from ivo://example.org/proc") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	if got := <-relayed; got != id {
		t.Errorf("relayed %s", got)
	}
	for _, args := range [][]string{
		{"-h", "unix:" + sock, "-p", "8098", "-f", file}, // a port means TCP
		{"-h", "unix:", "-f", file},
		{"-h", "unix:" + filepath.Join(dir, "none.sock"), "-f", file}, // nothing listening
		{"--retry=0", "-f", file},
		{"--retry=soon", "-f", file},
	} {
		stdout.Reset()
		stderr.Reset()
		if code := run(append([]string{"sendvo"}, args...), &stdout, &stderr); code != 2 || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("sendvo %q: exit %d, stderr %q; want exit 2 with one line", args, code, stderr.String())
		}
	}
}

// TestSendvoRetryBrokerStartsLate starts sendvo --retry before any broker
// is listening; once sendvo has failed, a broker starts on the socket, and
// sendvo's next attempt is acknowledged.
func TestSendvoRetryBrokerStartsLate(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "author.sock")
	file := filepath.Join(dir, "ev.xml")
	id := "ivo://example.org/proc#late"
	os.WriteFile(file, procEvent(id), 0o600)
	stderr := &syncBuf{}
	var stdout bytes.Buffer
	code := make(chan int, 1)
	go func() {
		code <- cmdSendvo([]string{"-h", "unix:" + sock, "-f", file, "--retry=120s"}, nil, &stdout, stderr)
	}()
	// A broker is started only once sendvo has tried and failed twice.
	waitSyncBuf(t, stderr, "attempt 2 failed")
	startProc(t, "--eventdb="+filepath.Join(dir, "db"), "--receive=unix:"+sock)
	if c := <-code; c != 0 || !strings.HasPrefix(stdout.String(), "ack "+id) {
		t.Fatalf("exit %d, stdout %q, stderr %q", c, stdout.String(), stderr)
	}
	if !strings.Contains(stderr.String(), "attempt 1 failed: dial unix "+sock) {
		t.Errorf("stderr does not say why the first attempt failed:\n%s", stderr)
	}
	// Sent again with --retry: answered at once, as already seen.
	stdout.Reset()
	if c := cmdSendvo([]string{"-h", "unix:" + sock, "-f", file, "--retry=60"}, nil, &stdout, stderr); c != 0 || !strings.Contains(stdout.String(), "already seen") {
		t.Errorf("resend: exit %d, %q", c, stdout.String())
	}
}

// TestSendvoRetryGivesUp: with no broker at all, --retry ends with exit 2
// and a line saying it gave up.
func TestSendvoRetryGivesUp(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ev.xml")
	os.WriteFile(file, procEvent("ivo://example.org/proc#never"), 0o600)
	var stdout, stderr bytes.Buffer
	code := cmdSendvo([]string{"-h", "unix:" + filepath.Join(dir, "none.sock"), "-f", file, "--retry=0.5"}, nil, &stdout, &stderr)
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	if code != 2 || !strings.Contains(lines[len(lines)-1], "comet sendvo: gave up after") || stdout.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
}

// waitSyncBuf waits until b holds s, failing after 20 s.
func waitSyncBuf(t *testing.T, b *syncBuf, s string) {
	t.Helper()
	p := &proc{stderr: b, exited: make(chan struct{})}
	p.waitLog(t, s)
}

// TestSendvoRetryBackoff: under --retry the pauses double from 0.1 s up to
// 5 s and stop growing, and sendvo gives up when DURATION is spent (a fake
// clock: the minute passes at once).
func TestSendvoRetryBackoff(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ev.xml")
	os.WriteFile(file, procEvent("ivo://example.org/proc#backoff"), 0o600)
	synctest.Test(t, func(t *testing.T) {
		var stdout, stderr bytes.Buffer
		start := time.Now()
		code := cmdSendvo([]string{"-h", "unix:" + filepath.Join(dir, "none.sock"), "-f", file, "--retry=60"}, nil, &stdout, &stderr)
		if code != 2 {
			t.Errorf("exit %d", code)
		}
		if spent := time.Since(start); spent < time.Minute || spent > time.Minute+10*time.Second {
			t.Errorf("gave up after %v of fake time, want one minute", spent)
		}
		var pauses []string
		for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
			if _, p, ok := strings.Cut(line, "; retrying in "); ok {
				pauses = append(pauses, p)
			}
		}
		want := []string{"100ms", "200ms", "400ms", "800ms", "1.6s", "3.2s", "5s", "5s"}
		if len(pauses) < len(want) || !slices.Equal(pauses[:len(want)], want) {
			t.Fatalf("pauses %q, want them to start %q", pauses, want)
		}
		for _, p := range pauses[len(want) : len(pauses)-1] {
			if p != "5s" {
				t.Errorf("pause %s after the cap", p)
			}
		}
		if !strings.Contains(stderr.String(), "comet sendvo: gave up after") {
			t.Errorf("stderr %q", stderr.String())
		}
	})
}
