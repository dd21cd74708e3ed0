package status

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestIdleConnectionsDoNotLockOut: MaxConns clients that made a request
// and keep their connection open, and MaxConns more that connect and say
// nothing, do not keep /healthz from answering; the server closes the
// idle ones to make room, so it never holds more than MaxConns.
func TestIdleConnectionsDoNotLockOut(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := Serve(l, &Source{})
	defer s.Close()
	addr := l.Addr().String()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	var held []net.Conn
	for range MaxConns {
		c := dial()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Close {
			t.Fatal("the server closed a keep-alive connection after one request")
		}
		held = append(held, c)
	}
	for range MaxConns {
		held = append(held, dial()) // silent
	}

	client := &http.Client{Timeout: 30 * time.Second} // the idle timeout is 60 s
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatalf("/healthz behind %d idle connections: %v", len(held), err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	// Idle connections were closed to make room: of the 2*MaxConns held
	// and the client's, at most MaxConns are still open.
	closed := make(chan bool, len(held))
	for _, c := range held {
		go func() {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err := c.Read(make([]byte, 1))
			closed <- errors.Is(err, io.EOF) || strings.Contains(fmt.Sprint(err), "reset")
		}()
	}
	n := 0
	for range held {
		if <-closed {
			n++
		}
	}
	if open := len(held) + 1 - n; open > MaxConns {
		t.Errorf("%d connections still open, want at most %d", open, MaxConns)
	}
}

// chanListener hands out the connections put in ch.
type chanListener struct {
	ch     chan net.Conn
	closed chan struct{}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}
func (l *chanListener) Close() error   { close(l.closed); return nil }
func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{} }

// TestRequestsInProgressStillBounded: when every connection has a request
// in progress, a new one waits (memory stays bounded); when one goes
// idle, it is closed and the new one taken; Close ends a waiting Accept.
func TestRequestsInProgressStillBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const max = 3
		fl := &chanListener{ch: make(chan net.Conn, 1), closed: make(chan struct{})}
		lim := newConnLimiter(fl, max)
		var conns []net.Conn
		var peers []net.Conn
		next := func() chan net.Conn {
			srv, cli := net.Pipe()
			peers = append(peers, cli)
			got := make(chan net.Conn, 1)
			go func() {
				fl.ch <- srv
				c, err := lim.Accept()
				if err != nil {
					close(got)
					return
				}
				got <- c
			}()
			return got
		}
		for range max {
			c := <-next()
			lim.connState(c, http.StateNew)
			lim.connState(c, http.StateActive)
			conns = append(conns, c)
		}
		waiting := next()
		synctest.Wait()
		select {
		case <-waiting:
			t.Fatal("accepted while every connection had a request in progress")
		default:
		}
		lim.connState(conns[1], http.StateIdle)
		c, ok := <-waiting
		if !ok {
			t.Fatal("not accepted once a connection went idle")
		}
		defer c.Close()
		if _, err := peers[1].Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
			t.Errorf("the idle connection was not closed: %v", err)
		}
		lim.mu.Lock()
		open := len(lim.conns)
		lim.mu.Unlock()
		if open != max {
			t.Errorf("%d connections counted, want %d", open, max)
		}
		lim.connState(c, http.StateActive)
		waiting = next()
		synctest.Wait()
		lim.Close()
		if _, ok := <-waiting; ok {
			t.Error("accepted after Close")
		}
		for _, c := range conns {
			c.Close()
		}
	})
}
