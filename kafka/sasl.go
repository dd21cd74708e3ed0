package kafka

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
)

// saslMechanism is one client side of a SASL exchange, kept apart from the
// socket so that it can be tested with bytes alone. The consumer sends
// SaslHandshake with name(), then SaslAuthenticate with start(), and for
// every SaslAuthenticate answer whose error code is 0 calls next with the
// answer's auth bytes:
//
//   - reply != nil, err == nil: send reply in another SaslAuthenticate;
//   - reply == nil, err == nil: authenticated;
//   - reply != nil, err != nil: send reply (the mechanism requires it to
//     close the exchange), then fail with err whatever the broker says;
//   - reply == nil, err != nil: fail with err.
//
// An answer with a non-zero error code fails the exchange without next.
type saslMechanism interface {
	name() string
	start() ([]byte, error)
	next(challenge []byte) (reply []byte, err error)
}

// Format keeps every verb from printing a mechanism's password or token.
func (p *plainSASL) Format(f fmt.State, _ rune)       { io.WriteString(f, p.name()) }
func (o *oauthBearerSASL) Format(f fmt.State, _ rune) { io.WriteString(f, o.name()) }
func (s *scramSASL) Format(f fmt.State, _ rune)       { io.WriteString(f, s.name()) }

// newSASL makes the mechanism the credentials name. token is the bearer
// token for oauthbearer and is ignored otherwise.
func newSASL(c *Creds, token string) (saslMechanism, error) {
	switch c.Mechanism {
	case MechPlain:
		return newPlain(c.Username, c.Password)
	case MechScramSHA256:
		return newScram(sha256.New, "SCRAM-SHA-256", c.Username, c.Password, rand.Reader), nil
	case MechScramSHA512:
		return newScram(sha512.New, "SCRAM-SHA-512", c.Username, c.Password, rand.Reader), nil
	case MechOAuthBearer:
		return newOAuthBearer(token)
	}
	return nil, fmt.Errorf("kafka: SASL mechanism %q unknown", c.Mechanism)
}

// plainSASL is SASL PLAIN (RFC 4616): the user name and password in one
// message, which only a TLS connection keeps secret.
type plainSASL struct {
	user, pass string
	done       bool
}

func newPlain(user, pass string) (*plainSASL, error) {
	if strings.ContainsRune(user, 0) || strings.ContainsRune(pass, 0) {
		return nil, errors.New("kafka: SASL PLAIN: user name or password contains a NUL byte")
	}
	return &plainSASL{user: user, pass: pass}, nil
}

func (p *plainSASL) name() string { return "PLAIN" }

func (p *plainSASL) start() ([]byte, error) {
	return []byte("\x00" + p.user + "\x00" + p.pass), nil
}

// next accepts the broker's answer: PLAIN has a single round, and Kafka's
// success answer carries no bytes that mean anything.
func (p *plainSASL) next([]byte) ([]byte, error) {
	if p.done {
		return nil, errors.New("kafka: SASL PLAIN: the broker asked for a second round")
	}
	p.done = true
	return nil, nil
}

// oauthBearerSASL is SASL OAUTHBEARER (RFC 7628) with a token fetched
// beforehand.
type oauthBearerSASL struct {
	token string
	done  bool
}

func newOAuthBearer(token string) (*oauthBearerSASL, error) {
	if err := checkBearerToken(token); err != nil {
		return nil, err
	}
	return &oauthBearerSASL{token: token}, nil
}

// checkBearerToken holds a token to RFC 6750's b64token characters, so
// that it cannot break the \x01-separated OAUTHBEARER message. It never
// shows the token.
func checkBearerToken(t string) error {
	if t == "" {
		return errors.New("kafka: bearer token is empty")
	}
	i := 0
	for ; i < len(t); i++ {
		b := t[i]
		if ('A' <= b && b <= 'Z') || ('a' <= b && b <= 'z') || ('0' <= b && b <= '9') ||
			b == '-' || b == '.' || b == '_' || b == '~' || b == '+' || b == '/' {
			continue
		}
		break
	}
	if i == 0 {
		return errors.New("kafka: bearer token starts with a character a bearer token may not have")
	}
	for ; i < len(t); i++ {
		if t[i] != '=' {
			return fmt.Errorf("kafka: bearer token has a character a bearer token may not have at byte %d", i)
		}
	}
	return nil
}

func (o *oauthBearerSASL) name() string { return "OAUTHBEARER" }

func (o *oauthBearerSASL) start() ([]byte, error) {
	return []byte("n,,\x01auth=Bearer " + o.token + "\x01\x01"), nil
}

// maxSASLStatus bounds what of a broker's error status is shown.
const maxSASLStatus = 64

// next handles the broker's answer. An empty answer is success. Anything
// else is RFC 7628's error challenge (Kafka sends it with error code 0,
// e.g. {"status":"invalid_token"} for an expired token): the client must
// answer \x01, and the exchange has failed even though the error code
// said nothing.
func (o *oauthBearerSASL) next(challenge []byte) ([]byte, error) {
	if o.done {
		return nil, errors.New("kafka: SASL OAUTHBEARER: the broker asked for a second round")
	}
	o.done = true
	if len(challenge) == 0 {
		return nil, nil
	}
	var e struct {
		Status string `json:"status"`
	}
	status := "(no status)"
	if json.Unmarshal(challenge, &e) == nil && e.Status != "" {
		status = printable(e.Status, maxSASLStatus)
	}
	return []byte{0x01}, fmt.Errorf("kafka: SASL OAUTHBEARER: token refused: status %s", status)
}

// printable quotes s for a log line, cut at max bytes.
func printable(s string, max int) string {
	if len(s) > max {
		s = s[:max] + "..."
	}
	return strconv.QuoteToASCII(s)
}

// Bounds on what a SCRAM server may ask. The iteration count sets the
// client's CPU cost: below 4096 the password is weakly protected (RFC 7677
// asks for at least 4096, as Kafka does), above 1<<20 a hostile server
// could make each login take seconds.
const (
	scramMinIter    = 4096
	scramMaxIter    = 1 << 20
	scramMaxMessage = 4096
	scramMaxSalt    = 1024
	scramNonceBytes = 24
)

// scramSASL is the client of SCRAM-SHA-256 or SCRAM-SHA-512 (RFC 5802,
// RFC 7677) without channel binding, which Kafka does not offer. It proves
// the password without sending it and checks that the server knows it too.
type scramSASL struct {
	newHash   func() hash.Hash
	mech      string
	user      string
	pass      string
	rand      io.Reader
	step      int
	clientNon string
	first     string // client-first-message-bare
	serverSig []byte
}

func newScram(h func() hash.Hash, mech, user, pass string, r io.Reader) *scramSASL {
	return &scramSASL{newHash: h, mech: mech, user: user, pass: pass, rand: r}
}

func (s *scramSASL) name() string { return s.mech }

// saslName escapes a user name as RFC 5802 requires: "=" and "," would
// otherwise end the attribute.
func saslName(u string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(u)
}

func (s *scramSASL) start() ([]byte, error) {
	if s.step != 0 {
		return nil, fmt.Errorf("kafka: %s: exchange already started", s.mech)
	}
	if s.clientNon == "" {
		b := make([]byte, scramNonceBytes)
		if _, err := io.ReadFull(s.rand, b); err != nil {
			return nil, fmt.Errorf("kafka: %s: nonce: %w", s.mech, err)
		}
		s.clientNon = base64.RawStdEncoding.EncodeToString(b)
	}
	s.first = "n=" + saslName(s.user) + ",r=" + s.clientNon
	s.step = 1
	return []byte("n,," + s.first), nil
}

func (s *scramSASL) next(challenge []byte) ([]byte, error) {
	switch s.step {
	case 1:
		s.step = 2
		return s.clientFinal(challenge)
	case 2:
		s.step = 3
		if err := s.checkServerFinal(challenge); err != nil {
			return nil, err
		}
		return nil, nil
	}
	return nil, fmt.Errorf("kafka: %s: unexpected round", s.mech)
}

func (s *scramSASL) errf(format string, a ...any) error {
	return fmt.Errorf("kafka: %s: "+format, append([]any{s.mech}, a...)...)
}

// scramAttrs splits a SCRAM message into its attributes, each one letter,
// "=", and a value without commas.
func scramAttrs(msg string) ([][2]string, error) {
	var out [][2]string
	for _, a := range strings.Split(msg, ",") {
		if len(a) < 2 || a[1] != '=' || !('a' <= a[0] && a[0] <= 'z' || 'A' <= a[0] && a[0] <= 'Z') {
			return nil, errors.New("malformed attribute")
		}
		out = append(out, [2]string{a[:1], a[2:]})
	}
	return out, nil
}

type scramFirst struct {
	nonce string
	salt  []byte
	iter  int
}

// parseServerFirst checks the server-first-message against the client's
// nonce and the bounds above.
func (s *scramSASL) parseServerFirst(challenge []byte) (scramFirst, error) {
	var f scramFirst
	if len(challenge) > scramMaxMessage {
		return f, s.errf("server-first-message of %d bytes, over %d", len(challenge), scramMaxMessage)
	}
	msg := string(challenge)
	attrs, err := scramAttrs(msg)
	if err != nil {
		return f, s.errf("server-first-message: %v", err)
	}
	if attrs[0][0] == "m" {
		return f, s.errf("server-first-message asks for a mandatory extension this client lacks")
	}
	if attrs[0][0] == "e" {
		return f, s.errf("server refused: %s", printable(attrs[0][1], maxSASLStatus))
	}
	if len(attrs) < 3 || attrs[0][0] != "r" || attrs[1][0] != "s" || attrs[2][0] != "i" {
		return f, s.errf("server-first-message lacks r=, s= and i= in that order")
	}
	f.nonce = attrs[0][1]
	if !strings.HasPrefix(f.nonce, s.clientNon) || len(f.nonce) == len(s.clientNon) {
		return f, s.errf("server nonce does not extend the client's")
	}
	for i := 0; i < len(f.nonce); i++ {
		if c := f.nonce[i]; c < 0x21 || c > 0x7e {
			return f, s.errf("server nonce has a non-printable character")
		}
	}
	if len(attrs[1][1]) > base64.StdEncoding.EncodedLen(scramMaxSalt) {
		return f, s.errf("salt over %d bytes", scramMaxSalt)
	}
	f.salt, err = base64.StdEncoding.DecodeString(attrs[1][1])
	if err != nil {
		return f, s.errf("salt is not base64")
	}
	if len(f.salt) == 0 {
		return f, s.errf("salt is empty")
	}
	it := attrs[2][1]
	if len(it) == 0 || len(it) > 10 || strings.TrimLeft(it, "0123456789") != "" {
		return f, s.errf("iteration count is not a number")
	}
	n, err := strconv.Atoi(it)
	if err != nil || n < scramMinIter || n > scramMaxIter {
		return f, s.errf("iteration count %s outside %d..%d", printable(it, 12), scramMinIter, scramMaxIter)
	}
	f.iter = n
	return f, nil
}

func (s *scramSASL) hmac(key []byte, msg string) []byte {
	m := hmac.New(s.newHash, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// clientFinal answers the server-first-message with the proof. The
// password is used as given: SASLprep is not applied, which changes
// nothing for ASCII passwords.
func (s *scramSASL) clientFinal(challenge []byte) ([]byte, error) {
	f, err := s.parseServerFirst(challenge)
	if err != nil {
		return nil, err
	}
	size := s.newHash().Size()
	salted, err := pbkdf2.Key(s.newHash, s.pass, f.salt, f.iter, size)
	if err != nil {
		return nil, s.errf("deriving the key: %v", err)
	}
	clientKey := s.hmac(salted, "Client Key")
	h := s.newHash()
	h.Write(clientKey)
	storedKey := h.Sum(nil)
	withoutProof := "c=biws,r=" + f.nonce
	authMsg := s.first + "," + string(challenge) + "," + withoutProof
	proof := s.hmac(storedKey, authMsg)
	for i := range proof {
		proof[i] ^= clientKey[i]
	}
	s.serverSig = s.hmac(s.hmac(salted, "Server Key"), authMsg)
	return []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(proof)), nil
}

// checkServerFinal checks the server's signature: a server that does not
// know the password (an impostor) fails here even if it let us in.
func (s *scramSASL) checkServerFinal(challenge []byte) error {
	if len(challenge) > scramMaxMessage {
		return s.errf("server-final-message of %d bytes, over %d", len(challenge), scramMaxMessage)
	}
	attrs, err := scramAttrs(string(challenge))
	if err != nil {
		return s.errf("server-final-message: %v", err)
	}
	switch attrs[0][0] {
	case "e":
		return s.errf("server refused: %s", printable(attrs[0][1], maxSASLStatus))
	case "v":
	default:
		return s.errf("server-final-message lacks v=")
	}
	sig, err := base64.StdEncoding.DecodeString(attrs[0][1])
	if err != nil {
		return s.errf("server signature is not base64")
	}
	if len(s.serverSig) == 0 || !hmac.Equal(sig, s.serverSig) {
		return s.errf("server signature does not match: the server does not know the password")
	}
	return nil
}
