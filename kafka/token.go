package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Bounds on a token endpoint's answer. A real answer is a JWT of a few
// KiB; a lifetime beyond a week is not one an identity provider gives to
// a machine credential, and trusting it would keep a token long after it
// may have been revoked.
const (
	maxTokenBody     = 64 << 10
	maxTokenLifetime = 7 * 24 * time.Hour
	// tokenMargin is how long before expiry a token is refreshed at the
	// latest: clocks differ, and a connection needs time to authenticate.
	tokenMargin = 30 * time.Second
)

// oauthToken is a bearer token with what is known of its life. String
// hides the token.
type oauthToken struct {
	value   string
	issued  time.Time // when the request for it was sent
	expires time.Time
}

func (t oauthToken) String() string {
	return fmt.Sprintf("token(REDACTED, expires %s)", t.expires.UTC().Format(time.RFC3339))
}

// Format makes every verb go through String, so that none prints the
// token.
func (t oauthToken) Format(f fmt.State, _ rune) { io.WriteString(f, t.String()) }

// Format keeps every verb from printing the client secret.
func (s *tokenSource) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "tokenSource(%s, client_id %q)", s.url, s.clientID)
}

// refreshAt is when the token should be replaced: at 80% of its life, and
// never later than tokenMargin before it expires, so that a connection
// opened with it does not meet an expired token mid-way.
func (t oauthToken) refreshAt() time.Time {
	life := t.expires.Sub(t.issued)
	at := t.issued.Add(life / 10 * 8)
	if latest := t.expires.Add(-tokenMargin); at.After(latest) {
		at = latest
	}
	if at.Before(t.issued) {
		at = t.issued
	}
	return at
}

// tokenSource fetches tokens with the OAuth 2.0 client-credentials grant
// (RFC 6749 section 4.4), as GCN's Kafka requires.
type tokenSource struct {
	url          string
	clientID     string
	clientSecret string
	scope        string
	client       *http.Client
	now          func() time.Time
}

// newTokenSource makes a token source for oauthbearer credentials. The
// endpoint's certificate is verified against roots (nil: the system's),
// and every request, answer included, is bounded by timeout. Redirects
// are not followed, so the client secret goes only to the configured URL.
func newTokenSource(c *Creds, roots *x509.CertPool, timeout time.Duration) (*tokenSource, error) {
	if c.Mechanism != MechOAuthBearer {
		return nil, fmt.Errorf("kafka: token source for mechanism %s", c.Mechanism)
	}
	if err := checkTokenURL(c.TokenURL); err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	tr := &http.Transport{
		TLSClientConfig:       &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		MaxIdleConns:          1,
		IdleConnTimeout:       time.Minute,
		ForceAttemptHTTP2:     true,
	}
	return &tokenSource{
		url:          c.TokenURL,
		clientID:     c.ClientID,
		clientSecret: c.ClientSecret,
		scope:        c.Scope,
		client: &http.Client{
			Transport: tr,
			Timeout:   timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		now: time.Now,
	}, nil
}

// fetch asks the endpoint for a new token. Its errors name the endpoint
// and what went wrong, never the secret or the token.
func (s *tokenSource) fetch(ctx context.Context) (oauthToken, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if s.scope != "" {
		form.Set("scope", s.scope)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(form.Encode()))
	if err != nil {
		return oauthToken{}, fmt.Errorf("kafka: token request to %s: %v", s.url, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 section 2.3.1: both are form-encoded before Basic.
	req.SetBasicAuth(url.QueryEscape(s.clientID), url.QueryEscape(s.clientSecret))
	issued := s.now()
	resp, err := s.client.Do(req)
	if err != nil {
		return oauthToken{}, fmt.Errorf("kafka: token request to %s: %v", s.url, urlErrReason(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody+1))
	if err != nil {
		return oauthToken{}, fmt.Errorf("kafka: token answer from %s: reading: %v", s.url, urlErrReason(err))
	}
	if len(body) > maxTokenBody {
		return oauthToken{}, fmt.Errorf("kafka: token answer from %s: over %d bytes", s.url, maxTokenBody)
	}
	if resp.StatusCode != http.StatusOK {
		return oauthToken{}, fmt.Errorf("kafka: token request to %s refused: HTTP %d%s", s.url, resp.StatusCode, tokenErrorCode(body))
	}
	t, err := parseTokenResponse(body, issued)
	if err != nil {
		return oauthToken{}, fmt.Errorf("kafka: token answer from %s: %v", s.url, err)
	}
	return t, nil
}

// urlErrReason strips the *url.Error wrapper, whose text repeats the
// method and URL the caller already names.
func urlErrReason(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return errors.New("timed out")
		}
		return ue.Err
	}
	return err
}

// tokenErrorCode names the OAuth error code of a refusal
// ({"error":"invalid_client"}), or nothing when the body has none.
func tokenErrorCode(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == "" {
		return ""
	}
	return ": " + printable(e.Error, maxSASLStatus)
}

// parseTokenResponse reads a successful answer: access_token (a bearer
// token), token_type Bearer, and expires_in in seconds, as a number or a
// string of digits. issued is when the request was sent; the lifetime
// counts from it, which errs on the early side.
func parseTokenResponse(body []byte, issued time.Time) (oauthToken, error) {
	var r struct {
		AccessToken *string         `json:"access_token"`
		TokenType   *string         `json:"token_type"`
		ExpiresIn   json.RawMessage `json:"expires_in"`
	}
	if len(body) > maxTokenBody {
		return oauthToken{}, fmt.Errorf("over %d bytes", maxTokenBody)
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return oauthToken{}, errors.New("not a JSON object with string fields access_token and token_type")
	}
	if r.AccessToken == nil {
		return oauthToken{}, errors.New("no access_token")
	}
	if err := checkBearerToken(*r.AccessToken); err != nil {
		return oauthToken{}, fmt.Errorf("access_token unusable: %v", strings.TrimPrefix(err.Error(), "kafka: "))
	}
	if r.TokenType == nil {
		return oauthToken{}, errors.New("no token_type")
	}
	if !strings.EqualFold(*r.TokenType, "bearer") {
		return oauthToken{}, fmt.Errorf("token_type %s, not Bearer", printable(*r.TokenType, 32))
	}
	if len(r.ExpiresIn) == 0 || string(r.ExpiresIn) == "null" {
		return oauthToken{}, errors.New("no expires_in")
	}
	raw := strings.Trim(string(r.ExpiresIn), `"`)
	secs, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return oauthToken{}, fmt.Errorf("expires_in %s is not a whole number of seconds", printable(raw, 24))
	}
	if secs <= 0 || secs > int64(maxTokenLifetime/time.Second) {
		return oauthToken{}, fmt.Errorf("expires_in %d outside 1..%d seconds", secs, int64(maxTokenLifetime/time.Second))
	}
	return oauthToken{
		value:   *r.AccessToken,
		issued:  issued,
		expires: issued.Add(time.Duration(secs) * time.Second),
	}, nil
}

// tokenRefresher hands out a token, fetching a new one when the current
// one has reached its refresh time, so that every new connection and
// every re-authentication starts with a token that has life left.
type tokenRefresher struct {
	fetch func(context.Context) (oauthToken, error)
	now   func() time.Time

	mu  sync.Mutex
	cur oauthToken
}

func newTokenRefresher(fetch func(context.Context) (oauthToken, error), now func() time.Time) *tokenRefresher {
	if now == nil {
		now = time.Now
	}
	return &tokenRefresher{fetch: fetch, now: now}
}

// token returns the current token, or fetches a new one once the current
// one has reached refreshAt. If that fetch fails while the current token
// still has more than tokenMargin to live, the current one is returned
// and the next call tries again; otherwise the fetch's error is.
func (r *tokenRefresher) token(ctx context.Context) (oauthToken, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	if r.cur.value != "" && now.Before(r.cur.refreshAt()) {
		return r.cur, nil
	}
	t, err := r.fetch(ctx)
	if err != nil {
		if r.cur.value != "" && now.Before(r.cur.expires.Add(-tokenMargin)) {
			return r.cur, nil
		}
		return oauthToken{}, err
	}
	r.cur = t
	return t, nil
}

// nextRefresh is when the token in hand should be replaced; the zero time
// when there is none.
func (r *tokenRefresher) nextRefresh() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur.value == "" {
		return time.Time{}
	}
	return r.cur.refreshAt()
}

// drop forgets the token in hand, which a broker refused (revoked, or
// signed with a key rotated since), so that the next call fetches a new
// one rather than offering the refused one until it is due for renewal.
func (r *tokenRefresher) drop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur = oauthToken{}
}
