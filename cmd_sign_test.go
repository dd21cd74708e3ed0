package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// keygen runs "comet keygen" in dir and returns the key file and the
// trust-file line it printed.
func keygen(t *testing.T, dir, name string, args ...string) (string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	if code := cmdKeygen(append(args, filepath.Join(dir, name)), &out, &errb); code != 0 {
		t.Fatalf("keygen: exit %d: %s", code, errb.String())
	}
	return filepath.Join(dir, name+".key"), strings.TrimSpace(out.String())
}

func runTool(f func([]string, *bytes.Buffer, *bytes.Buffer) int, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := f(args, &out, &errb)
	return code, out.String(), errb.String()
}

func signTool(args []string, out, errb *bytes.Buffer) int {
	return cmdSign(args, strings.NewReader(""), out, errb)
}
func verifyTool(args []string, out, errb *bytes.Buffer) int {
	return cmdVerify(args, strings.NewReader(""), out, errb)
}

func TestKeygenSignVerify(t *testing.T) {
	dir := t.TempDir()
	keyFile, line := keygen(t, dir, "gcn", "--prefix=ivo://example.org")
	fi, err := os.Stat(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode().Perm())
	}
	if pemBytes, _ := os.ReadFile(keyFile); !bytes.HasPrefix(pemBytes, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("key file is not a PEM PRIVATE KEY:\n%s", pemBytes)
	}
	if !strings.HasPrefix(line, "ivo://example.org ed25519:") {
		t.Fatalf("trust line %q", line)
	}
	// A second keygen never overwrites the key.
	before, _ := os.ReadFile(keyFile)
	if code, _, errs := runTool(runKeygenBuf, filepath.Join(dir, "gcn")); code != 1 || !strings.Contains(errs, "already exists") {
		t.Errorf("keygen over an existing key: exit %d, %q", code, errs)
	}
	if after, _ := os.ReadFile(keyFile); !bytes.Equal(before, after) {
		t.Error("keygen changed an existing key file")
	}

	trustFile := filepath.Join(dir, "trusted")
	os.WriteFile(trustFile, []byte("# ours\n"+line+"\n"), 0o644)
	eventFile := filepath.Join(dir, "event.xml")
	os.WriteFile(eventFile, procEvent("ivo://example.org/proc#sign-1"), 0o644)

	code, signed, errs := runTool(signTool, "-k", keyFile, eventFile)
	if code != 0 || !bytes.HasPrefix([]byte(signed), procEvent("ivo://example.org/proc#sign-1")) || !strings.Contains(signed, "<!-- voevent-signature v=1 alg=ed25519 key=") {
		t.Fatalf("sign: exit %d, %s\n%s", code, errs, signed)
	}
	signedFile := filepath.Join(dir, "signed.xml")
	os.WriteFile(signedFile, []byte(signed), 0o644)
	tampered := filepath.Join(dir, "tampered.xml")
	os.WriteFile(tampered, []byte(strings.Replace(signed, `value="1"`, `value="2"`, 1)), 0o644)

	code, out, _ := runTool(verifyTool, "--trusted-keys", trustFile, signedFile)
	if code != 0 || !strings.HasPrefix(out, signedFile+": valid: signed by key ") {
		t.Errorf("verify signed: exit %d, %q", code, out)
	}
	code, out, _ = runTool(verifyTool, "--trusted-keys", trustFile, signedFile, tampered, eventFile)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != 1 || len(lines) != 3 || !strings.HasPrefix(lines[1], tampered+": invalid: ") || !strings.HasPrefix(lines[2], eventFile+": missing: ") {
		t.Errorf("verify three files: exit %d\n%s", code, out)
	}
	// Standard input, as in a subscriber's --cmd.
	var stdout, stderr bytes.Buffer
	if code := cmdVerify([]string{"--trusted-keys", trustFile, "-"}, strings.NewReader(signed), &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "-: valid") {
		t.Errorf("verify -: exit %d, %q %q", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if code := cmdSign([]string{"-k", keyFile}, strings.NewReader(string(procEvent("ivo://example.org/proc#s"))), &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "voevent-signature") {
		t.Errorf("sign from standard input: exit %d, %q", code, stderr.String())
	}
}

func runKeygenBuf(args []string, out, errb *bytes.Buffer) int { return cmdKeygen(args, out, errb) }

func TestSignVerifyUsage(t *testing.T) {
	dir := t.TempDir()
	keyFile, line := keygen(t, dir, "k")
	if !strings.HasPrefix(line, "IVORN-PREFIX ed25519:") {
		t.Errorf("keygen without --prefix printed %q", line)
	}
	trustFile := filepath.Join(dir, "trusted")
	os.WriteFile(trustFile, []byte(strings.Replace(line, "IVORN-PREFIX", "ivo://example.org", 1)+"\n"), 0o644)
	badTrust := filepath.Join(dir, "bad-trust")
	os.WriteFile(badTrust, []byte("ivo://example.org ed25519:nope\n"), 0o644)
	notKey := filepath.Join(dir, "not-a-key")
	os.WriteFile(notKey, []byte("hello\n"), 0o644)
	notXML := filepath.Join(dir, "not.xml")
	os.WriteFile(notXML, []byte("<a>"), 0o644)
	for _, tc := range []struct {
		name string
		f    func([]string, *bytes.Buffer, *bytes.Buffer) int
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"keygen no name", runKeygenBuf, nil, 2, "want one NAME"},
		{"keygen bad prefix", runKeygenBuf, []string{"--prefix=http://x", filepath.Join(dir, "x")}, 2, `prefix "http://x"`},
		{"sign no key", signTool, []string{notXML}, 2, "-k KEYFILE is required"},
		{"sign not a key", signTool, []string{"-k", notKey, notXML}, 2, notKey + ": no PEM block"},
		{"sign missing key", signTool, []string{"-k", filepath.Join(dir, "absent.key"), notXML}, 2, "absent.key"},
		{"sign not XML", signTool, []string{"-k", keyFile, notXML}, 1, notXML + ": not well-formed XML"},
		{"sign two files", signTool, []string{"-k", keyFile, notXML, notXML}, 2, "one FILE at most"},
		{"verify no trust", verifyTool, []string{notXML}, 2, "--trusted-keys FILE is required"},
		{"verify no files", verifyTool, []string{"--trusted-keys", trustFile}, 2, "no event files"},
		{"verify bad trust", verifyTool, []string{"--trusted-keys", badTrust, notXML}, 2, badTrust + ":1: key"},
		{"verify not XML", verifyTool, []string{"--trusted-keys", trustFile, notXML}, 1, notXML + ": not well-formed XML"},
		{"verify absent", verifyTool, []string{"--trusted-keys", trustFile, filepath.Join(dir, "absent.xml")}, 1, "absent.xml: error: "},
	} {
		code, out, errs := runTool(tc.f, tc.args...)
		if code != tc.code || !strings.Contains(out+errs, tc.want) || strings.Count(errs, "\n") > 1 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit %d and %q", tc.name, code, out, errs, tc.code, tc.want)
		}
	}
}

// writeOpenSSLKey writes a key in the form "openssl genpkey -algorithm
// ed25519" writes: PEM "PRIVATE KEY" holding PKCS #8.
func writeOpenSSLKey(t *testing.T, path string) ed25519.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestOpenSSLKeyForm(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "openssl.key")
	pub := writeOpenSSLKey(t, keyFile)
	checkKeyFile(t, dir, keyFile, pub)
}

// With openssl installed, a key it generates signs as it is.
func TestRealOpenSSLKey(t *testing.T) {
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "real.key")
	if out, err := exec.Command(openssl, "genpkey", "-algorithm", "ed25519", "-out", keyFile).CombinedOutput(); err != nil {
		t.Skipf("this openssl cannot make Ed25519 keys: %v %s", err, out)
	}
	der, err := exec.Command(openssl, "pkey", "-in", keyFile, "-pubout", "-outform", "DER").Output()
	if err != nil || len(der) < 32 {
		t.Fatalf("openssl pkey: %v", err)
	}
	checkKeyFile(t, dir, keyFile, ed25519.PublicKey(der[len(der)-32:]))
}

// checkKeyFile signs with keyFile and verifies under pub.
func checkKeyFile(t *testing.T, dir, keyFile string, pub ed25519.PublicKey) {
	t.Helper()
	eventFile := filepath.Join(dir, "e.xml")
	os.WriteFile(eventFile, procEvent("ivo://example.org/proc#ossl"), 0o644)
	code, signed, errs := runTool(signTool, "-k", keyFile, eventFile)
	if code != 0 {
		t.Fatalf("sign with %s: exit %d: %s", keyFile, code, errs)
	}
	signedFile := filepath.Join(dir, "signed.xml")
	os.WriteFile(signedFile, []byte(signed), 0o644)
	trustFile := filepath.Join(dir, "trusted")
	os.WriteFile(trustFile, []byte("ivo://example.org/proc ed25519:"+b64(pub)+"\n"), 0o644)
	if code, out, _ := runTool(verifyTool, "--trusted-keys", trustFile, signedFile); code != 0 {
		t.Fatalf("verify: exit %d: %s", code, out)
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// "comet validate" takes a signed event as it takes the unsigned one:
// the comment after the root element is legal XML.
func TestValidateAcceptsSigned(t *testing.T) {
	dir := t.TempDir()
	keyFile, _ := keygen(t, dir, "v")
	files, _ := filepath.Glob("testdata/voevent/valid/*.xml")
	if len(files) == 0 {
		t.Fatal("no valid test events")
	}
	for _, f := range files {
		code, signed, errs := runTool(signTool, "-k", keyFile, f)
		if raw, _ := os.ReadFile(f); bytes.Contains(raw[:min(len(raw), 100)], []byte(`encoding="ISO-8859-1"`)) {
			// No signature holds on an event read as Latin-1: sign refuses it.
			if code == 0 || !strings.Contains(errs, "declares encoding ISO-8859-1") {
				t.Errorf("sign %s: exit %d, %q; want a refusal naming the encoding", f, code, errs)
			}
			continue
		}
		if code != 0 {
			t.Fatalf("sign %s: %s", f, errs)
		}
		out := filepath.Join(dir, filepath.Base(f))
		os.WriteFile(out, []byte(signed), 0o644)
		var stdout, stderr bytes.Buffer
		if code := cmdValidate([]string{out}, &stdout, &stderr); code != 0 {
			t.Errorf("validate signed %s: exit %d: %s%s", f, code, stdout.String(), stderr.String())
		}
	}
}
