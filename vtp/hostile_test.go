package vtp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"comet/voevent"
)

// Each test here builds a message or a behaviour a hostile peer could
// send, and checks that the broker refuses it cheaply and goes on serving
// everyone else.

// namespaceBomb is a Transport message of about 12 KB whose root declares
// 300 namespaces and has 1,300 children: in the XPath data model every
// child carries 300 namespace nodes, 390,000 in all, over the parser's node
// limit. It once passed the root-only parse of subscribers' messages and
// then crashed the broker when parsed in full.
func namespaceBomb(role string) []byte {
	var b strings.Builder
	b.WriteString(`<trn:Transport xmlns:trn="http://www.telescope-networks.org/xml/Transport/v1.1" version="1.0" role="` + role + `"`)
	for i := range 300 {
		fmt.Fprintf(&b, ` xmlns:n%d="urn:example:ns:%d"`, i, i)
	}
	b.WriteString(">")
	for range 1300 {
		b.WriteString("<a/>")
	}
	b.WriteString("</trn:Transport>")
	return []byte(b.String())
}

func TestSubscriberNamespaceBombIsIgnored(t *testing.T) {
	tb := startBroker(t, brokerIVO, nil)
	other := dialSub(t, tb, subOpts{})
	for _, role := range []string{RoleAck, RoleNak, RoleAuthenticate, RoleIAmAlive} {
		hostile := dialSub(t, tb, subOpts{})
		if err := WriteFrame(hostile.c, namespaceBomb(role)); err != nil {
			t.Fatal(err)
		}
		tb.log.waitLog(t, "unparsable message from subscriber: ignored")
		id := ivorn("after-bomb-" + role)
		mustAck(t, tb.recv, testEvent(id, "test", ""))
		for _, s := range []*testSub{other, hostile} {
			if got := s.nextIVORN(t); got != id {
				t.Fatalf("after a %s bomb: subscriber got %s, want %s", role, got, id)
			}
		}
	}
}

// TestSubscriberFilterLimits: a subscriber keeps only its first
// MaxFilters filters, and only as many as fit in MaxFilterBytes; a filter
// beyond either limit has no effect.
func TestSubscriberFilterLimits(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) { c.MaxFilterBytes = 1200 })
	// Every test event has a Param named x; only the marker has one named m.
	never := make([]string, DefaultMaxFilters)
	for i := range never {
		never[i] = `//Param[@name="m"]`
	}
	tooMany := dialSub(t, tb, subOpts{filters: append(never, `//Param[@name="x"]`)})
	tb.log.waitLog(t, "kept=64")
	tooLong := dialSub(t, tb, subOpts{filters: []string{`//Param[@name="m"]`, `//Param[@name="x" or @name="` + strings.Repeat("y", 1300) + `"]`}})
	tb.log.waitLog(t, "kept=1")
	control := dialSub(t, tb, subOpts{filters: []string{"//Param"}})

	id := ivorn("limits")
	mustAck(t, tb.recv, testEvent(id, "test", ""))
	if got := control.nextIVORN(t); got != id {
		t.Fatalf("control subscriber got %s", got)
	}
	// The control has its event, so the others' writers have decided too;
	// a marker event that all of them accept shows nothing came before it.
	marker := ivorn("marker")
	mustAck(t, tb.recv, testEvent(marker, "test", `<Param name="m" value="1"/>`))
	for name, s := range map[string]*testSub{"65 filters": tooMany, "over the byte limit": tooLong} {
		if got := s.nextIVORN(t); got != marker {
			t.Errorf("%s: got %s first, want only the marker %s", name, got, marker)
		}
	}
	if n := strings.Count(tb.log.String(), "more filters than allowed"); n != 2 {
		t.Errorf("logged the cut %d times, want once per subscriber", n)
	}
}

// manyParams is What content with n Params, to make cubic filters costly.
func manyParams(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `<Param name="p%d" value="%d"/>`, i, i)
	}
	return b.String()
}

// expensive is cubic in the number of elements: on an event with 500
// Params it exhausts the whole per-event work budget by itself.
const expensive = `count(//*[count(//*[count(//*) > 0]) > 0]) = 0`

// TestFiltersShareOneBudget: a subscriber's filters spend one work budget
// per event between them, so an expensive first filter leaves nothing for
// the next (which would match), and installing many expensive filters
// costs no more than one.
func TestFiltersShareOneBudget(t *testing.T) {
	ev, err := voevent.Parse(testEvent(ivorn("budget"), "test", manyParams(500)))
	if err != nil {
		t.Fatal(err)
	}
	b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger()})
	s := &subscriber{b: b, log: b.log, done: make(chan struct{})}
	s.setFilters([]string{`//Param[@name="p1"]`})
	if !s.wants(ev) {
		t.Fatal("a cheap matching filter alone does not match")
	}
	s.setFilters([]string{expensive, `//Param[@name="p1"]`})
	if s.wants(ev) {
		t.Error("the filter after an expensive one matched: filters do not share one budget")
	}
	filters := make([]string, DefaultMaxFilters)
	for i := range filters {
		filters[i] = expensive
	}
	s.setFilters(filters)
	if s.wants(ev) {
		t.Error("expensive filters matched")
	}
}

// TestGoneSubscriberCostsNothing: once a subscriber is dropped, events
// still queued for it are not filtered.
func TestGoneSubscriberCostsNothing(t *testing.T) {
	ev, err := voevent.Parse(testEvent(ivorn("gone"), "test", ""))
	if err != nil {
		t.Fatal(err)
	}
	b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger()})
	srv, cli := net.Pipe()
	defer cli.Close()
	s := &subscriber{b: b, c: srv, log: b.log, done: make(chan struct{})}
	s.setFilters([]string{"//Param"})
	s.drop("")
	if s.wants(ev) {
		t.Error("a dropped subscriber's filters were evaluated")
	}
	if s.write([]item{{ev: ev, msg: ev.Raw}}, new(scratch)) {
		t.Error("write to a dropped subscriber reported success")
	}
	if n := s.outstanding.Load(); n != 0 {
		t.Errorf("%d events counted as sent to a dropped subscriber", n)
	}
}

// holdConn dials addr from the local address from (empty: any) and
// returns the connection, closed at the end of the test.
func holdConn(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitConns waits until the broker counts n accepted connections: a dial
// returns once the kernel has the connection, maybe before the broker's
// accept loop has taken it.
func waitConns(t *testing.T, b *Broker, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		b.conns.mu.Lock()
		got := b.conns.total
		b.conns.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("broker counts %d connections, want %d", got, n)
		}
	}
}

// refused reports whether the broker closed c without a word within wait.
// A kept author connection hears nothing either, so where a refusal is
// expected the wait is long enough for a loaded machine (it is only spent
// when the test fails), and short where the connection should be kept.
func refused(t *testing.T, c net.Conn, wait time.Duration) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(fmt.Sprint(err), "reset")
}

func TestConnectionLimitPerAddress(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) { c.MaxConnsPerAddr = 3 })
	var held []net.Conn
	for range 3 {
		held = append(held, holdConn(t, "127.0.0.1", tb.recv))
	}
	extra := holdConn(t, "127.0.0.1", tb.recv)
	if !refused(t, extra, 5*time.Second) {
		t.Fatal("a fourth connection from one address was kept")
	}
	tb.log.waitLog(t, "--max-connections-per-address")
	// Other addresses and the other port are not affected, and the held
	// connections still work.
	other := holdConn(t, "127.0.0.2", tb.recv)
	if refused(t, other, 500*time.Millisecond) {
		t.Error("a connection from another address was refused")
	}
	dialSub(t, tb, subOpts{})
	if err := WriteFrame(held[0], testEvent(ivorn("held"), "test", "")); err != nil {
		t.Fatal(err)
	}
	held[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := ReadFrame(bufio.NewReader(held[0]), DefaultMaxFrame); err != nil {
		t.Fatalf("a held connection got no answer: %v", err)
	}
	// Closing one makes room for another.
	held[1].Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := holdConn(t, "127.0.0.1", tb.recv)
		if !refused(t, c, 500*time.Millisecond) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a connection closed by its peer still counts against the limit")
		}
	}
}

func TestConnectionLimitTotal(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) { c.MaxConns = 2 })
	holdConn(t, "127.0.0.1", tb.recv)
	holdConn(t, "127.0.0.2", tb.bcast)
	waitConns(t, tb.Broker, 2) // both accepted, not merely dialled
	if !refused(t, holdConn(t, "127.0.0.3", tb.recv), 5*time.Second) {
		t.Fatal("a third connection was kept with --max-connections=2")
	}
	tb.log.waitLog(t, "--max-connections ")
}

// TestAuthorNonEventFramesDoNotExtendTimeout: frames that are not events
// (a Transport message every 5 s) do not keep an author connection open
// past AuthorTimeout; each event does extend it.
func TestAuthorNonEventFramesDoNotExtendTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger()})
		defer shutdown(t, b)
		srv, cli := net.Pipe()
		defer cli.Close()
		start := time.Now()
		go b.HandleAuthor(srv)
		r := bufio.NewReader(cli)
		closed := make(chan time.Time, 1)
		go func() { closed <- closedAt(t, r) }()
		// An event at 10 s restarts the clock: the connection may live
		// until 30 s, whatever else it sends.
		time.Sleep(10 * time.Second)
		WriteFrame(cli, testEvent(ivorn("keep"), "test", ""))
		for range 10 {
			time.Sleep(5 * time.Second)
			if WriteFrame(cli, IAmAlive("ivo://example.org/author", time.Now())) != nil {
				break
			}
		}
		if d := (<-closed).Sub(start); d != 30*time.Second {
			t.Errorf("closed after %v, want 30s (20 s after the only event)", d)
		}
	})
}

// TestNakAndLogBounded: a 1 MB value in a refused event makes neither a
// large nak nor a large log line.
func TestNakAndLogBounded(t *testing.T) {
	tb := startBroker(t, brokerIVO, nil)
	const size = 900 << 10 // under the 1 MiB frame limit
	for name, ev := range map[string][]byte{
		"attribute": testEvent(ivorn("big"), "test", `<Param name="y" value="`+strings.Repeat("&quot;&amp;&lt;", size/15)+`" dataType="bogus"/>`),
		"ivorn":     testEvent("ivo://example.org/"+strings.Repeat("a", size)+"#x", "test", "<Bogus/>"),
		"name":      testEvent(ivorn("name"), "test", "<"+strings.Repeat("n", size)+"/>"),
		"malformed": []byte(`<voe:VOEvent ivorn="` + strings.Repeat("x", size)),
	} {
		c := holdConn(t, "", tb.recv)
		if err := WriteFrame(c, ev); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		nak, err := ReadFrame(bufio.NewReader(c), DefaultMaxFrame)
		if err != nil {
			t.Fatalf("%s: no answer: %v", name, err)
		}
		if len(nak) >= 1024 {
			t.Errorf("%s: nak of %d bytes: %.300s", name, len(nak), nak)
		}
		e, err := voevent.Parse(nak)
		if err != nil {
			t.Fatalf("%s: the clipped nak is not XML: %v", name, err)
		}
		if tr := ParseTransport(e); tr.Role != RoleNak || len(tr.Results) != 1 {
			t.Errorf("%s: answer %+v, want a nak with its reason", name, tr)
		}
		c.Close()
	}
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(tb.log.String(), "author disconnected") < 4 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for _, line := range strings.Split(tb.log.String(), "\n") {
		if len(line) >= 1024 {
			t.Errorf("log line of %d bytes: %.300s", len(line), line)
		}
	}
}

// TestPanicClosesOnlyThatConnection: a bug that panics while serving one
// connection is logged with the peer's address and closes that connection;
// the broker goes on serving.
func TestPanicClosesOnlyThatConnection(t *testing.T) {
	tb := startBroker(t, brokerIVO, func(c *Config) {
		c.Validate = func(ev *voevent.Event) error {
			if strings.Contains(ev.IVORN, "boom") {
				panic("validator bug")
			}
			return voevent.Validate(ev)
		}
	})
	sub := dialSub(t, tb, subOpts{})
	c := holdConn(t, "", tb.recv)
	WriteFrame(c, testEvent(ivorn("boom"), "test", ""))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := ReadFrame(bufio.NewReader(c), DefaultMaxFrame); err == nil {
		t.Error("the connection that hit the bug was answered")
	}
	tb.log.waitLog(t, "internal error serving a connection: closing it")
	tb.log.waitLog(t, "validator bug")
	id := ivorn("after-panic")
	mustAck(t, tb.recv, testEvent(id, "test", ""))
	if got := sub.nextIVORN(t); got != id {
		t.Errorf("subscriber got %s, want %s", got, id)
	}
}

// TestRemoteStoreFailureStillRelays: an event from a remote broker is
// acknowledged upstream whatever happens, so when the seen store cannot
// record it durably it is relayed all the same, and an error is logged.
func TestRemoteStoreFailureStillRelays(t *testing.T) {
	kept := map[string]bool{}
	b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger(),
		SeenRemote: func(el []byte) (bool, error) {
			first := !kept[string(el)]
			kept[string(el)] = true
			return first, errors.New("disk full")
		}})
	event := testEvent(ivorn("remote-fail"), "test", "")
	var w warnings
	reply, ev := b.remoteAnswer(event, discardLogger(), &w)
	if ev == nil {
		t.Fatal("an event the store could not write durably was dropped")
	}
	if r, err := voevent.Parse(reply); err != nil || r.Role != RoleAck {
		t.Fatalf("answer %q, want an ack", reply)
	}
	// The store still remembers it, so a copy coming back is not relayed.
	if _, again := b.remoteAnswer(event, discardLogger(), &w); again != nil {
		t.Error("a copy of an event kept in memory was relayed again")
	}
}

// TestFiltersLoggedAsCount: at INFO the log says how many filters a
// subscriber installed, not what they are (a subscriber could make every
// authenticate cost a 64 KiB log line); DEBUG shows them.
func TestFiltersLoggedAsCount(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var log logBuf
		b := New(Config{LocalIVO: brokerIVO, Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: level}))})
		s := &subscriber{b: b, log: b.log, debug: level == slog.LevelDebug, done: make(chan struct{})}
		s.setFilters([]string{`//Param[@name="secret-one"]`, `//Param[@name="secret-two"]`, `//Why`})
		out := log.String()
		if !strings.Contains(out, `msg="subscriber authenticated" filters=3`) {
			t.Errorf("%v: log does not count the filters:\n%s", level, out)
		}
		if shown := strings.Contains(out, "secret-one"); shown != (level == slog.LevelDebug) {
			t.Errorf("%v: filter text in the log = %v:\n%s", level, shown, out)
		}
	}
}
