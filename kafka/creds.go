package kafka

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"unicode/utf8"
)

// The SASL mechanisms a credentials file may name, spelled as in the file.
const (
	MechOAuthBearer = "oauthbearer"
	MechScramSHA512 = "scram-sha-512"
	MechScramSHA256 = "scram-sha-256"
	MechPlain       = "plain"
)

// maxCredsSize bounds the credentials file: a real one is a few hundred
// bytes, and anything far larger is the wrong file, which is better named
// than read.
const maxCredsSize = 16 << 10

// Creds are the credentials of one Kafka source, read from its auth= file.
// Its String, GoString and Format methods never show the client secret or
// the password, so that a Creds printed by mistake in a log line or an
// error leaks nothing.
type Creds struct {
	Mechanism    string // one of the Mech constants
	ClientID     string // oauthbearer
	ClientSecret string // oauthbearer
	TokenURL     string // oauthbearer: the OAuth 2.0 token endpoint, https
	Scope        string // oauthbearer, optional
	Username     string // scram-sha-*, plain
	Password     string // scram-sha-*, plain
}

func redact(s string) string {
	if s == "" {
		return `""`
	}
	return "REDACTED"
}

// String shows what identifies the credential and hides its secret.
func (c Creds) String() string {
	switch c.Mechanism {
	case MechOAuthBearer:
		return fmt.Sprintf("{mechanism=%s client_id=%q client_secret=%s token_url=%q scope=%q}",
			c.Mechanism, c.ClientID, redact(c.ClientSecret), c.TokenURL, c.Scope)
	default:
		return fmt.Sprintf("{mechanism=%s username=%q password=%s}",
			c.Mechanism, c.Username, redact(c.Password))
	}
}

// GoString is what %#v prints; without it %#v would show every field.
func (c Creds) GoString() string { return "kafka.Creds" + c.String() }

// Format makes every verb (%v, %+v, %#v, %s, %q, %x, ...) go through
// String, so that no verb prints the secret fields.
func (c Creds) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		io.WriteString(f, c.GoString())
		return
	}
	io.WriteString(f, c.String())
}

// LoadCreds reads the credentials file at path for a Kafka cluster at host
// (the host of the kafka:// URL, without port). It refuses, with one line
// saying why, a file that group or others may read, one over 16 KiB,
// an unknown, repeated or empty key, and a file lacking what its
// mechanism needs. For a host under gcn.nasa.gov the mechanism defaults
// to oauthbearer and the token URL to https://auth.DOMAIN/oauth2/token
// where DOMAIN follows "kafka." in host, as GCN's own client does.
func LoadCreds(path, host string) (*Creds, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("kafka: credentials file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("kafka: credentials file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("kafka: credentials file %s: not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("kafka: credentials file %s: mode %04o lets group or others read it; run chmod 600 %s", path, perm, path)
	}
	if fi.Size() > maxCredsSize {
		return nil, fmt.Errorf("kafka: credentials file %s: %d bytes, over the %d a credentials file may have", path, fi.Size(), maxCredsSize)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxCredsSize+1))
	if err != nil {
		return nil, fmt.Errorf("kafka: credentials file %s: %w", path, err)
	}
	c, err := parseCreds(data, host)
	if err != nil {
		return nil, fmt.Errorf("kafka: credentials file %s: %w", path, err)
	}
	return c, nil
}

// credsKeys maps each key of the file to the field it sets.
var credsKeys = map[string]func(*Creds) *string{
	"mechanism":     func(c *Creds) *string { return &c.Mechanism },
	"client_id":     func(c *Creds) *string { return &c.ClientID },
	"client_secret": func(c *Creds) *string { return &c.ClientSecret },
	"token_url":     func(c *Creds) *string { return &c.TokenURL },
	"scope":         func(c *Creds) *string { return &c.Scope },
	"username":      func(c *Creds) *string { return &c.Username },
	"password":      func(c *Creds) *string { return &c.Password },
}

// parseCreds parses the file's text. Error messages name line numbers and
// keys, never values, which may be secrets.
func parseCreds(data []byte, host string) (*Creds, error) {
	if len(data) > maxCredsSize {
		return nil, fmt.Errorf("over the %d bytes a credentials file may have", maxCredsSize)
	}
	if !utf8.Valid(data) {
		return nil, errors.New("not UTF-8 text")
	}
	c := &Creds{}
	set := map[string]int{}
	for n, line := range bytes.Split(data, []byte("\n")) {
		lineNo := n + 1
		s := strings.TrimSpace(string(line))
		if s == "" || s[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("line %d: not key=value", lineNo)
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		field, known := credsKeys[k]
		if !known {
			// The key is not shown: a line with a misplaced "=" may
			// begin with a secret.
			return nil, fmt.Errorf("line %d: unknown key (known: mechanism, client_id, client_secret, token_url, scope, username, password)", lineNo)
		}
		if prev, dup := set[k]; dup {
			return nil, fmt.Errorf("line %d: key %q repeated (first on line %d)", lineNo, k, prev)
		}
		set[k] = lineNo
		if v == "" {
			return nil, fmt.Errorf("line %d: key %q has an empty value", lineNo, k)
		}
		for _, r := range v {
			if r < 0x20 || r == 0x7f {
				return nil, fmt.Errorf("line %d: value of %q has a control character", lineNo, k)
			}
		}
		*field(c) = v
	}

	gcnDomain, underGCN := gcnTokenDomain(host)
	if c.Mechanism == "" {
		if !underGCN {
			return nil, errors.New("no mechanism (oauthbearer, scram-sha-512, scram-sha-256 or plain)")
		}
		c.Mechanism = MechOAuthBearer
	}
	var need, forbid []string
	switch c.Mechanism {
	case MechOAuthBearer:
		if c.TokenURL == "" && gcnDomain != "" {
			c.TokenURL = "https://auth." + gcnDomain + "/oauth2/token"
		}
		need = []string{"client_id", "client_secret", "token_url"}
		forbid = []string{"username", "password"}
	case MechScramSHA512, MechScramSHA256, MechPlain:
		need = []string{"username", "password"}
		forbid = []string{"client_id", "client_secret", "token_url", "scope"}
	default:
		return nil, fmt.Errorf("mechanism %q unknown (oauthbearer, scram-sha-512, scram-sha-256 or plain)", c.Mechanism)
	}
	for _, k := range need {
		if *credsKeys[k](c) == "" {
			return nil, fmt.Errorf("mechanism %s needs key %s", c.Mechanism, k)
		}
	}
	for _, k := range forbid {
		if line, ok := set[k]; ok {
			return nil, fmt.Errorf("line %d: key %s is not used by mechanism %s", line, k, c.Mechanism)
		}
	}
	if c.Mechanism == MechOAuthBearer {
		if err := checkTokenURL(c.TokenURL); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// checkTokenURL accepts only an https URL with a host and no user info:
// the client secret must not travel in clear, nor sit in a URL that error
// messages show.
func checkTokenURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("token_url is not a URL")
	}
	if u.Scheme != "https" {
		return errors.New("token_url must be an https URL")
	}
	if u.Host == "" {
		return errors.New("token_url has no host")
	}
	if u.User != nil {
		return errors.New("token_url must not carry a user or password; use client_id and client_secret")
	}
	return nil
}

// gcnTokenDomain reports whether host is gcn.nasa.gov or under it, and
// for a host "kafka.DOMAIN" returns DOMAIN, from which GCN's token URL is
// made.
func gcnTokenDomain(host string) (domain string, underGCN bool) {
	h := strings.TrimSuffix(strings.ToLower(host), ".")
	if h != "gcn.nasa.gov" && !strings.HasSuffix(h, ".gcn.nasa.gov") {
		return "", false
	}
	if d, ok := strings.CutPrefix(h, "kafka."); ok {
		return d, true
	}
	return "", true
}
