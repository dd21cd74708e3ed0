package kafka

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// Bounds of one connection. A response's size comes from the peer, so
// every read is refused beyond maxResponse before anything is allocated;
// every request waits at most its own time plus requestTimeout for its
// answer, so a broker that stops answering costs a reconnection, not a
// wedged source.
const (
	dialTimeout    = 15 * time.Second
	requestTimeout = 30 * time.Second
	clientID       = "comet"
)

// conn is one authenticated connection to one broker. It is used by one
// goroutine at a time.
type conn struct {
	nc       net.Conn
	br       *bufio.Reader
	addr     string
	corr     int32
	versions map[apiKey]int16
	auth     *authenticator // nil: no SASL
	// reauthAt is when the session must be authenticated again (zero:
	// never), so that no request is sent after the broker's
	// session_lifetime_ms has run out: Kafka closes such a connection
	// unanswered.
	reauthAt time.Time
	// maxResponse bounds every response on this connection.
	maxResponse int32
}

// authenticator authenticates connections with one source's credentials.
type authenticator struct {
	creds  *Creds
	tokens *tokenRefresher // oauthbearer only
	// expiry is when the token last offered expires, for the status page,
	// which must not wait while a token is being fetched.
	expiry atomic.Pointer[time.Time]
}

// mechanism returns a fresh SASL exchange, with the current token for
// oauthbearer.
func (a *authenticator) mechanism(ctx context.Context) (saslMechanism, error) {
	token := ""
	if a.tokens != nil {
		t, err := a.tokens.token(ctx)
		if err != nil {
			return nil, err
		}
		token = t.value
		a.expiry.Store(&t.expires)
	}
	return newSASL(a.creds, token)
}

// dialBroker connects to addr, over TLS when tlsConf is set (verified for
// addr's host), learns which versions the broker serves, and
// authenticates.
func dialBroker(ctx context.Context, addr string, tlsConf *tls.Config, auth *authenticator, maxResponse int32) (*conn, error) {
	d := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("kafka: connecting to %s: %w", addr, err)
	}
	if tlsConf != nil {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("kafka: broker address %q: %w", addr, err)
		}
		conf := tlsConf.Clone()
		conf.ServerName = host
		if conf.MinVersion < tls.VersionTLS12 {
			conf.MinVersion = tls.VersionTLS12
		}
		tc := tls.Client(nc, conf)
		hctx, cancel := context.WithTimeout(ctx, dialTimeout)
		err = tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("kafka: TLS with %s: %w", addr, err)
		}
		nc = tc
	}
	c := &conn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), addr: addr, auth: auth, maxResponse: maxResponse}
	if err := c.setup(ctx); err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// setup asks for the broker's versions and authenticates.
func (c *conn) setup(ctx context.Context) error {
	body, err := c.send(ctx, newApiVersionsRequest(), 0)
	if err != nil {
		return err
	}
	resp, err := decodeApiVersionsResponse(body, 2)
	if err != nil {
		return fmt.Errorf("kafka: %s: %w", c.addr, err)
	}
	if c.versions, err = pickVersions(resp.versions); err != nil {
		return fmt.Errorf("%w (%s)", err, c.addr)
	}
	if c.auth != nil {
		return c.authenticate(ctx)
	}
	return nil
}

// authenticate runs one SASL exchange: at connection time, and again on
// the same connection before the session runs out. A refused
// oauthbearer token is dropped, so that the next attempt fetches a new
// one rather than offering the refused one again.
func (c *conn) authenticate(ctx context.Context) error {
	m, err := c.auth.mechanism(ctx)
	if err != nil {
		return err
	}
	err = c.exchange(ctx, m)
	if err != nil && c.auth.tokens != nil {
		c.auth.tokens.drop()
	}
	return err
}

func (c *conn) exchange(ctx context.Context, m saslMechanism) error {
	body, err := c.send(ctx, saslHandshakeRequest{mechanism: m.name()}, 0)
	if err != nil {
		return err
	}
	hs, err := decodeSaslHandshakeResponse(body)
	if err != nil {
		if hs != nil && errors.Is(err, ErrUnsupportedSaslMechanism) {
			return fmt.Errorf("kafka: %s does not take SASL %s (it takes %s): %w", c.addr, m.name(), oneLine(fmt.Sprint(hs.mechanisms)), err)
		}
		return fmt.Errorf("kafka: %s: %w", c.addr, err)
	}
	v := c.versions[apiSaslAuthenticate]
	out, err := m.start()
	if err != nil {
		return err
	}
	started := time.Now()
	for {
		body, err := c.send(ctx, saslAuthenticateRequest{v: v, authBytes: out}, 0)
		if err != nil {
			return err
		}
		resp, err := decodeSaslAuthenticateResponse(body, v)
		if err != nil {
			return fmt.Errorf("kafka: authenticating to %s with %s: %w", c.addr, m.name(), err)
		}
		reply, merr := m.next(resp.authBytes)
		if merr != nil {
			if reply != nil {
				// The mechanism's last word (OAUTHBEARER's \x01) lets the
				// broker say why; the exchange has failed either way.
				if body, err := c.send(ctx, saslAuthenticateRequest{v: v, authBytes: reply}, 0); err == nil {
					if _, err := decodeSaslAuthenticateResponse(body, v); err != nil {
						merr = fmt.Errorf("%w (%v)", merr, err)
					}
				}
			}
			return fmt.Errorf("kafka: authenticating to %s: %w", c.addr, merr)
		}
		if reply == nil {
			c.setLifetime(started, resp.sessionLifetimeMs)
			return nil
		}
		out = reply
	}
}

// setLifetime sets when to authenticate again: at 85% of the session's
// life counted from when the exchange began (the broker counts from when
// it ended), or five seconds before its end if that is sooner and still
// past half of it. Never sooner than a second after the exchange, which
// is as often as Kafka takes one.
func (c *conn) setLifetime(started time.Time, ms int64) {
	c.reauthAt = time.Time{}
	if ms <= 0 {
		return
	}
	life := time.Duration(ms) * time.Millisecond
	at := life / 100 * 85
	if early := life - 5*time.Second; early > life/2 && early < at {
		at = early
	}
	c.reauthAt = started.Add(max(at, time.Second))
}

// roundTrip sends req and returns its response body, authenticating
// again first if the session is about to run out. wait is how long the
// broker may hold the request (a fetch's long poll), on top of
// requestTimeout.
func (c *conn) roundTrip(ctx context.Context, req request, wait time.Duration) ([]byte, error) {
	if !c.reauthAt.IsZero() && !time.Now().Before(c.reauthAt) {
		if err := c.authenticate(ctx); err != nil {
			return nil, fmt.Errorf("kafka: authenticating again before the session ends: %w", err)
		}
	}
	return c.send(ctx, req, wait)
}

// send writes one request and reads its response. The connection is
// closed when ctx ends, which unblocks a long poll at once.
func (c *conn) send(ctx context.Context, req request, wait time.Duration) ([]byte, error) {
	c.corr++
	if c.corr < 0 {
		c.corr = 1
	}
	// The deadline first: a context already done when the request starts
	// must find its past deadline in force, not overwritten by this one.
	c.nc.SetDeadline(time.Now().Add(wait + requestTimeout))
	stop := context.AfterFunc(ctx, func() { c.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := writeRequest(c.nc, c.corr, clientID, req); err != nil {
		return nil, c.fail(ctx, req, err)
	}
	body, err := readResponse(c.br, c.maxResponse, c.corr)
	if err != nil {
		return nil, c.fail(ctx, req, err)
	}
	return body, nil
}

// fail says what went wrong with a request, in the context's terms when
// it was cancelled.
func (c *conn) fail(ctx context.Context, req request, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("kafka: %s: %s not answered in time", c.addr, req.key())
	}
	return fmt.Errorf("kafka: %s: %s: %w", c.addr, req.key(), err)
}

func (c *conn) close() { c.nc.Close() }
