package kafka

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// tokenServer starts a TLS token endpoint answering with h, and returns a
// token source that trusts only its certificate.
func tokenServer(t *testing.T, timeout time.Duration, h http.HandlerFunc) (*tokenSource, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	// The server's own log would print TLS handshake errors on stderr.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	src, err := newTokenSource(&Creds{Mechanism: MechOAuthBearer, ClientID: "my client",
		ClientSecret: testSecret + "&=", TokenURL: srv.URL + "/oauth2/token", Scope: "gcn.nasa.gov/kafka-public-consumer"},
		roots, timeout)
	if err != nil {
		t.Fatal(err)
	}
	return src, srv
}

func TestTokenFetch(t *testing.T) {
	var got atomic.Value
	src, _ := tokenServer(t, 5*time.Second, func(w http.ResponseWriter, r *http.Request) {
		id, secret, ok := r.BasicAuth()
		err := r.ParseForm()
		got.Store(fmt.Sprintf("%s %s %s ok=%v id=%q secret-ok=%v grant=%q scope=%q err=%v",
			r.Method, r.URL.Path, r.Header.Get("Content-Type"), ok, id, secret == "s3cr3t-Cl13nt-Secr3t%26%3D",
			r.PostForm.Get("grant_type"), r.PostForm.Get("scope"), err))
		fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600,"token_type":"Bearer"}`, testToken)
	})
	at := time.Date(2026, 4, 6, 12, 0, 0, 0, time.UTC)
	src.now = func() time.Time { return at }
	tok, err := src.fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := `POST /oauth2/token application/x-www-form-urlencoded ok=true id="my+client" secret-ok=true grant="client_credentials" scope="gcn.nasa.gov/kafka-public-consumer" err=<nil>`
	if g := got.Load().(string); g != want {
		t.Errorf("request:\n got %s\nwant %s", g, want)
	}
	if tok.value != testToken || !tok.expires.Equal(at.Add(time.Hour)) || !tok.issued.Equal(at) {
		t.Errorf("token %v issued %v", tok, tok.issued)
	}
	for _, s := range []string{tok.String(), fmt.Sprintf("%v %+v %#v %s %d", tok, tok, tok, tok, tok)} {
		noSecrets(t, "printed token", s)
	}
	noSecrets(t, "printed token source", fmt.Sprintf("%v %+v %#v %s %d", src, src, src, src, src))
	for _, c := range []Creds{
		{Mechanism: MechPlain, Username: "u", Password: testPassword},
		{Mechanism: MechScramSHA256, Username: "u", Password: testPassword},
		{Mechanism: MechOAuthBearer},
	} {
		m, err := newSASL(&c, testToken)
		if err != nil {
			t.Fatal(err)
		}
		noSecrets(t, "printed mechanism", fmt.Sprintf("%v %+v %#v %s %d", m, m, m, m, m))
	}
}

// TestTokenFetchHostile gives the client every kind of bad answer; each
// must be refused with one line naming what was wrong, and none may show
// the client secret or the token.
func TestTokenFetchHostile(t *testing.T) {
	cases := []struct {
		name, want string
		h          http.HandlerFunc
	}{
		{"garbage", "not a JSON object", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte("\x00\xff<html>" + testToken))
		}},
		{"huge body", "over 65536 bytes", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"access_token":%q,"pad":"`, testToken)
			w.Write(bytes.Repeat([]byte("x"), 1<<20))
		}},
		{"missing access_token", "no access_token", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"expires_in":3600,"token_type":"Bearer"}`))
		}},
		{"access_token not a string", "not a JSON object", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"access_token":12,"expires_in":3600,"token_type":"Bearer"}`))
		}},
		{"token with separator", "access_token unusable", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"access_token":"%s\u0001","expires_in":3600,"token_type":"Bearer"}`, testToken)
		}},
		{"missing expires_in", "no expires_in", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer"}`, testToken)
		}},
		{"negative expires_in", "expires_in -5 outside 1..604800 seconds", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":-5,"token_type":"Bearer"}`, testToken)
		}},
		{"zero expires_in", "expires_in 0 outside", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":0,"token_type":"Bearer"}`, testToken)
		}},
		{"huge expires_in", "expires_in 99999999999 outside", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":99999999999,"token_type":"Bearer"}`, testToken)
		}},
		{"overflowing expires_in", "not a whole number", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":1e400,"token_type":"Bearer"}`, testToken)
		}},
		{"fractional expires_in", "not a whole number", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600.5,"token_type":"Bearer"}`, testToken)
		}},
		{"missing token_type", "no token_type", func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600}`, testToken)
		}},
		{"mac token_type", `token_type "mac", not Bearer`, func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, `{"access_token":%q,"expires_in":3600,"token_type":"mac"}`, testToken)
		}},
		{"invalid_client", `refused: HTTP 401: "invalid_client"`, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			fmt.Fprintf(w, `{"error":"invalid_client","error_description":"bad secret %s"}`, testSecret)
		}},
		{"error without JSON", "refused: HTTP 500", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			w.Write([]byte("oops " + testSecret))
		}},
		{"redirect", "refused: HTTP 302", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example/steal", http.StatusFound)
		}},
		{"huge error", "over 65536 bytes", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(400)
			w.Write(bytes.Repeat([]byte("e"), 100<<10))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, srv := tokenServer(t, 5*time.Second, tc.h)
			_, err := src.fetch(context.Background())
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "kafka: token ") || !strings.Contains(err.Error(), srv.URL) {
				t.Errorf("error %q does not name the endpoint", err)
			}
			noSecrets(t, "error", err.Error())
			if len(err.Error()) > 300 {
				t.Errorf("error of %d bytes", len(err.Error()))
			}
		})
	}
}

// TestTokenFetchSlow: an endpoint that never answers is given up after the
// timeout, with an error saying so.
func TestTokenFetchSlow(t *testing.T) {
	release := make(chan struct{})
	src, _ := tokenServer(t, 200*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		<-release
	})
	// Closed before the servers' Cleanup, which waits for handlers.
	defer close(release)
	_, err := src.fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Fatalf("slow endpoint: %v", err)
	}
	noSecrets(t, "error", err.Error())

	// A body that starts but never ends is bounded by the same timeout.
	src2, _ := tokenServer(t, 200*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"access_token":`))
		w.(http.Flusher).Flush()
		<-release
	})
	_, err = src2.fetch(context.Background())
	// On a loaded machine the timeout may fire before the headers are
	// read; either way the fetch must end with an error, not hang.
	if err == nil || !(strings.Contains(err.Error(), "reading") || strings.Contains(err.Error(), "timed out")) {
		t.Fatalf("stalled body: %v", err)
	}
	noSecrets(t, "error", err.Error())
}

// TestTokenFetchUntrusted: the endpoint's certificate must chain to the
// given roots; the secret is not sent to an endpoint that fails that.
func TestTokenFetchUntrusted(t *testing.T) {
	var asked atomic.Bool
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { asked.Store(true) }))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	src, err := newTokenSource(&Creds{Mechanism: MechOAuthBearer, ClientID: "c", ClientSecret: testSecret, TokenURL: srv.URL + "/t"},
		x509.NewCertPool(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = src.fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted endpoint: %v", err)
	}
	if asked.Load() {
		t.Error("the request reached an untrusted endpoint")
	}
	noSecrets(t, "error", err.Error())
}

func TestNewTokenSourceRefuses(t *testing.T) {
	for _, c := range []Creds{
		{Mechanism: MechPlain, Username: "u", Password: testPassword},
		{Mechanism: MechOAuthBearer, ClientID: "c", ClientSecret: testSecret, TokenURL: "http://a/t"},
	} {
		if _, err := newTokenSource(&c, nil, time.Second); err == nil {
			t.Errorf("%v accepted", c)
		} else {
			noSecrets(t, "error", err.Error())
		}
	}
}

func TestRefreshAt(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for life, want := range map[time.Duration]time.Duration{
		time.Hour:        48 * time.Minute, // 80 %
		60 * time.Second: 48 * time.Second, // short ones too: not fetched anew at every use
		10 * time.Second: 8 * time.Second,
		time.Second:      800 * time.Millisecond,
	} {
		tok := oauthToken{value: "x", issued: t0, expires: t0.Add(life)}
		if got := tok.refreshAt().Sub(t0); got != want {
			t.Errorf("lifetime %v: refresh after %v, want %v", life, got, want)
		}
	}
}

// TestTokenRefresher runs the refresher on synctest's fake clock through
// a GCN-like hour: one fetch until 80 % of the lifetime, then a new token.
func TestTokenRefresher(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var fetches int
		var fail bool
		r := newTokenRefresher(func(ctx context.Context) (oauthToken, error) {
			if fail {
				return oauthToken{}, errors.New("endpoint down")
			}
			fetches++
			now := time.Now()
			return oauthToken{value: fmt.Sprintf("tok%d", fetches), issued: now, expires: now.Add(time.Hour)}, nil
		}, nil)
		ctx := context.Background()
		if !r.nextRefresh().IsZero() {
			t.Error("nextRefresh before any token")
		}
		start := time.Now()
		get := func() string {
			t.Helper()
			tok, err := r.token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return tok.value
		}
		if v := get(); v != "tok1" {
			t.Fatalf("first token %s", v)
		}
		if got := r.nextRefresh().Sub(start); got != 48*time.Minute {
			t.Errorf("next refresh after %v", got)
		}
		time.Sleep(48*time.Minute - time.Second)
		if v := get(); v != "tok1" || fetches != 1 {
			t.Fatalf("before refresh: %s after %d fetches", v, fetches)
		}
		time.Sleep(time.Second)
		if v := get(); v != "tok2" || fetches != 2 {
			t.Fatalf("at refresh: %s after %d fetches", v, fetches)
		}
		// The endpoint fails at refresh time: the old token still has
		// life, so it is used, and the next call tries again.
		time.Sleep(48 * time.Minute)
		fail = true
		if v := get(); v != "tok2" {
			t.Fatalf("failed refresh: %s", v)
		}
		// Within the margin of expiry the old token is not handed out.
		time.Sleep(12*time.Minute - tokenMargin)
		if _, err := r.token(ctx); err == nil || !strings.Contains(err.Error(), "endpoint down") {
			t.Fatalf("expired token handed out: %v", err)
		}
		fail = false
		if v := get(); v != "tok3" {
			t.Fatalf("after recovery: %s", v)
		}
	})
}

func FuzzTokenResponse(f *testing.F) {
	f.Add([]byte(`{"access_token":"abc.def","expires_in":3600,"token_type":"Bearer"}`))
	f.Add([]byte(`{"access_token":"abc","expires_in":"3600","token_type":"bearer"}`))
	f.Add([]byte(`{"access_token":"abc","expires_in":-1,"token_type":"Bearer"}`))
	f.Add([]byte(`{"access_token":"a\u0001","expires_in":1e9,"token_type":"mac"}`))
	f.Add([]byte(`[1,2]`))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := parseTokenResponse(body, t0)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error not one line: %q", err)
			}
			return
		}
		if checkBearerToken(tok.value) != nil {
			t.Fatalf("accepted a token OAUTHBEARER cannot carry: %q", tok.value)
		}
		if life := tok.expires.Sub(t0); life <= 0 || life > maxTokenLifetime {
			t.Fatalf("accepted lifetime %v", life)
		}
		if r := tok.refreshAt(); r.Before(t0) || r.After(tok.expires) {
			t.Fatalf("refresh at %v outside the lifetime", r)
		}
	})
}
