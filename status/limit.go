package status

import (
	"net"
	"net/http"
	"sync"
)

// connLimiter lets at most max accepted connections be open at once, so
// that the status server's memory and file descriptors stay bounded,
// without letting idle clients lock everyone else out. A connection with
// no request in progress (accepted and silent, or an idle keep-alive) is
// evictable: when a new connection comes and max are open, the one
// evictable longest is closed to make room. Only when every open
// connection is in the middle of a request (each bounded by the server's
// timeouts) does the new one wait.
type connLimiter struct {
	net.Listener
	max int

	mu    sync.Mutex
	conns map[*limitConn]struct{}
	seq   uint64        // orders connections by when they became evictable
	freed chan struct{} // a connection closed or became evictable (buffered 1)
	done  chan struct{} // closed by Close
	once  sync.Once
}

func newConnLimiter(l net.Listener, max int) *connLimiter {
	return &connLimiter{Listener: l, max: max, conns: map[*limitConn]struct{}{},
		freed: make(chan struct{}, 1), done: make(chan struct{})}
}

// limitConn is a connection connLimiter accepted.
type limitConn struct {
	net.Conn
	l    *connLimiter
	once sync.Once
	// Guarded by l.mu.
	evictable bool
	since     uint64 // l.seq when it last became evictable
}

func (l *connLimiter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	lc := &limitConn{Conn: c, l: l}
	for {
		l.mu.Lock()
		if len(l.conns) < l.max {
			l.seq++
			lc.evictable, lc.since = true, l.seq
			l.conns[lc] = struct{}{}
			l.mu.Unlock()
			return lc, nil
		}
		var victim *limitConn
		for o := range l.conns {
			if o.evictable && (victim == nil || o.since < victim.since) {
				victim = o
			}
		}
		if victim != nil {
			delete(l.conns, victim)
		}
		l.mu.Unlock()
		if victim != nil {
			// The server's goroutine for it, waiting for a request,
			// fails its read, and closes it again: a no-op.
			victim.Conn.Close()
			continue
		}
		select {
		case <-l.freed:
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		}
	}
}

func (l *connLimiter) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// connState is the http.Server's ConnState hook: it tells which
// connections have a request in progress.
func (l *connLimiter) connState(c net.Conn, st http.ConnState) {
	lc, ok := c.(*limitConn)
	if !ok {
		return
	}
	l.mu.Lock()
	switch st {
	case http.StateActive, http.StateHijacked:
		lc.evictable = false
	case http.StateIdle:
		l.seq++
		lc.evictable, lc.since = true, l.seq
	}
	l.mu.Unlock()
	if st == http.StateIdle {
		l.signal()
	}
}

func (l *connLimiter) signal() {
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
		c.l.signal()
	})
	return err
}
