package vtp

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestRepeatedAuthenticateLogsBounded: a subscriber that answers
// authenticate 20,000 times on one connection, with more filters than
// allowed, gets a handful of log lines, not one or two per answer, and
// another subscriber is served all the while.
func TestRepeatedAuthenticateLogsBounded(t *testing.T) {
	const n = 20000
	tb := startBroker(t, brokerIVO, func(c *Config) { c.MaxFilters = 1 })
	c, err := net.Dial("tcp", tb.bcast)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(150 * time.Second))
	r := bufio.NewReader(c)
	if _, err := ReadFrame(r, DefaultMaxFrame); err != nil { // the broker's authenticate
		t.Fatal(err)
	}
	go io.Copy(io.Discard, r) // whatever the broker sends next

	// All the answers, then one ack, built first and written at once. The
	// broker handles a connection's messages in order, so once its
	// Snapshot counts the ack, it has taken every answer.
	var frames bytes.Buffer
	answer := AuthenticateResponse(brokerIVO, "ivo://example.org/noisy", []string{"//Param", "//What"}, time.Now())
	for range n {
		WriteFrame(&frames, answer)
	}
	WriteFrame(&frames, Ack(ivorn("after-answers"), "ivo://example.org/noisy", "", time.Now()))
	if _, err := c.Write(frames.Bytes()); err != nil {
		t.Fatal(err)
	}
	addr := c.LocalAddr().String()
	taken := func() bool {
		for _, s := range tb.Snapshot().Subscribers {
			if s.Addr == addr && s.Acks == 1 {
				return true
			}
		}
		return false
	}
	deadline := time.Now().Add(120 * time.Second)
	for !taken() {
		if time.Now().After(deadline) {
			t.Fatalf("the broker did not take the %d answers in 120 s", n)
		}
		time.Sleep(5 * time.Millisecond)
	}

	sub := dialSub(t, tb, subOpts{})
	id := ivorn("after-noise")
	mustAck(t, tb.recv, testEvent(id, "test", ""))
	if got := sub.nextIVORN(t); got != id {
		t.Fatalf("the other subscriber got %s, want %s", got, id)
	}

	log := tb.log.String()
	authed := strings.Count(log, `msg="subscriber authenticated"`)
	tooMany := strings.Count(log, "more filters than allowed")
	t.Logf("%d answers: %d authenticated lines, %d too-many-filters lines, %d lines in all",
		n, authed, tooMany, strings.Count(log, "\n"))
	// The noisy subscriber's burst, the later one's line, and one more
	// for each should a minute pass on a slow machine.
	if authed < 2 || authed > warnBurst+3 {
		t.Errorf("%d 'subscriber authenticated' lines for %d answers, want at most %d", authed, n, warnBurst+3)
	}
	if tooMany < 1 || tooMany > warnBurst+2 {
		t.Errorf("%d 'more filters than allowed' lines for %d answers, want at most %d", tooMany, n, warnBurst+2)
	}
	if lines := strings.Count(log, "\n"); lines > 100 {
		t.Errorf("%d log lines for %d answers", lines, n)
	}
}
