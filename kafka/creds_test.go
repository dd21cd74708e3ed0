package kafka

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testSecret   = "s3cr3t-Cl13nt-Secr3t"
	testPassword = "p4ssw0rd-Secr3t"
)

func writeCreds(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "creds")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
	return p
}

func noSecrets(t *testing.T, what, s string) {
	t.Helper()
	for _, secret := range []string{testSecret, testPassword, testToken} {
		if strings.Contains(s, secret) {
			t.Errorf("%s shows a secret: %s", what, s)
		}
	}
	if strings.Contains(s, "\n") {
		t.Errorf("%s is not one line: %q", what, s)
	}
}

func TestLoadCredsRefusesReadableByOthers(t *testing.T) {
	text := "mechanism=plain\nusername=alice\npassword=" + testPassword + "\n"
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o601} {
		p := writeCreds(t, text, mode)
		_, err := LoadCreds(p, "localhost")
		if err == nil {
			t.Fatalf("mode %04o: accepted", mode)
		}
		if !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("mode %04o: error does not say how to fix it: %v", mode, err)
		}
		noSecrets(t, "error", err.Error())
	}
	for _, mode := range []os.FileMode{0o600, 0o400} {
		p := writeCreds(t, text, mode)
		c, err := LoadCreds(p, "localhost")
		if err != nil {
			t.Fatalf("mode %04o: %v", mode, err)
		}
		if c.Mechanism != MechPlain || c.Username != "alice" || c.Password != testPassword {
			t.Errorf("mode %04o: parsed %#v wrongly", mode, c)
		}
	}
}

func TestLoadCredsRefusesLargeFile(t *testing.T) {
	text := "mechanism=plain\nusername=alice\npassword=" + testPassword + "\n" + strings.Repeat("# padding\n", maxCredsSize/10+1)
	_, err := LoadCreds(writeCreds(t, text, 0o600), "localhost")
	if err == nil || !strings.Contains(err.Error(), "bytes") {
		t.Fatalf("large file: %v", err)
	}
	noSecrets(t, "error", err.Error())
	_, err = LoadCreds(filepath.Join(t.TempDir(), "absent"), "localhost")
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
	_, err = LoadCreds(t.TempDir(), "localhost")
	if err == nil {
		t.Errorf("a directory was accepted")
	}
}

func TestParseCreds(t *testing.T) {
	c, err := parseCreds([]byte("# GCN\r\n  mechanism = oauthbearer \r\nclient_id=abc\nclient_secret="+testSecret+"==\n\ntoken_url=https://auth.example.org/oauth2/token\nscope=gcn.nasa.gov/kafka-public-consumer\n"), "kafka.example.org")
	if err != nil {
		t.Fatal(err)
	}
	want := Creds{Mechanism: MechOAuthBearer, ClientID: "abc", ClientSecret: testSecret + "==",
		TokenURL: "https://auth.example.org/oauth2/token", Scope: "gcn.nasa.gov/kafka-public-consumer"}
	if *c != want {
		t.Errorf("parsed %+v", *c)
	}
	for _, m := range []string{MechScramSHA256, MechScramSHA512, MechPlain} {
		c, err := parseCreds([]byte("mechanism="+m+"\nusername=bob\npassword=x=y,z\n"), "h")
		if err != nil || c.Mechanism != m || c.Username != "bob" || c.Password != "x=y,z" {
			t.Errorf("%s: %v", m, err)
		}
	}
}

func TestParseCredsRefusals(t *testing.T) {
	secretLine := "client_secret=" + testSecret + "\n"
	ok := "mechanism=oauthbearer\nclient_id=abc\n" + secretLine + "token_url=https://auth.example.org/t\n"
	cases := []struct {
		name, text, host, want string
	}{
		{"unknown key", ok + "colour=blue\n", "h", "line 5: unknown key (known: "},
		{"secret as key", ok + testSecret + "=x\n", "h", "unknown key"},
		{"repeated key", ok + "client_id=def\n", "h", `key "client_id" repeated (first on line 2)`},
		{"not key=value", ok + testSecret + "\n", "h", "line 5: not key=value"},
		{"empty value", ok + "scope=\n", "h", `key "scope" has an empty value`},
		{"control character", "mechanism=plain\nusername=a\npassword=" + testPassword + "\x01\n", "h", "control character"},
		{"no mechanism", "username=a\npassword=" + testPassword + "\n", "kafka.example.org", "no mechanism"},
		{"unknown mechanism", "mechanism=gssapi\n", "h", `mechanism "gssapi" unknown`},
		{"missing secret", "mechanism=oauthbearer\nclient_id=abc\ntoken_url=https://a/t\n", "h", "needs key client_secret"},
		{"missing token_url", "mechanism=oauthbearer\nclient_id=abc\n" + secretLine, "kafka.example.org", "needs key token_url"},
		{"missing password", "mechanism=scram-sha-512\nusername=a\n", "h", "needs key password"},
		{"missing username", "mechanism=plain\npassword=" + testPassword + "\n", "h", "needs key username"},
		{"password with oauthbearer", ok + "password=" + testPassword + "\n", "h", "line 5: key password is not used by mechanism oauthbearer"},
		{"secret with scram", "mechanism=scram-sha-256\nusername=a\npassword=b\n" + secretLine, "h", "key client_secret is not used"},
		{"http token_url", "mechanism=oauthbearer\nclient_id=abc\n" + secretLine + "token_url=http://auth.example.org/t\n", "h", "must be an https URL"},
		{"token_url with user", "mechanism=oauthbearer\nclient_id=abc\n" + secretLine + "token_url=https://abc:" + testSecret + "@auth.example.org/t\n", "h", "must not carry a user"},
		{"token_url without host", "mechanism=oauthbearer\nclient_id=abc\n" + secretLine + "token_url=https:///t\n", "h", "no host"},
		{"not UTF-8", "mechanism=plain\nusername=\xff\npassword=b\n", "h", "not UTF-8"},
		{"too large", strings.Repeat("#", maxCredsSize+1), "h", "over the"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseCreds([]byte(tc.text), tc.host)
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			noSecrets(t, "error", err.Error())
		})
	}
}

func TestParseCredsGCNDefaults(t *testing.T) {
	text := "client_id=abc\nclient_secret=" + testSecret + "\n"
	for host, url := range map[string]string{
		"kafka.gcn.nasa.gov":      "https://auth.gcn.nasa.gov/oauth2/token",
		"KAFKA.GCN.NASA.GOV.":     "https://auth.gcn.nasa.gov/oauth2/token",
		"kafka.test.gcn.nasa.gov": "https://auth.test.gcn.nasa.gov/oauth2/token",
	} {
		c, err := parseCreds([]byte(text), host)
		if err != nil {
			t.Fatalf("%s: %v", host, err)
		}
		if c.Mechanism != MechOAuthBearer || c.TokenURL != url {
			t.Errorf("%s: mechanism %q token_url %q, want oauthbearer %q", host, c.Mechanism, c.TokenURL, url)
		}
	}
	// An explicit token_url wins over the default.
	c, err := parseCreds([]byte(text+"token_url=https://other.example/t\n"), "kafka.gcn.nasa.gov")
	if err != nil || c.TokenURL != "https://other.example/t" {
		t.Errorf("explicit token_url: %v %v", c, err)
	}
	// A broker host under gcn.nasa.gov not named kafka.DOMAIN gets the
	// mechanism but no guessed token URL.
	if _, err := parseCreds([]byte(text), "kafka1.gcn.nasa.gov"); err == nil || !strings.Contains(err.Error(), "needs key token_url") {
		t.Errorf("kafka1.gcn.nasa.gov: %v", err)
	}
	// A look-alike domain gets no defaults.
	for _, host := range []string{"kafka.gcn.nasa.gov.evil.example", "kafka.notgcn.nasa.gov", "kafka.example.org"} {
		if _, err := parseCreds([]byte(text), host); err == nil || !strings.Contains(err.Error(), "no mechanism") {
			t.Errorf("%s: %v", host, err)
		}
	}
	// SCRAM at GCN must still say so.
	c, err = parseCreds([]byte("mechanism=scram-sha-512\nusername=a\npassword=b\n"), "kafka.gcn.nasa.gov")
	if err != nil || c.Mechanism != MechScramSHA512 || c.TokenURL != "" {
		t.Errorf("scram at gcn: %v %v", c, err)
	}
}

func TestCredsPrintsNoSecret(t *testing.T) {
	for _, c := range []Creds{
		{Mechanism: MechOAuthBearer, ClientID: "abc", ClientSecret: testSecret, TokenURL: "https://a/t"},
		{Mechanism: MechScramSHA512, Username: "alice", Password: testPassword},
		{Mechanism: "", Username: "alice", Password: testPassword, ClientSecret: testSecret},
	} {
		nested := struct {
			Name  string
			Creds Creds
			Ptr   *Creds
		}{"x", c, &c}
		var outs []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v"} {
			outs = append(outs, fmt.Sprintf(verb, c), fmt.Sprintf(verb, &c), fmt.Sprintf(verb, nested))
		}
		outs = append(outs, fmt.Errorf("bad creds %v", c).Error(), fmt.Sprint(c), fmt.Sprintln(&c)[:len(fmt.Sprintln(&c))-1], c.String(), c.GoString())
		for _, s := range outs {
			noSecrets(t, "printed creds", s)
		}
		if !strings.Contains(fmt.Sprintf("%v", c), "REDACTED") {
			t.Errorf("%%v does not say the secret is hidden: %v", c)
		}
	}
}

func FuzzCredsFile(f *testing.F) {
	f.Add([]byte("mechanism=oauthbearer\nclient_id=a\nclient_secret=b\ntoken_url=https://h/t\n"), "h")
	f.Add([]byte("client_id=a\nclient_secret=b\n"), "kafka.gcn.nasa.gov")
	f.Add([]byte("mechanism=scram-sha-512\n# c\nusername=a\npassword=b\n"), "h")
	f.Add([]byte("mechanism=plain\nusername=a\nusername=b\n"), "h")
	f.Add([]byte("=\n==\n\x00\n"), "gcn.nasa.gov")
	f.Fuzz(func(t *testing.T, data []byte, host string) {
		c, err := parseCreds(data, host)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error not one line: %q", err)
			}
			return
		}
		switch c.Mechanism {
		case MechOAuthBearer:
			if c.ClientID == "" || c.ClientSecret == "" || checkTokenURL(c.TokenURL) != nil {
				t.Fatalf("accepted incomplete oauthbearer creds")
			}
		case MechPlain, MechScramSHA256, MechScramSHA512:
			if c.Username == "" || c.Password == "" {
				t.Fatalf("accepted incomplete creds")
			}
		default:
			t.Fatalf("accepted mechanism %q", c.Mechanism)
		}
		// What is printed must not depend on the secrets' values.
		other := *c
		other.ClientSecret = strings.Repeat("x", len(c.ClientSecret))
		other.Password = strings.Repeat("x", len(c.Password))
		show := func(c Creds) string { return fmt.Sprintf("%v %+v %#v %s %d", c, c, c, c, c) }
		if show(*c) != show(other) {
			t.Fatalf("printing shows a secret: %s", show(*c))
		}
	})
}
