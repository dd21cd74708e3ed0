package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Secrets the tests' credentials files hold: none may appear in any
// output.
const (
	testClientSecret = "s3cr3t-CLIENT-7f1c9a"
	testPassword     = "s3cr3t-PASSWORD-42d8e0"
)

// writeCreds writes a credentials file with mode perm.
func writeCreds(t *testing.T, text string, perm os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kafka.auth")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestKafkaCredsGroupReadable: a credentials file that group or others
// may read stops comet before it starts: exit status 2, one line on
// standard error that names the file and the fix, and not the secret.
func TestKafkaCredsGroupReadable(t *testing.T) {
	for _, c := range []struct {
		name, text string
		perm       os.FileMode
	}{
		{"oauth 0640", "client_id=comet\nclient_secret=" + testClientSecret + "\n", 0o640},
		{"scram 0604", "mechanism=scram-sha-512\nusername=comet\npassword=" + testPassword + "\n", 0o604},
	} {
		t.Run(c.name, func(t *testing.T) {
			auth := writeCreds(t, c.text, c.perm)
			p := startBare(t, "--subscribe=kafka://kafka.gcn.nasa.gov/gcn.classic.voevent.*?auth="+auth, "--eventdb="+t.TempDir())
			code := p.waitExit(t)
			msg := p.stderr.String()
			if code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, auth) || !strings.Contains(msg, "chmod 600") {
				t.Errorf("exit %d, stderr %q: want 2 and one line naming the file and chmod 600", code, msg)
			}
			if strings.Contains(msg, testClientSecret) || strings.Contains(msg, testPassword) {
				t.Errorf("the secret is on standard error: %q", msg)
			}
		})
	}
}

// TestKafkaCredsBadLine: a credentials file with a line that is not
// key=value is refused without showing the line, which may be a secret
// pasted alone.
func TestKafkaCredsBadLine(t *testing.T) {
	auth := writeCreds(t, "client_id=comet\n"+testClientSecret+"\n", 0o600)
	var stdout, stderr bytes.Buffer
	code := run([]string{"--subscribe=kafka://kafka.gcn.nasa.gov/t?auth=" + auth, "--eventdb=" + t.TempDir()}, &stdout, &stderr)
	msg := stderr.String()
	if code != 2 || strings.Count(msg, "\n") != 1 || !strings.Contains(msg, "line 2") || strings.Contains(msg, testClientSecret) {
		t.Errorf("exit %d, stderr %q", code, msg)
	}
}

// TestTopicsCommandErrors: comet topics refuses a bad command line with
// exit status 2, and a cluster it cannot reach with exit status 1, each
// with one line and no secret.
func TestTopicsCommandErrors(t *testing.T) {
	auth := writeCreds(t, "mechanism=plain\nusername=comet\npassword="+testPassword+"\n", 0o600)
	loose := writeCreds(t, "mechanism=plain\nusername=comet\npassword="+testPassword+"\n", 0o644)
	// A port that refuses connections: one listened on, then closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "usage: comet topics"},
		{[]string{"kafka://a", "kafka://b"}, 2, "usage: comet topics"},
		{[]string{"kafka://kafka.example.org?tls=off"}, 2, "loopback"},
		{[]string{"kafka://127.0.0.1/t?tls=off"}, 2, "comet topics lists them all"},
		{[]string{"kafka://127.0.0.1?from=start&tls=off"}, 2, "from= has no meaning"},
		{[]string{"--tls-cert=/x.pem", "kafka://127.0.0.1"}, 2, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-ca=/nonexistent/ca.pem", "kafka://127.0.0.1"}, 2, "/nonexistent/ca.pem"},
		{[]string{"kafka://127.0.0.1?auth=" + loose + "&tls=off"}, 2, "chmod 600"},
		{[]string{"kafka://" + closed + "?auth=" + auth + "&tls=off"}, 1, ""},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"topics"}, c.args...), &stdout, &stderr)
		msg := stderr.String()
		if code != c.code || strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "comet topics: ") || !strings.Contains(msg, c.want) || stdout.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and one line saying %q", c.args, code, stdout.String(), msg, c.code, c.want)
		}
		if strings.Contains(msg, testPassword) {
			t.Errorf("%q: the password is on standard error", c.args)
		}
	}
}
