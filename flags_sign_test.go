package main

import (
	"bytes"
	"crypto/ed25519"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"comet/voevent"
)

func TestTrustedKeysBadAtStartUp(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "keys.txt")
	os.WriteFile(bad, []byte("# keys\nivo://example.org ed25519:short\n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--trusted-keys=" + bad}, "comet: --trusted-keys: " + bad + ":2: key \"ed25519:short\" is not the base64"},
		{[]string{"--trusted-keys=" + filepath.Join(dir, "absent")}, "comet: --trusted-keys: open " + filepath.Join(dir, "absent") + ": no such file"},
		{[]string{"--signed-only"}, "comet: --signed-only needs --trusted-keys=FILE"},
	} {
		var stdout, stderr bytes.Buffer
		args := append([]string{"--receive=tcp:0:interface=127.0.0.1", "--local-ivo=ivo://example.org/b", "--eventdb=" + dir}, tc.args...)
		code := run(args, &stdout, &stderr)
		if code != 2 || !strings.HasPrefix(stderr.String(), tc.want) || strings.Count(stderr.String(), "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line starting %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// signedBy returns a test event signed by k.
func signedBy(t *testing.T, id string, k ed25519.PrivateKey) []byte {
	t.Helper()
	ev, err := voevent.Parse(procEvent(id))
	if err != nil {
		t.Fatal(err)
	}
	out, err := voevent.Sign(ev, k)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func seedKey(b byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{b}, ed25519.SeedSize))
}

func trustLine(k ed25519.PrivateKey) string {
	return voevent.TrustedKey("ivo://example.org/proc", k.Public().(ed25519.PublicKey)) + "\n"
}

// A reload with a bad file keeps the keys in force and logs an ERROR; a
// good one replaces them.
func TestTrustReload(t *testing.T) {
	a, b := seedKey(1), seedKey(2)
	path := filepath.Join(t.TempDir(), "keys.txt")
	os.WriteFile(path, []byte(trustLine(a)), 0o644)
	s := signFlags{trustedKeys: path}
	if err := s.load(); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	check := s.hook(log)
	byA, byB := mustParseEv(t, signedBy(t, "ivo://example.org/proc#a", a)), mustParseEv(t, signedBy(t, "ivo://example.org/proc#b", b))
	accepts := func(ev *voevent.Event) bool { _, err := check(ev); return err == nil }

	os.WriteFile(path, []byte("ivo://example.org/proc nonsense\n"), 0o644)
	s.reload(log)
	if !strings.Contains(logs.String(), "level=ERROR msg=\"cannot re-read the trust file: keeping the keys in force\" trusted-keys="+path) ||
		!strings.Contains(logs.String(), path+":1: key") {
		t.Errorf("log after a bad reload:\n%s", logs.String())
	}
	if !accepts(byA) || accepts(byB) {
		t.Fatal("a bad trust file changed the keys in force")
	}
	os.WriteFile(path, []byte(trustLine(b)), 0o644)
	s.reload(log)
	if accepts(byA) || !accepts(byB) {
		t.Fatal("a good trust file was not taken")
	}
	if !strings.Contains(logs.String(), `msg="trust file re-read" trusted-keys=`+path+" entries=1") {
		t.Errorf("log after a good reload:\n%s", logs.String())
	}
}

func mustParseEv(t *testing.T, raw []byte) *voevent.Event {
	t.Helper()
	ev, err := voevent.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// A real broker: sendvo --sign-key publishes under a trusted prefix; the
// trust file is swapped by SIGHUP; a bad file at SIGHUP keeps the old one.
func TestTrustedKeysSIGHUP(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	_, lineA := keygen(t, dir, "a", "--prefix=ivo://example.org/proc")
	_, lineB := keygen(t, dir, "b", "--prefix=ivo://example.org/proc")
	trust := filepath.Join(dir, "keys.txt")
	os.WriteFile(trust, []byte(lineA+"\n"), 0o644)
	p := startProc(t, "--eventdb="+filepath.Join(dir, "db"), "--trusted-keys="+trust)
	p.waitLog(t, `msg="checking signed events" trusted-keys=`+trust+" entries=1 signed-only=false")
	sub := subscriber(t, p.bcast)

	n := 0
	sendvo := func(key string) (int, string) {
		n++
		ev := filepath.Join(dir, "ev.xml")
		os.WriteFile(ev, procEvent("ivo://example.org/proc#hup-"+string(rune('a'+n))), 0o644)
		args := []string{"-h", "127.0.0.1", "-p", p.recv[strings.LastIndex(p.recv, ":")+1:], "-f", ev}
		if key != "" {
			args = append(args, "--sign-key="+key+".key")
		}
		var out, errb bytes.Buffer
		code := cmdSendvo(args, strings.NewReader(""), &out, &errb)
		return code, out.String() + errb.String()
	}
	expect := func(key string, wantCode int, want string) {
		t.Helper()
		code, out := sendvo(key)
		if code != wantCode || !strings.Contains(out, want) {
			t.Fatalf("sendvo signed by %q: exit %d %q, want %d and %q", key, code, out, wantCode, want)
		}
	}
	expect(a, 0, "ack")
	if got := <-sub; got != "ivo://example.org/proc#hup-b" {
		t.Fatalf("subscriber got %s", got)
	}
	expect("", 1, "signature required: not signed")
	expect(b, 1, "signature required: signed only by keys not trusted")

	os.WriteFile(trust, []byte(lineB+"\n"), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, `msg="trust file re-read" trusted-keys=`+trust+" entries=1")
	expect(b, 0, "ack")
	expect(a, 1, "signature required")

	os.WriteFile(trust, []byte("garbage\n"), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	p.waitLog(t, `level=ERROR msg="cannot re-read the trust file: keeping the keys in force"`)
	expect(b, 0, "ack")
}
