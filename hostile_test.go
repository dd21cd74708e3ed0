package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"comet/handlers"
	"comet/voevent"
	"comet/vtp"
)

// namespaceBomb is a 12 KB Transport message whose root declares 300
// namespaces over 1,300 children (390,000 namespace nodes in the XPath
// data model). Sent to the subscriber port, it once killed the broker.
func namespaceBomb(role string) []byte {
	var b strings.Builder
	b.WriteString(`<trn:Transport xmlns:trn="http://www.telescope-networks.org/xml/Transport/v1.1" version="1.0" role="` + role + `"`)
	for i := range 300 {
		fmt.Fprintf(&b, ` xmlns:n%d="urn:example:ns:%d"`, i, i)
	}
	b.WriteString(">" + strings.Repeat("<a/>", 1300) + "</trn:Transport>")
	return []byte(b.String())
}

// TestProcSubscriberBomb sends the message that crashed the broker to the
// subscriber port of a real process, in each role that gets parsed in
// full, then checks an author's event is still acked and relayed.
func TestProcSubscriberBomb(t *testing.T) {
	p := startProc(t, "--eventdb="+t.TempDir())
	relayed := subscriber(t, p.bcast)
	for _, role := range []string{vtp.RoleNak, vtp.RoleAuthenticate, vtp.RoleAck} {
		c, err := net.Dial("tcp", p.bcast)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := vtp.WriteFrame(c, namespaceBomb(role)); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, p, func(log string) bool { return strings.Count(log, "unparsable message from subscriber") == 3 })
	id := "ivo://example.org/proc#after-bomb"
	answer, err := sendEvent(p.recv, procEvent(id), 5*time.Second)
	if err != nil || answer.Role != vtp.RoleAck {
		t.Fatalf("after the bomb: %v, %v\n%s", answer, err, p.stderr)
	}
	select {
	case got := <-relayed:
		if got != id {
			t.Errorf("relayed %s, want %s", got, id)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("not relayed after the bomb:\n%s", p.stderr)
	}
}

// TestProcSIGHUP: SIGHUP, which log rotation sends, is logged and the
// broker goes on serving (its default action would kill the process).
func TestProcSIGHUP(t *testing.T) {
	p := startProc(t, "--eventdb="+t.TempDir())
	for range 2 {
		if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, p, func(log string) bool { return strings.Contains(log, "SIGHUP received") })
	answer, err := sendEvent(p.recv, procEvent("ivo://example.org/proc#after-hup"), 5*time.Second)
	if err != nil || answer.Role != vtp.RoleAck {
		t.Fatalf("after SIGHUP: %v, %v\n%s", answer, err, p.stderr)
	}
	select {
	case <-p.exited:
		t.Fatalf("exited after SIGHUP: %v\n%s", p.err, p.stderr)
	default:
	}
}

// waitFor waits up to 10 s for the process's log to satisfy ok.
func waitFor(t *testing.T, p *proc, ok func(log string) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok(p.stderr.String()) {
		select {
		case <-p.exited:
			t.Fatalf("comet exited: %v\n%s", p.err, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("log never got there:\n%s", p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestStalledHandlerDelaysNothing: a handler that never returns (a
// --save-event on a hung disk, a plugin stuck on the network) lets its
// queue fill up and then skips events, while every event is still acked
// and relayed, and shutdown still returns by its deadline.
func TestStalledHandlerDelaysNothing(t *testing.T) {
	disp := handlers.NewDispatcher(discard())
	stuck := make(chan struct{})
	defer close(stuck)
	disp.Add("stuck", handlers.HandlerFunc(func(ctx context.Context, ev *voevent.Event) error {
		select {
		case <-stuck:
		case <-ctx.Done():
		}
		return nil
	}))
	b := vtp.New(vtp.Config{LocalIVO: "ivo://example.org/broker", Deliver: disp.Deliver, Logger: discard()})
	lr, _ := net.Listen("tcp", "127.0.0.1:0")
	lb, _ := net.Listen("tcp", "127.0.0.1:0")
	go b.ServeAuthors(lr)
	go b.ServeSubscribers(lb)
	defer b.Shutdown(context.Background())
	relayed := subscriber(t, lb.Addr().String())

	n := handlers.QueueLen + 100 // more than the stuck handler's queue holds
	c, err := net.Dial("tcp", lr.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	r := bufio.NewReader(c)
	go func() {
		for i := range n {
			vtp.WriteFrame(c, procEvent(fmt.Sprintf("ivo://example.org/proc#stalled-%d", i)))
		}
	}()
	for i := range n {
		raw, err := vtp.ReadFrame(r, vtp.DefaultMaxFrame)
		if err != nil {
			t.Fatalf("answer %d of %d: %v", i+1, n, err)
		}
		if !strings.Contains(string(raw), `role="ack"`) {
			t.Fatalf("answer %d: %s", i+1, raw)
		}
	}
	for i := range n {
		select {
		case got := <-relayed:
			if want := fmt.Sprintf("ivo://example.org/proc#stalled-%d", i); got != want {
				t.Fatalf("relayed %s, want %s", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of %d events relayed", i, n)
		}
	}
	// One event is in the stuck Handle call, QueueLen wait, the rest were skipped.
	if st := disp.Stats()[0]; st.Queued != handlers.QueueLen || st.Skipped != int64(n-handlers.QueueLen-1) {
		t.Errorf("stuck handler: %+v, want %d queued and %d skipped", st, handlers.QueueLen, n-handlers.QueueLen-1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	disp.Close(ctx)
	if d := time.Since(start); d > 3*time.Second { // a stuck handler would make it wait for ever
		t.Errorf("Close took %v with a 1 s deadline", d)
	}
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
