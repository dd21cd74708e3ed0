package vtp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"comet/voevent"
)

const brokerIVO = "ivo://example.org/broker"

func TestRelayByteForByte(t *testing.T) {
	tb := startBroker(t, brokerIVO, nil)
	sub := dialSub(t, tb, subOpts{})
	id := ivorn("relay")
	ev := testEvent(id, "observation", "")
	a := mustAck(t, tb.recv, ev)
	if a.Origin != id || a.Response != brokerIVO || len(a.Results) != 0 {
		t.Errorf("ack = %+v, want Origin %s, Response %s, no Result", a, id, brokerIVO)
	}
	if got := sub.next(t); !bytes.Equal(got, ev) {
		t.Errorf("relayed %d bytes, differ from the %d sent", len(got), len(ev))
	}
}

func TestDuplicateAckedNotRelayed(t *testing.T) {
	tb := startBroker(t, brokerIVO, nil)
	sub := dialSub(t, tb, subOpts{})
	id := ivorn("dup")
	ev := testEvent(id, "observation", "")
	mustAck(t, tb.recv, ev)
	a := mustAck(t, tb.recv, ev)
	if len(a.Results) != 1 || !strings.Contains(a.Results[0], "already seen") {
		t.Errorf("duplicate ack results = %q, want an already-seen note", a.Results)
	}
	// A different XML declaration does not make a different event: the
	// VOEvent element is what is hashed (VTP 2.0 §8).
	redeclared := bytes.Replace(ev, []byte(`<?xml version="1.0" encoding="UTF-8"?>`), []byte(`<?xml version='1.0'?>`), 1)
	if a := mustAck(t, tb.recv, redeclared); len(a.Results) != 1 {
		t.Errorf("re-declared duplicate: results %q, want already seen", a.Results)
	}
	// Same ivorn, different bytes: a new event.
	changed := testEvent(id, "observation", `<Description>resent</Description>`)
	mustAck(t, tb.recv, changed)
	if got := sub.nextIVORN(t); got != id {
		t.Fatalf("first relayed %s", got)
	}
	if got := sub.next(t); !bytes.Equal(got, changed) {
		t.Errorf("second relayed event is not the changed one:\n%s", got)
	}
}

func TestAuthorRefusals(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) { c.Timers.AuthorTimeout = 300 * time.Millisecond })
	sub := dialSub(t, tb, subOpts{})
	valid := testEvent(ivorn("ok"), "observation", "")
	naks := []struct {
		name   string
		frame  []byte
		reason string
	}{
		{"malformed XML", valid[:len(valid)/2], "not well-formed"},
		{"entity", bytes.Replace(valid, []byte("<What>"), []byte("<What><Description>&boom;</Description>"), 1), "entity"},
		{"DTD", bytes.Replace(valid, []byte("?>\n"), []byte("?>\n<!DOCTYPE voe:VOEvent [<!ENTITY boom \"x\">]>\n"), 1), "DOCTYPE"},
		{"schema-invalid", bytes.Replace(testEvent(ivorn("schema"), "observation", ""), []byte("<Who>"), []byte("<Who><Bogus/>"), 1), "Bogus"},
		{"version 1.1", bytes.Replace(testEvent(ivorn("v11"), "observation", ""), []byte(`version="2.0"`), []byte(`version="1.1"`), 1), "version"},
		{"no local part", testEvent("ivo://example.org/test", "observation", ""), "ivorn"},
		{"not ivo", testEvent("http://example.org/test#x", "observation", ""), "ivorn"},
		{"event role on another root", []byte(`<Alert xmlns="urn:x" role="observation" ivorn="ivo://example.org/a#1"/>`), "root element Alert"},
	}
	for _, tt := range naks {
		a := publish(t, tb.recv, tt.frame)[0]
		if a.Role != RoleNak || len(a.Results) != 1 || !strings.HasPrefix(a.Results[0], "Event rejected: ") ||
			!strings.Contains(strings.ToLower(a.Results[0]), strings.ToLower(tt.reason)) {
			t.Errorf("%s: answer %s %q, want nak mentioning %q", tt.name, a.Role, a.Results, tt.reason)
		}
	}

	// Messages that get no answer at all: the connection is closed (bad
	// frames at once, the others after the author timeout).
	le := make([]byte, 4)
	binary.LittleEndian.PutUint32(le, uint32(len(valid)))
	silent := []struct {
		name  string
		bytes []byte
	}{
		{"transport message on the author port", Frame(IAmAlive("ivo://example.org/author", time.Now()))},
		{"unknown role", Frame(testEvent(ivorn("role"), "bogus", ""))},
		{"little-endian length", append(le, valid...)},
		{"2^31-1 length", []byte{0x7f, 0xff, 0xff, 0xff, '<', 'x', '/', '>'}},
		{"half a frame, then silence", []byte{0, 0, 3, 232, '<', 'V', 'O'}},
		{"nothing at all", nil},
	}
	for _, tt := range silent {
		c, err := net.Dial("tcp", tb.recv)
		if err != nil {
			t.Fatal(err)
		}
		c.Write(tt.bytes)
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, err := c.Read(make([]byte, 1))
		if n != 0 || !errors.Is(err, io.EOF) && !isReset(err) {
			t.Errorf("%s: read %d bytes, %v; want the connection closed without an answer", tt.name, n, err)
		}
		c.Close()
	}

	// The broker still serves, and relayed none of the above.
	mustAck(t, tb.recv, valid)
	if got, want := sub.next(t), valid; !bytes.Equal(got, want) {
		t.Errorf("first relayed event is not the valid one:\n%s", got)
	}
	for _, want := range []string{"not well-formed", "incomprehensible", "bad frame", "no complete message in time"} {
		if !strings.Contains(tb.log.String(), want) {
			t.Errorf("log does not mention %q", want)
		}
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}

func TestEventWithoutRoleIsObservation(t *testing.T) {
	tb := startBroker(t, brokerIVO, nil)
	sub := dialSub(t, tb, subOpts{filters: []string{`/*[@role="observation" or not(@role)]`}})
	id := ivorn("norole")
	mustAck(t, tb.recv, testEvent(id, "", ""))
	if got := sub.nextIVORN(t); got != id {
		t.Errorf("relayed %s, want %s", got, id)
	}
	ev := <-tb.delivered
	if ev.Role != "observation" {
		t.Errorf("role = %q, want observation", ev.Role)
	}
}

func TestPipelinedEventsEachAnswered(t *testing.T) {
	tb := startBroker(t, brokerIVO, nil)
	a, b := ivorn("p1"), ivorn("p2")
	answers := publish(t, tb.recv, testEvent(a, "test", ""), testEvent(b, "test", ""))
	if answers[0].Origin != a || answers[1].Origin != b || answers[0].Role != RoleAck || answers[1].Role != RoleAck {
		t.Errorf("answers %+v", answers)
	}
}

func TestStorageFailureNaks(t *testing.T) {
	tb := startBroker(t, brokerIVO, nil)
	sub := dialSub(t, tb, subOpts{})
	tb.seen.fail.Store(true)
	a := publish(t, tb.recv, testEvent(ivorn("nostore"), "test", ""))[0]
	if a.Role != RoleNak || !strings.Contains(a.Results[0], ReasonStorageFailure) {
		t.Errorf("answer %s %q, want nak for storage failure", a.Role, a.Results)
	}
	tb.seen.fail.Store(false)
	id := ivorn("stored")
	mustAck(t, tb.recv, testEvent(id, "test", ""))
	if got := sub.nextIVORN(t); got != id {
		t.Errorf("relayed %s, want only %s", got, id)
	}
}

func TestSubscriberNakKeepsSubscription(t *testing.T) {
	tb := startBroker(t, brokerIVO, nil)
	sub := dialSub(t, tb, subOpts{nak: true})
	for i := range 3 {
		id := ivorn("nak")
		mustAck(t, tb.recv, testEvent(id, "test", ""))
		if got := sub.nextIVORN(t); got != id {
			t.Fatalf("event %d: got %s, want %s", i, got, id)
		}
	}
	tb.log.waitLog(t, "subscriber refused an event")
	if strings.Contains(tb.log.String(), "subscriber dropped") {
		t.Error("a subscriber was dropped for a nak")
	}
}

func TestFilters(t *testing.T) {
	tb := startBroker(t, brokerIVO, nil)
	xParam := `//Param[@name="x" and @value>5]`
	notTest := `/*[local-name()="VOEvent" and @role!="test"]`
	subs := []struct {
		filters []string
		want    string
	}{
		{[]string{xParam}, "f1 f3 end"},
		{[]string{notTest}, "f2 f3 end"},
		{[]string{xParam, notTest}, "f1 f2 f3 end"},
		{[]string{`boolean(//Param[@name="x" and @value=1])`}, "f4 end"},
		{[]string{`//Param[@name=`}, "f1 f2 f3 f4 end"}, // invalid: ignored, so everything
		{[]string{`//Param[@name=`, `//Who[AuthorIVORN="ivo://example.org/author"]`}, "f1 f2 f3 f4 end"},
		{[]string{`number(//Param[@name="x"]/@value) - 7`}, "f2 f3 f4 end"}, // zero is no match, NaN would be
		// Parses but cannot be evaluated (no prefix is bound): kept, never matches.
		{[]string{`//voe:Param`, xParam}, "f1 f3 end"},
		{nil, "f1 f2 f3 f4 end"},
	}
	clients := make([]*testSub, len(subs))
	for i, s := range subs {
		clients[i] = dialSub(t, tb, subOpts{filters: s.filters})
	}
	param := func(v string) string { return `<Param name="x" value="` + v + `"/>` }
	events := []struct{ tag, role, x string }{
		{"f1", "test", "7"}, {"f2", "observation", "3"}, {"f3", "observation", "9"}, {"f4", "test", "1"},
	}
	for _, e := range events {
		ev := bytes.Replace(testEvent("ivo://example.org/test#"+e.tag+"-"+t.Name(), e.role, ""),
			[]byte(`<Param name="x" value="7" dataType="int"/>`), []byte(param(e.x)), 1)
		mustAck(t, tb.recv, ev)
	}
	// An event every filter accepts ends the sequence.
	end := bytes.Replace(testEvent("ivo://example.org/test#end-"+t.Name(), "utility", ""),
		[]byte(`<Param name="x" value="7" dataType="int"/>`), []byte(param("1e1")+param("1")), 1)
	mustAck(t, tb.recv, end)
	for i, s := range subs {
		want := s.want
		var got []string
		for {
			id := clients[i].nextIVORN(t)
			tag, _, _ := strings.Cut(id[strings.IndexByte(id, '#')+1:], "-")
			got = append(got, tag)
			if tag == "end" {
				break
			}
		}
		if g := strings.Join(got, " "); g != want {
			t.Errorf("filters %q: got %s, want %s", s.filters, g, want)
		}
	}
}

func TestSlowSubscriberIsolation(t *testing.T) {
	tb := startBroker(t, brokerIVO, nil)
	good := dialSub(t, tb, subOpts{})
	// A subscriber that connects and never reads anything.
	stalled, err := net.Dial("tcp", tb.bcast)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	deadline := time.Now().Add(10 * time.Second)
	for tb.Subscribers() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("stalled subscriber never registered")
		}
		time.Sleep(time.Millisecond)
	}
	// 100 events of 100 KB: far more than the stalled connection's socket
	// buffers hold, so its writer blocks for good.
	pad := "<Description>" + strings.Repeat("x", 100_000) + "</Description>"
	var worst time.Duration
	for i := range 100 {
		id := ivorn("slow")
		start := time.Now()
		mustAck(t, tb.recv, testEvent(id, "test", pad))
		if got := good.nextIVORN(t); got != id {
			t.Fatalf("event %d: good subscriber got %s", i, got)
		}
		worst = max(worst, time.Since(start))
	}
	t.Logf("worst publish-to-delivery time for the good subscriber: %v", worst)
	if strings.Contains(tb.log.String(), "subscriber dropped") {
		t.Errorf("a subscriber was dropped; the stalled one should just be blocked:\n%s", tb.log.String())
	}
}

func TestStalledSubscriberDroppedWhenQueueFull(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) { c.QueueLen = 4 })
	good := dialSub(t, tb, subOpts{})
	stalled, err := net.Dial("tcp", tb.bcast)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	for tb.Subscribers() < 2 {
		time.Sleep(time.Millisecond)
	}
	pad := "<Description>" + strings.Repeat("x", 100_000) + "</Description>"
	for range 100 {
		id := ivorn("full")
		mustAck(t, tb.recv, testEvent(id, "test", pad))
		if got := good.nextIVORN(t); got != id {
			t.Fatalf("good subscriber got %s, want %s", got, id)
		}
	}
	tb.log.waitLog(t, "too slow")
	// The stalled subscriber's connection is closed: after what was
	// buffered, it reads EOF.
	stalled.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, stalled); err != nil && !isReset(err) {
		t.Errorf("stalled subscriber: %v, want EOF", err)
	}
}

func TestWhitelists(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) {
		p, _ := ParseNetwork("127.0.0.1/32")
		c.AuthorWhitelist = Whitelist{p}
		c.SubscriberWhitelist = Whitelist{p}
	})
	// Our listeners are on 127.0.0.1; connect from 127.0.0.2, which Linux
	// routes over loopback too.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 5 * time.Second}
	for _, addr := range []string{tb.recv, tb.bcast} {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Skipf("cannot bind 127.0.0.2: %v", err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		WriteFrame(c, testEvent(ivorn("refused"), "test", ""))
		if n, err := c.Read(make([]byte, 1)); n != 0 || err == nil {
			t.Errorf("%s from 127.0.0.2: read %d, %v; want closed", addr, n, err)
		}
		c.Close()
	}
	tb.log.waitLog(t, "not in whitelist")
	dialSub(t, tb, subOpts{})
	mustAck(t, tb.recv, testEvent(ivorn("allowed"), "test", ""))
}

func TestWhitelistIPv6(t *testing.T) {
	l, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	l.Close()
	v4only, _ := ParseNetwork("127.0.0.0/8")
	v6only, _ := ParseNetwork("::1/128")
	for _, tt := range []struct {
		wl      Whitelist
		from    string
		allowed bool
	}{
		{nil, "::1", true}, // the default admits IPv6 too
		{Whitelist{v4only}, "::1", false},
		{Whitelist{v6only}, "::1", true},
		{Whitelist{v6only}, "127.0.0.1", false},
	} {
		tb := New(Config{LocalIVO: brokerIVO, AuthorWhitelist: tt.wl, SubscriberWhitelist: tt.wl, Logger: discardLogger()})
		for _, port := range []string{"receive", "broadcast"} {
			l, err := net.Listen("tcp", "[::]:0")
			if err != nil {
				t.Skipf("no dual-stack listener: %v", err)
			}
			serve := tb.ServeAuthors
			if port == "broadcast" {
				serve = tb.ServeSubscribers
			}
			go serve(l)
			_, p, _ := net.SplitHostPort(l.Addr().String())
			c, err := net.Dial("tcp", net.JoinHostPort(tt.from, p))
			if err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			if port == "receive" {
				WriteFrame(c, testEvent(ivorn("v6"), "test", ""))
			}
			_, err = ReadFrame(bufio.NewReader(c), DefaultMaxFrame)
			if got := err == nil; got != tt.allowed {
				t.Errorf("%s port, whitelist %v, from %s: answered=%v (%v), want %v", port, tt.wl, tt.from, got, err, tt.allowed)
			}
			c.Close()
		}
		shutdown(t, tb)
	}
}

func TestOversizedEventNaked(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) { c.MaxFrame = 4096 })
	sub := dialSub(t, tb, subOpts{})
	big := testEvent(ivorn("big"), "test", "<Description>"+strings.Repeat("x", 5000)+"</Description>")
	small := testEvent(ivorn("small"), "test", "")
	// Both on one connection: the oversized frame is read and refused,
	// and the connection goes on to the next event.
	answers := publish(t, tb.recv, big, small)
	if a := answers[0]; a.Role != RoleNak || !strings.Contains(a.Results[0], "exceeds this broker's limit of 4096 bytes") {
		t.Errorf("oversized event: %s %q", a.Role, a.Results)
	}
	if answers[1].Role != RoleAck {
		t.Errorf("next event: %s %q", answers[1].Role, answers[1].Results)
	}
	if got := sub.next(t); !bytes.Equal(got, small) {
		t.Errorf("relayed %.60q, want only the small event", got)
	}
}

// TestFilterCompileErrors pins down which filters count, as in Comet: a
// syntax error is ignored; an expression lxml compiles but cannot
// evaluate is kept and never matches.
func TestFilterCompileErrors(t *testing.T) {
	b := New(Config{Logger: discardLogger()})
	ev, err := voevent.Parse(testEvent(ivorn("f"), "test", ""))
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		filters []string
		want    bool
	}{
		{nil, true},
		{[]string{`//Param[`}, true},               // syntax error: as if not sent
		{[]string{`//voe:Param`}, false},           // unbound prefix: never matches
		{[]string{`nosuch(//Param)`}, false},       // unknown function: never matches
		{[]string{`//voe:Param`, `//Param`}, true}, // the other filter still counts
		{[]string{`//Param[`, `//Nothing`}, false}, // only the valid filter counts
		{[]string{`//Param[@name="x"]`}, true},
	} {
		s := &subscriber{b: b, log: b.log}
		s.setFilters(tt.filters)
		if got := s.wants(ev); got != tt.want {
			t.Errorf("filters %q: wants = %v, want %v", tt.filters, got, tt.want)
		}
	}
}

// TestFromRemote checks every kind of message a remote broker may send:
// nothing is ever nak'd, events are acknowledged even when they are not
// relayed, and only new VOEvents are delivered.
func TestFromRemote(t *testing.T) {
	seen := newMemSeen()
	b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger(), Seen: seen.check, Filters: []string{"//Param"}})
	event := testEvent(ivorn("remote"), "observation", "")
	tests := []struct {
		name      string
		msg       []byte
		role      string // of the answer; "" for none
		origin    string
		delivered bool
		before    func()
	}{
		{"new event", event, RoleAck, "", true, nil},
		{"duplicate", event, RoleAck, "", false, nil},
		// Acked upstream, so it must not be lost: relayed all the same.
		{"seen store failing", testEvent(ivorn("fail"), "test", ""), RoleAck, "", true, func() { seen.fail.Store(true) }},
		{"unparsable", []byte("<voe:VOEvent"), RoleAck, "", false, func() { seen.fail.Store(false) }},
		{"event role, not a VOEvent", []byte(`<Alert role="observation" ivorn="ivo://x.y/z#1"/>`), RoleAck, "ivo://x.y/z#1", false, nil},
		{"schema-invalid VOEvent: not checked", []byte(`<VOEvent role="test" ivorn="nonsense"/>`), RoleAck, "nonsense", true, nil},
		{"iamalive", IAmAlive("ivo://example.org/up", time.Now()), RoleIAmAlive, "ivo://example.org/up", false, nil},
		{"authenticate", Authenticate("ivo://example.org/up", time.Now()), RoleAuthenticate, "ivo://example.org/up", false, nil},
		{"incomprehensible", []byte(`<Transport role="hello"/>`), "", "", false, nil},
	}
	for _, tt := range tests {
		if tt.before != nil {
			tt.before()
		}
		var w warnings
		reply, ev := b.remoteAnswer(tt.msg, discardLogger(), &w)
		if got := ev != nil; got != tt.delivered {
			t.Errorf("%s: delivered = %v, want %v", tt.name, got, tt.delivered)
		}
		if tt.role == "" {
			if reply != nil {
				t.Errorf("%s: answered %s, want no answer", tt.name, reply)
			}
			continue
		}
		r, err := voevent.Parse(reply)
		if err != nil {
			t.Fatalf("%s: unparsable answer: %v", tt.name, err)
		}
		a := ParseTransport(r)
		if a.Role != tt.role || tt.origin != "" && a.Origin != tt.origin || a.Response != brokerIVO {
			t.Errorf("%s: answer %+v, want role %s origin %q", tt.name, a, tt.role, tt.origin)
		}
		if tt.role == RoleAuthenticate && (len(a.Filters) != 1 || a.Filters[0] != "//Param") {
			t.Errorf("authenticate response carries filters %q", a.Filters)
		}
	}
}
