package kafka

import (
	"bytes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"testing"
)

// TestScramSHA256RFC7677 replays the example exchange of RFC 7677
// section 3 byte for byte.
func TestScramSHA256RFC7677(t *testing.T) {
	s := newScram(sha256.New, "SCRAM-SHA-256", "user", "pencil", nil)
	s.clientNon = "rOprNGfwEbeRWgbNEkqO"
	first, err := s.start()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(first), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"; got != want {
		t.Fatalf("client-first %q, want %q", got, want)
	}
	final, err := s.next([]byte("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(final), "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="; got != want {
		t.Fatalf("client-final %q, want %q", got, want)
	}
	reply, err := s.next([]byte("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))
	if err != nil || reply != nil {
		t.Fatalf("server-final: %q %v", reply, err)
	}
	if _, err := s.next(nil); err == nil {
		t.Error("a fourth round was accepted")
	}
}

// scramServer is a small SCRAM server, as Kafka's, for the client to talk
// to. If impostor, it does not know the password and makes up its
// signature.
type scramServer struct {
	newHash  func() hash.Hash
	user     string
	pass     string
	salt     []byte
	iter     int
	impostor bool

	first, serverFirst string
	nonce              string
}

func (v *scramServer) mac(key []byte, msg string) []byte {
	m := hmac.New(v.newHash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

func (v *scramServer) serverFirstMsg(clientFirst []byte) (string, error) {
	cf, ok := strings.CutPrefix(string(clientFirst), "n,,")
	if !ok {
		return "", errors.New("gs2 header")
	}
	attrs, err := scramAttrs(cf)
	if err != nil || len(attrs) != 2 || attrs[0][0] != "n" || attrs[1][0] != "r" {
		return "", errors.New("client-first")
	}
	if attrs[0][1] != saslName(v.user) {
		return "", errors.New("unknown user")
	}
	v.first = cf
	v.nonce = attrs[1][1] + "SERVERnonce"
	v.serverFirst = "r=" + v.nonce + ",s=" + base64.StdEncoding.EncodeToString(v.salt) + ",i=" + itoa(v.iter)
	return v.serverFirst, nil
}

func itoa(n int) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
		if n == 0 {
			return string(b)
		}
	}
}

func (v *scramServer) serverFinalMsg(clientFinal []byte) (string, error) {
	without, proofB64, ok := strings.Cut(string(clientFinal), ",p=")
	if !ok || without != "c=biws,r="+v.nonce {
		return "", errors.New("client-final")
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil {
		return "", err
	}
	authMsg := v.first + "," + v.serverFirst + "," + without
	salted, _ := pbkdf2.Key(v.newHash, v.pass, v.salt, v.iter, v.newHash().Size())
	clientKey := v.mac(salted, "Client Key")
	h := v.newHash()
	h.Write(clientKey)
	sig := v.mac(h.Sum(nil), authMsg)
	for i := range sig {
		sig[i] ^= proof[i%len(proof)]
	}
	if !bytes.Equal(sig, clientKey) {
		return "e=invalid-proof", nil
	}
	serverSig := v.mac(v.mac(salted, "Server Key"), authMsg)
	if v.impostor {
		serverSig = v.mac([]byte("not the key"), authMsg)
	}
	return "v=" + base64.StdEncoding.EncodeToString(serverSig), nil
}

// runScram runs a whole exchange between a client and the test server.
func runScram(t *testing.T, c *scramSASL, v *scramServer) error {
	t.Helper()
	cf, err := c.start()
	if err != nil {
		return err
	}
	sf, err := v.serverFirstMsg(cf)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	fin, err := c.next([]byte(sf))
	if err != nil {
		return err
	}
	sfin, err := v.serverFinalMsg(fin)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	reply, err := c.next([]byte(sfin))
	if reply != nil {
		t.Errorf("reply after server-final: %q", reply)
	}
	return err
}

func TestScramSHA512(t *testing.T) {
	user := "al=ice,x"
	mk := func() *scramServer {
		return &scramServer{newHash: sha512.New, user: user, pass: testPassword, salt: []byte("0123456789abcdef"), iter: 4096}
	}
	rnd := bytes.NewReader(bytes.Repeat([]byte{7}, 1000))
	c := newScram(sha512.New, "SCRAM-SHA-512", user, testPassword, rnd)
	if err := runScram(t, c, mk()); err != nil {
		t.Fatalf("good exchange: %v", err)
	}
	if c.name() != "SCRAM-SHA-512" {
		t.Errorf("name %q", c.name())
	}

	c = newScram(sha512.New, "SCRAM-SHA-512", user, "wrong", rnd)
	err := runScram(t, c, mk())
	if err == nil || !strings.Contains(err.Error(), `server refused: "invalid-proof"`) {
		t.Fatalf("wrong password: %v", err)
	}

	v := mk()
	v.impostor = true
	c = newScram(sha512.New, "SCRAM-SHA-512", user, testPassword, rnd)
	err = runScram(t, c, v)
	if err == nil || !strings.Contains(err.Error(), "server signature does not match") {
		t.Fatalf("impostor server: %v", err)
	}
	noSecrets(t, "error", err.Error())

	// SHA-256 against the same server code.
	c = newScram(sha256.New, "SCRAM-SHA-256", user, testPassword, rnd)
	v = mk()
	v.newHash = sha256.New
	if err := runScram(t, c, v); err != nil {
		t.Fatalf("sha-256 exchange: %v", err)
	}
}

func TestScramNonceIsRandom(t *testing.T) {
	a, _ := newSASL(&Creds{Mechanism: MechScramSHA512, Username: "u", Password: "p"}, "")
	b, _ := newSASL(&Creds{Mechanism: MechScramSHA512, Username: "u", Password: "p"}, "")
	fa, err1 := a.start()
	fb, err2 := b.start()
	if err1 != nil || err2 != nil || bytes.Equal(fa, fb) || len(fa) < len("n,,n=u,r=")+32 {
		t.Fatalf("client-first messages %q %q (%v %v)", fa, fb, err1, err2)
	}
}

func TestScramHostileServer(t *testing.T) {
	const cn = "clientNONCE"
	salt := base64.StdEncoding.EncodeToString([]byte("salt"))
	good := "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
	first := []struct{ name, msg, want string }{
		{"empty", "", "malformed attribute"},
		{"missing salt", "r=" + cn + "x,i=4096", "lacks r=, s= and i="},
		{"missing iterations", "r=" + cn + "x,s=" + salt, "lacks r=, s= and i="},
		{"missing nonce", "s=" + salt + ",i=4096", "lacks r=, s= and i="},
		{"wrong order", "s=" + salt + ",r=" + cn + "x,i=4096", "lacks r=, s= and i="},
		{"mandatory extension", "m=ext,r=" + cn + "x,s=" + salt + ",i=4096", "mandatory extension"},
		{"server error", "e=other-error", `server refused: "other-error"`},
		{"wrong nonce", "r=otherNONCEx,s=" + salt + ",i=4096", "does not extend"},
		{"same nonce", "r=" + cn + ",s=" + salt + ",i=4096", "does not extend"},
		{"nonce with space", "r=" + cn + "a b,s=" + salt + ",i=4096", "non-printable"},
		{"huge iterations", "r=" + cn + "x,s=" + salt + ",i=2000000000", "outside 4096..1048576"},
		{"overflowing iterations", "r=" + cn + "x,s=" + salt + ",i=99999999999999999999", "not a number"},
		{"few iterations", "r=" + cn + "x,s=" + salt + ",i=1", "outside 4096..1048576"},
		{"negative iterations", "r=" + cn + "x,s=" + salt + ",i=-4096", "not a number"},
		{"bad base64 salt", "r=" + cn + "x,s=*!*,i=4096", "salt is not base64"},
		{"empty salt", "r=" + cn + "x,s=,i=4096", "salt is empty"},
		{"huge salt", "r=" + cn + "x,s=" + strings.Repeat("AAAA", 400) + ",i=4096", "salt over"},
		{"huge message", "r=" + cn + strings.Repeat("x", 5000) + ",s=" + salt + ",i=4096", "over 4096"},
		{"attribute without value", "r,s=" + salt + ",i=4096", "malformed attribute"},
	}
	for _, tc := range first {
		t.Run("first/"+tc.name, func(t *testing.T) {
			c := newScram(sha256.New, "SCRAM-SHA-256", "u", testPassword, nil)
			c.clientNon = cn
			if _, err := c.start(); err != nil {
				t.Fatal(err)
			}
			reply, err := c.next([]byte(tc.msg))
			if err == nil || reply != nil {
				t.Fatalf("accepted: %q", reply)
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "kafka: SCRAM-SHA-256: ") {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			noSecrets(t, "error", err.Error())
		})
	}
	final := []struct{ name, msg, want string }{
		{"empty", "", "malformed attribute"},
		{"no signature", "x=1", "lacks v="},
		{"bad base64", "v=*!*", "not base64"},
		{"bad signature", "v=" + base64.StdEncoding.EncodeToString(make([]byte, 32)), "does not match"},
		{"short signature", "v=" + good[2:10], "does not match"},
		{"server error", "e=invalid-proof", `server refused: "invalid-proof"`},
		{"huge", "v=" + strings.Repeat("A", 5000), "over 4096"},
	}
	for _, tc := range final {
		t.Run("final/"+tc.name, func(t *testing.T) {
			c := newScram(sha256.New, "SCRAM-SHA-256", "user", "pencil", nil)
			c.clientNon = "rOprNGfwEbeRWgbNEkqO"
			c.start()
			if _, err := c.next([]byte("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")); err != nil {
				t.Fatal(err)
			}
			reply, err := c.next([]byte(tc.msg))
			if err == nil || reply != nil {
				t.Fatalf("accepted: %q", reply)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func TestPlain(t *testing.T) {
	m, err := newSASL(&Creds{Mechanism: MechPlain, Username: "alice", Password: testPassword}, "")
	if err != nil {
		t.Fatal(err)
	}
	first, err := m.start()
	if err != nil || string(first) != "\x00alice\x00"+testPassword || m.name() != "PLAIN" {
		t.Fatalf("PLAIN %s %q %v", m.name(), first, err)
	}
	if reply, err := m.next(nil); reply != nil || err != nil {
		t.Fatalf("success answer: %q %v", reply, err)
	}
	if _, err := m.next(nil); err == nil {
		t.Error("second round accepted")
	}
	if _, err := newPlain("a\x00b", "p"); err == nil {
		t.Error("NUL in user name accepted")
	}
}

const testToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJUT0tFTi1zZWNyZXQifQ.c2lnbmF0dXJl"

func TestOAuthBearer(t *testing.T) {
	m, err := newSASL(&Creds{Mechanism: MechOAuthBearer}, testToken)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := m.start()
	if string(first) != "n,,\x01auth=Bearer "+testToken+"\x01\x01" || m.name() != "OAUTHBEARER" {
		t.Fatalf("initial response %q", first)
	}
	if reply, err := m.next(nil); reply != nil || err != nil {
		t.Fatalf("success answer: %q %v", reply, err)
	}
}

// TestOAuthBearerErrorChallenge is the expired-token case: Kafka answers
// error code 0 with a JSON status, and only after the client's \x01 does
// it fail. A client that took error code 0 as success would carry on.
func TestOAuthBearerErrorChallenge(t *testing.T) {
	for challenge, want := range map[string]string{
		`{"status":"invalid_token"}`: `status "invalid_token"`,
		`{"status":"invalid_token","scope":"x","openid-configuration":"https://a/b"}`: `status "invalid_token"`,
		`not json`: "(no status)",
		`{"status":"` + strings.Repeat("x", 500) + `"}`: `xxx..."`,
		`{"status":"a\u0000\n"}`:                        `status "a\x00\n"`,
	} {
		m, _ := newOAuthBearer(testToken)
		m.start()
		reply, err := m.next([]byte(challenge))
		if !bytes.Equal(reply, []byte{1}) {
			t.Errorf("%s: reply %q, want \\x01", challenge, reply)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want %q", challenge, err, want)
		} else {
			noSecrets(t, "error", err.Error())
			if len(err.Error()) > 200 {
				t.Errorf("error unbounded: %d bytes", len(err.Error()))
			}
		}
	}
}

func TestOAuthBearerRefusesBadToken(t *testing.T) {
	for _, tok := range []string{"", "TOKEN\x01auth=Bearer b", "TOKEN x", "=TOKEN", "TOKEN=c", "TOKENé"} {
		if _, err := newOAuthBearer(tok); err == nil {
			t.Errorf("token %q accepted", tok)
		} else if tok != "" && strings.Contains(err.Error(), tok) {
			t.Errorf("error shows the token: %v", err)
		}
	}
	for _, tok := range []string{"abc", "a-b.c_d~e+f/g==", testToken} {
		if _, err := newOAuthBearer(tok); err != nil {
			t.Errorf("token %q refused: %v", tok, err)
		}
	}
}

func FuzzScramServerFirst(f *testing.F) {
	f.Add("r=NONCEx,s=c2FsdA==,i=4096")
	f.Add("m=x,r=NONCEx,s=c2FsdA==,i=4096")
	f.Add("e=bad")
	f.Add("r=NONCEx,s=c2FsdA==,i=4096,x=ext")
	f.Add("r=NONCE,s=,i=00004096")
	f.Fuzz(func(t *testing.T, msg string) {
		c := newScram(sha256.New, "SCRAM-SHA-256", "u", "p", nil)
		c.clientNon = "NONCE"
		c.start()
		fs, err := c.parseServerFirst([]byte(msg))
		if err != nil {
			return
		}
		if fs.iter < scramMinIter || fs.iter > scramMaxIter || !strings.HasPrefix(fs.nonce, "NONCE") || len(fs.salt) == 0 {
			t.Fatalf("accepted %+v", fs)
		}
	})
}

func FuzzScramServerFinal(f *testing.F) {
	f.Add("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
	f.Add("e=invalid-proof")
	f.Add("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=,x=y")
	f.Add("v=")
	// The key derivation is done once; each input gets a copy of the
	// client as it stands after its client-final-message.
	c0 := newScram(sha256.New, "SCRAM-SHA-256", "user", "pencil", nil)
	c0.clientNon = "rOprNGfwEbeRWgbNEkqO"
	c0.start()
	if _, err := c0.next([]byte("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		c := *c0
		if err := c.checkServerFinal([]byte(msg)); err == nil {
			attrs, _ := scramAttrs(msg)
			sig, _ := base64.StdEncoding.DecodeString(attrs[0][1])
			if base64.StdEncoding.EncodeToString(sig) != "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" {
				t.Fatalf("accepted a wrong signature: %q", msg)
			}
		}
	})
}
