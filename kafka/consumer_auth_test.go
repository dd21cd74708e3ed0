package kafka

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// The consumer against an authenticating cluster over TLS: sessions that
// run out, tokens from an OAuth endpoint, and secrets kept out of every
// log line, status and error.

// secretsIn returns the secrets that appear in any of texts.
func secretsIn(texts []string, secrets []string) []string {
	var out []string
	for _, s := range secrets {
		for _, t := range texts {
			if s != "" && strings.Contains(t, s) {
				out = append(out, fmt.Sprintf("%.12s... in %.200q", s, t))
				break
			}
		}
	}
	return out
}

// statusTexts renders a status every way an operator may see it.
func statusTexts(t *testing.T, st Status) []string {
	j, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return []string{string(j), fmt.Sprintf("%v %+v %#v", st, st, st)}
}

func (e *consumerEnv) logTexts() []string {
	var out []string
	for _, l := range e.log.all() {
		out = append(out, l.text)
	}
	return out
}

// OAUTHBEARER over TLS, with sessions that run out: the source
// authenticates again (or reconnects) before each session runs out,
// with a fresh token when the one it has expires, and loses nothing; no
// token and no client secret is shown anywhere.
func TestConsumerOAuthSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for several session lifetimes")
	}
	// The cluster's re-authentication interval, tokens of an hour.
	t.Run("session lifetime", func(t *testing.T) { testOAuthSessions(t, 1500*time.Millisecond, time.Hour) })
	// No interval set: Kafka makes the session last as long as the
	// token, here two seconds.
	t.Run("token lifetime", func(t *testing.T) { testOAuthSessions(t, 0, 2*time.Second) })
}

func testOAuthSessions(t *testing.T, lifetime, tokenLife time.Duration) {
	cert, roots := testCert(t)
	c := newFakeCluster(t, 2, &tls.Config{Certificates: []tls.Certificate{cert}})
	c.setSASL(fakeSASL{mechanism: "OAUTHBEARER", lifetime: lifetime})
	c.createTopic("t", 2)
	te := c.startTokenEndpoint(t, "comet-test", testSecret, tokenLife)

	e := newConsumerEnv(t, c, "t")
	e.cfg.TLS = &tls.Config{RootCAs: roots}
	e.cfg.Creds = &Creds{Mechanism: MechOAuthBearer, ClientID: "comet-test", ClientSecret: testSecret, TokenURL: te.url}
	e.cfg.TokenRoots = te.roots
	src := e.start()

	session := min(tokenLife, lifetime)
	if lifetime == 0 {
		session = tokenLife
	}
	var want []submission
	start := time.Now()
	for i := 0; time.Since(start) < 4*session; i++ {
		want = append(want, appendValues(t, c, "t", int32(i%2), time.Now(), testEvent(fmt.Sprintf("s%d", i)))...)
		time.Sleep(session / 5)
	}
	waitFor(t, "every record", func() bool { return e.rec.has(want) })
	e.rec.checkOnce(t, want)
	s := c.Stats()
	t.Logf("%v of %v sessions: %d re-authentications, %d connections, %d sessions run out (closed by the broker), %d refused, %d tokens fetched",
		time.Since(start).Round(time.Millisecond), session, s.Reauths, s.Accepted, s.Expired, s.AuthFailures, len(te.tokens()))
	if s.Expired != 0 {
		t.Errorf("%d requests came after their session had run out: the source does not re-authenticate (or reconnect) in time", s.Expired)
	}
	if s.AuthFailures != 0 {
		t.Errorf("%d authentications refused: the source offered an expired token", s.AuthFailures)
	}
	st := src.Status()
	// The token last offered: with tokens this short it may have expired
	// between two requests, but it is one fetched during the run.
	if st.TokenExpires == nil || st.TokenExpires.Before(start.Add(3*session)) {
		t.Errorf("status token expiry %v; want that of a token fetched late in the run (it began %v)", st.TokenExpires, start)
	}
	secrets := append([]string{testSecret}, te.tokens()...)
	texts := append(e.logTexts(), statusTexts(t, st)...)
	if leaks := secretsIn(texts, secrets); len(leaks) != 0 {
		t.Errorf("secrets shown: %q", leaks)
	}
	if len(s.Violations) != 0 {
		t.Errorf("protocol violations: %v", s.Violations)
	}
}

// A refused credential (a wrong PLAIN password, a client secret the
// token endpoint refuses): the source says so and keeps retrying, with
// no secret in its lines or status; once the credential is right it
// goes on.
func TestConsumerRefusedCredentialsNoSecrets(t *testing.T) {
	cert, roots := testCert(t)
	c := newFakeCluster(t, 1, &tls.Config{Certificates: []tls.Certificate{cert}})
	c.setSASL(fakeSASL{mechanism: "PLAIN", user: "alice", pass: "the-right-" + testPassword})
	c.createTopic("t", 1)
	want := appendValues(t, c, "t", 0, time.Now(), events("e", 2)...)

	e := newConsumerEnv(t, c, "t")
	e.cfg.TLS = &tls.Config{RootCAs: roots}
	e.cfg.Creds = &Creds{Mechanism: MechPlain, Username: "alice", Password: testPassword}
	src := e.start()
	waitFor(t, "two refused authentications", func() bool { return c.Stats().AuthFailures >= 2 })
	st := src.Status()
	if st.LastError == "" || st.Connected {
		t.Errorf("status after refusals: last error %q, connected %v", st.LastError, st.Connected)
	}
	secrets := []string{testPassword}
	if leaks := secretsIn(append(e.logTexts(), statusTexts(t, st)...), secrets); len(leaks) != 0 {
		t.Errorf("secrets shown: %q", leaks)
	}
	c.setSASL(fakeSASL{mechanism: "PLAIN", user: "alice", pass: testPassword})
	waitFor(t, "the records once the password is right", func() bool { return e.rec.has(want) })
	if leaks := secretsIn(append(e.logTexts(), statusTexts(t, src.Status())...), secrets); len(leaks) != 0 {
		t.Errorf("secrets shown: %q", leaks)
	}

	// OAUTHBEARER with a client secret the endpoint refuses.
	te := c.startTokenEndpoint(t, "comet-test", "the-right-"+testSecret, time.Hour)
	c.setSASL(fakeSASL{mechanism: "OAUTHBEARER"})
	e2 := newConsumerEnv(t, c, "t")
	e2.cfg.TLS = &tls.Config{RootCAs: roots}
	e2.cfg.Creds = &Creds{Mechanism: MechOAuthBearer, ClientID: "comet-test", ClientSecret: testSecret, TokenURL: te.url}
	e2.cfg.TokenRoots = te.roots
	src2 := e2.start()
	waitFor(t, "a line saying why", func() bool { return src2.Status().LastError != "" })
	if leaks := secretsIn(append(e2.logTexts(), statusTexts(t, src2.Status())...), []string{testSecret}); len(leaks) != 0 {
		t.Errorf("secrets shown: %q", leaks)
	}
}

// ListTopics lists what the credential may see, with partition counts;
// its error says in one line what failed, without the secret.
func TestListTopics(t *testing.T) {
	cert, roots := testCert(t)
	c := newFakeCluster(t, 2, &tls.Config{Certificates: []tls.Certificate{cert}})
	c.setSASL(fakeSASL{mechanism: "PLAIN", user: "alice", pass: testPassword})
	c.createTopic("gcn.b", 3)
	c.createTopic("gcn.a", 1)
	c.createTopic("gcn.hidden", 1)
	c.setForbidden("gcn.hidden", true)
	cfg := Config{Name: "kafka://" + c.bootstrap(), Addr: c.bootstrap(), TLS: &tls.Config{RootCAs: roots},
		Creds: &Creds{Mechanism: MechPlain, Username: "alice", Password: testPassword}, MaxRecord: 1 << 20, BackoffMax: time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := ListTopics(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]int{}
	for _, ti := range got {
		byName[ti.Name] = ti.Partitions
	}
	if len(got) != 2 || byName["gcn.a"] != 1 || byName["gcn.b"] != 3 {
		t.Errorf("topics %v; want gcn.a (1) and gcn.b (3)", got)
	}

	bad := cfg
	bad.Creds = &Creds{Mechanism: MechPlain, Username: "alice", Password: testPassword + "-wrong"}
	_, err = ListTopics(ctx, bad)
	if err == nil || strings.Contains(err.Error(), testPassword) || strings.Contains(err.Error(), "\n") {
		t.Errorf("wrong password: %v; want one line without the password", err)
	}
	untrusted := cfg
	untrusted.TLS = &tls.Config{}
	if _, err = ListTopics(ctx, untrusted); err == nil || !strings.Contains(strings.ToLower(err.Error()), "certificate") {
		t.Errorf("untrusted certificate: %v; want an error naming the certificate", err)
	}
	c.close()
	if _, err = ListTopics(ctx, cfg); err == nil {
		t.Error("closed cluster: no error")
	}
}

// A token the cluster stops taking (revoked, or expired early by the
// identity provider): the re-authentication is refused after the RFC
// 7628 challenge, and the source fetches a new token rather than
// offering the refused one again, and goes on.
func TestConsumerTokenRevoked(t *testing.T) {
	cert, roots := testCert(t)
	c := newFakeCluster(t, 1, &tls.Config{Certificates: []tls.Certificate{cert}})
	c.setSASL(fakeSASL{mechanism: "OAUTHBEARER", lifetime: time.Second})
	c.createTopic("t", 1)
	te := c.startTokenEndpoint(t, "comet-test", testSecret, time.Hour)
	e := newConsumerEnv(t, c, "t")
	e.cfg.TLS = &tls.Config{RootCAs: roots}
	e.cfg.Creds = &Creds{Mechanism: MechOAuthBearer, ClientID: "comet-test", ClientSecret: testSecret, TokenURL: te.url}
	e.cfg.TokenRoots = te.roots
	e.tune = func(s *Source) { s.wait = 500 * time.Millisecond }
	e.start()
	want := appendValues(t, c, "t", 0, time.Now(), testEvent("before"))
	waitFor(t, "the record before the revocation", func() bool { return e.rec.has(want) })
	c.mu.Lock()
	clear(c.tokens)
	c.mu.Unlock()
	waitFor(t, "the revoked token to be refused", func() bool { return c.Stats().AuthFailures > 0 })
	want = append(want, appendValues(t, c, "t", 0, time.Now(), events("after", 2)...)...)
	waitFor(t, "the records after the revocation", func() bool { return e.rec.has(want) })
	e.rec.checkOnce(t, want)
	s := c.Stats()
	t.Logf("after the revocation: %d refused authentications, %d tokens fetched in all", s.AuthFailures, len(te.tokens()))
	if s.AuthFailures == 0 || len(te.tokens()) < 2 {
		t.Errorf("%d refusals, %d tokens: the revoked token was not met or not replaced", s.AuthFailures, len(te.tokens()))
	}
	secrets := append([]string{testSecret}, te.tokens()...)
	if leaks := secretsIn(e.logTexts(), secrets); len(leaks) != 0 {
		t.Errorf("secrets shown: %q", leaks)
	}
}
