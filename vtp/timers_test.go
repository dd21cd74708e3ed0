package vtp

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"comet/voevent"
)

// These tests run the protocol's clocks in a synctest bubble: time is
// fake and jumps whenever every goroutine is blocked, so a 120 s timeout
// takes no real time and happens at exactly 120 s.

func readMsg(t *testing.T, r *bufio.Reader) (*voevent.Event, error) {
	t.Helper()
	raw, err := ReadFrame(r, DefaultMaxFrame)
	if err != nil {
		return nil, err
	}
	ev, err := voevent.Parse(raw)
	if err != nil {
		t.Fatalf("unparsable message %q: %v", raw, err)
	}
	return ev, nil
}

func mustRead(t *testing.T, r *bufio.Reader, role string) *voevent.Event {
	t.Helper()
	ev, err := readMsg(t, r)
	if err != nil {
		t.Fatalf("waiting for %s: %v", role, err)
	}
	if ev.Role != role {
		t.Fatalf("got role %q, want %q", ev.Role, role)
	}
	return ev
}

// closedAt reads until the connection closes and returns when it did.
func closedAt(t *testing.T, r *bufio.Reader) time.Time {
	t.Helper()
	for {
		if _, err := ReadFrame(r, DefaultMaxFrame); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrClosedPipe) {
				t.Errorf("read ended with %v, want EOF", err)
			}
			return time.Now()
		}
	}
}

func TestAuthorTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger()})
		defer shutdown(t, b)
		for _, tt := range []struct {
			name  string
			write []byte
		}{
			{"silent author", nil},
			{"half a frame", []byte{0, 0, 3, 232, '<', 'V', 'O'}},
		} {
			srv, cli := net.Pipe()
			start := time.Now()
			go b.HandleAuthor(srv)
			if tt.write != nil {
				cli.Write(tt.write)
			}
			if d := closedAt(t, bufio.NewReader(cli)).Sub(start); d != 20*time.Second {
				t.Errorf("%s: closed after %v, want 20s", tt.name, d)
			}
			cli.Close()
		}

		// The deadline applies to each event: after an answer the author
		// has another 20 s for the next one.
		srv, cli := net.Pipe()
		go b.HandleAuthor(srv)
		r := bufio.NewReader(cli)
		time.Sleep(15 * time.Second)
		WriteFrame(cli, testEvent(ivorn("late"), "test", ""))
		mustRead(t, r, RoleAck)
		answered := time.Now()
		if d := closedAt(t, r).Sub(answered); d != 20*time.Second {
			t.Errorf("closed %v after the answer, want 20s", d)
		}
		cli.Close()
	})
}

// subscribe connects a subscriber over a pipe and answers authenticate.
func subscribe(t *testing.T, b *Broker, filters ...string) (net.Conn, *bufio.Reader) {
	t.Helper()
	srv, cli := net.Pipe()
	go b.HandleSubscriber(srv)
	r := bufio.NewReader(cli)
	auth := ParseTransport(mustRead(t, r, RoleAuthenticate))
	if auth.Origin != brokerIVO {
		t.Errorf("authenticate Origin %q, want %q", auth.Origin, brokerIVO)
	}
	WriteFrame(cli, AuthenticateResponse(auth.Origin, "ivo://example.org/sub", filters, time.Now()))
	synctest.Wait() // the broker has read the response
	return cli, r
}

func TestIAmAlive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger()})
		defer shutdown(t, b)
		start := time.Now()
		cli, r := subscribe(t, b)
		defer cli.Close()
		for i := 1; i <= 3; i++ {
			ev := mustRead(t, r, RoleIAmAlive)
			if d := time.Since(start); d != time.Duration(i)*60*time.Second {
				t.Errorf("iamalive %d after %v, want %ds", i, d, 60*i)
			}
			if o := ParseTransport(ev).Origin; o != brokerIVO {
				t.Errorf("iamalive Origin %q", o)
			}
			WriteFrame(cli, IAmAliveResponse(brokerIVO, "ivo://example.org/sub", time.Now()))
		}
		// The fourth goes unanswered: dropped at the fifth tick.
		mustRead(t, r, RoleIAmAlive)
		if d := closedAt(t, r).Sub(start); d != 300*time.Second {
			t.Errorf("silent subscriber dropped after %v, want 300s", d)
		}
	})
}

func TestOutstandingAcks(t *testing.T) {
	for _, n := range []int{MaxOutstanding - 1, MaxOutstanding} {
		synctest.Test(t, func(t *testing.T) {
			b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger()})
			defer shutdown(t, b)
			start := time.Now()
			cli, r := subscribe(t, b)
			defer cli.Close()
			for range n {
				ev, err := voevent.Parse(testEvent(ivorn("unacked"), "test", ""))
				if err != nil {
					t.Fatal(err)
				}
				b.Broadcast(ev)
				mustRead(t, r, "test") // and never acknowledge it
			}
			if n < MaxOutstanding {
				mustRead(t, r, RoleIAmAlive)
				return
			}
			if d := closedAt(t, r).Sub(start); d != 60*time.Second {
				t.Errorf("%d unacknowledged events: dropped after %v, want 60s", n, d)
			}
		})
	}
}

func TestAcksKeepSubscriber(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger()})
		defer shutdown(t, b)
		cli, r := subscribe(t, b)
		defer cli.Close()
		for range 3 * MaxOutstanding {
			ev, _ := voevent.Parse(testEvent(ivorn("acked"), "test", ""))
			b.Broadcast(ev)
			got := mustRead(t, r, "test")
			WriteFrame(cli, Ack(got.IVORN, "ivo://example.org/sub", "", time.Now()))
		}
		synctest.Wait()
		mustRead(t, r, RoleIAmAlive) // not dropped
	})
}

func TestRemoteSilenceTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger()})
		defer shutdown(t, b)
		remote, local := net.Pipe()
		start := time.Now()
		done := make(chan struct{})
		go func() { b.serveRemote(local, discardLogger()); close(done) }()
		r := bufio.NewReader(remote)
		WriteFrame(remote, Authenticate("ivo://example.org/remote", time.Now()))
		mustRead(t, r, RoleAuthenticate)
		// An iamalive at 100 s is answered and restarts the 120 s clock.
		time.Sleep(100 * time.Second)
		WriteFrame(remote, IAmAlive("ivo://example.org/remote", time.Now()))
		resp := ParseTransport(mustRead(t, r, RoleIAmAlive))
		if resp.Origin != "ivo://example.org/remote" || resp.Response != brokerIVO {
			t.Errorf("iamalive response %+v", resp)
		}
		if d := closedAt(t, r).Sub(start); d != 220*time.Second {
			t.Errorf("silent remote dropped after %v, want 220s", d)
		}
		<-done
	})
}

func TestReconnectBackoff(t *testing.T) {
	defer func(f func() float64) { normFloat = f }(normFloat)
	normFloat = func() float64 { return 0 } // no jitter: exact delays
	synctest.Test(t, func(t *testing.T) {
		var dials []time.Time
		lifetimes := []time.Duration{0, 0, 0, 6 * time.Second, 0, 2 * time.Second, 0}
		b := New(Config{Logger: discardLogger()})
		b.dial = func(ctx context.Context, addr string) (net.Conn, error) {
			i := len(dials)
			dials = append(dials, time.Now())
			if i >= len(lifetimes) || lifetimes[i] == 0 {
				return nil, errors.New("connection refused")
			}
			return fakeRemote(lifetimes[i]), nil
		}
		b.Subscribe("remote.example.org:8099")
		time.Sleep(30000 * time.Second)
		shutdown(t, b)

		e := math.E
		// Delays between attempts: geometric by e from 1 s, capped at
		// 3600 s; a subscription that lived 6 s resets the schedule, one
		// that lived 2 s does not.
		want := []float64{e, e * e, e * e * e, 6 + e, e * e, 2 + e*e*e, math.Pow(e, 4), math.Pow(e, 5),
			math.Pow(e, 6), math.Pow(e, 7), math.Pow(e, 8), 3600, 3600}
		for i, w := range want {
			if i+1 >= len(dials) {
				t.Fatalf("only %d attempts", len(dials))
			}
			got := dials[i+1].Sub(dials[i]).Seconds()
			if math.Abs(got-w) > 0.001 {
				t.Errorf("delay before attempt %d: %.3fs, want %.3fs", i+2, got, w)
			}
		}
	})
}

func TestBackoffJitterBounded(t *testing.T) {
	bo := backoff{t: DefaultTimers()}
	prev := 0.0
	varied := false
	for range 1000 {
		d := bo.next().Seconds()
		if d < 1 || d > 3600 {
			t.Fatalf("delay %v out of [1s, 3600s]", d)
		}
		varied = varied || d != prev && d != 3600
		prev = d
	}
	if !varied {
		t.Error("delays are not jittered")
	}
}

func TestTestEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		delivered := 0
		b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger(),
			Deliver: func(*voevent.Event) { delivered++ }})
		start := time.Now()
		type got struct {
			ev *voevent.Event
			at time.Duration
		}
		// A subscriber that answers iamalive and acks events, recording them.
		run := func(filters ...string) *[]got {
			c, r := subscribe(t, b, filters...)
			var events []got
			go func() {
				defer c.Close()
				for {
					ev, err := readMsg(t, r)
					if err != nil {
						return
					}
					now := time.Now()
					if ev.Role == RoleIAmAlive {
						WriteFrame(c, IAmAliveResponse(brokerIVO, "ivo://example.org/sub", now))
						continue
					}
					events = append(events, got{ev, now.Sub(start)})
					WriteFrame(c, Ack(ev.IVORN, "ivo://example.org/sub", "", now))
				}
			}()
			return &events
		}
		all := run()
		noTests := run(`/*[local-name()="VOEvent" and @role!="test"]`)
		b.SendTestEvents(10*time.Minute, func(now time.Time) []byte {
			return voevent.TestEvent(brokerIVO, now, "comet (Go) test")
		})
		time.Sleep(25 * time.Minute)
		shutdown(t, b)
		synctest.Wait()

		if len(*all) != 3 {
			t.Fatalf("subscriber got %d test events in 25 minutes, want 3 (at 0, 10 and 20 min)", len(*all))
		}
		for i, g := range *all {
			if want := time.Duration(i) * 10 * time.Minute; g.at != want {
				t.Errorf("test event %d at %v, want %v", i, g.at, want)
			}
			if g.ev.Role != "test" || !strings.HasPrefix(g.ev.IVORN, brokerIVO+"#TestEvent-") {
				t.Errorf("test event %d: role %q ivorn %q", i, g.ev.Role, g.ev.IVORN)
			}
			if err := voevent.Validate(g.ev); err != nil {
				t.Errorf("test event %d is not valid: %v", i, err)
			}
		}
		if (*all)[0].ev.IVORN == (*all)[1].ev.IVORN {
			t.Error("two test events share an ivorn")
		}
		if len(*noTests) != 0 {
			t.Errorf("a subscriber filtering out tests got %d events", len(*noTests))
		}
		if delivered != 0 {
			t.Errorf("%d test events reached the handlers", delivered)
		}
	})
}

// fakeRemote returns our end of a connection to a remote broker that
// authenticates at once, answers nothing else and hangs up after lifetime.
func fakeRemote(lifetime time.Duration) net.Conn {
	remote, local := net.Pipe()
	go func() {
		go io.Copy(io.Discard, remote)
		WriteFrame(remote, Authenticate("ivo://example.org/remote", time.Now()))
		time.Sleep(lifetime)
		remote.Close()
	}()
	return local
}
