package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"comet/voevent"
	"comet/vtp"
)

// obsEvent is procEvent with role observation.
func obsEvent(id string) []byte {
	return []byte(strings.Replace(string(procEvent(id)), `role="test"`, `role="observation"`, 1))
}

// freePort returns a loopback port nobody listens on now, so that a
// broker can be restarted on the same one.
func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startAt starts comet on fixed loopback ports (recv, bcast as host:port)
// and waits until both listen.
func startAt(t testing.TB, recv, bcast string, args ...string) *proc {
	t.Helper()
	// A port freed by a killed broker can be taken for a while as the
	// local port of some client connection: try again then.
	for range 50 {
		if p := tryStartAt(t, recv, bcast, args...); p != nil {
			return p
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("ports %s and %s stayed in use", recv, bcast)
	return nil
}

// tryStartAt is startAt once; nil if a port was in use.
func tryStartAt(t testing.TB, recv, bcast string, args ...string) *proc {
	t.Helper()
	_, rp, _ := net.SplitHostPort(recv)
	_, bp, _ := net.SplitHostPort(bcast)
	args = append([]string{"--receive=tcp:" + rp + ":interface=127.0.0.1", "--broadcast=tcp:" + bp + ":interface=127.0.0.1",
		"--local-ivo=ivo://example.org/proc", "--broadcast-test-interval=0", "--remote-backoff-max=1"}, args...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "COMET_TEST_MAIN=1")
	p := &proc{cmd: cmd, stderr: &syncBuf{}, exited: make(chan struct{}), recv: recv, bcast: bcast}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	p.waitFor(t, "listening on "+recv+" and "+bcast, func() bool {
		s := p.stderr.String()
		if strings.Contains(s, "address already in use") {
			return true
		}
		return strings.Contains(s, "addr=tcp:"+recv) && strings.Contains(s, "addr=tcp:"+bcast)
	})
	if strings.Contains(p.stderr.String(), "address already in use") {
		<-p.exited
		return nil
	}
	return p
}

// proxy forwards connections from its port to target until cut, which
// closes them and refuses new ones until restore.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	down   bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	t.Cleanup(func() { l.Close(); p.cut() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			down := p.down
			p.mu.Unlock()
			if down {
				c.Close()
				continue
			}
			u, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, u)
			p.mu.Unlock()
			go func() { io.Copy(u, c); u.Close(); c.Close() }()
			go func() { io.Copy(c, u); u.Close(); c.Close() }()
		}
	}()
	return p
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *proxy) restore() {
	p.mu.Lock()
	p.down = false
	p.mu.Unlock()
}

// replaySub is a subscriber speaking the replay extension that keeps its
// position across connections and reconnects until stopped, recording
// every event it receives (duplicates included).
type replaySub struct {
	addr    string
	mu      sync.Mutex
	id      string
	pos     uint64
	got     []string
	at      []time.Time // when each of got arrived
	stop    chan struct{}
	stopped chan struct{}
	conn    net.Conn
}

func startReplaySub(t testing.TB, addr string) *replaySub {
	s := &replaySub{addr: addr, stop: make(chan struct{}), stopped: make(chan struct{})}
	go s.run()
	t.Cleanup(s.close)
	return s
}

func (s *replaySub) close() {
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	s.mu.Lock()
	if s.conn != nil {
		s.conn.Close()
	}
	s.mu.Unlock()
	<-s.stopped
}

func (s *replaySub) run() {
	defer close(s.stopped)
	for {
		select {
		case <-s.stop:
			return
		default:
		}
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		s.conn = c
		s.mu.Unlock()
		s.session(c)
		c.Close()
	}
}

func (s *replaySub) session(c net.Conn) {
	r := bufio.NewReader(c)
	var next uint64
	for {
		raw, err := vtp.ReadFrame(r, vtp.DefaultMaxFrame)
		if err != nil {
			return
		}
		now := time.Now()
		ev, err := voevent.Parse(raw)
		if err != nil {
			continue
		}
		switch {
		case ev.Role == vtp.RoleAuthenticate:
			s.mu.Lock()
			id, pos := s.id, s.pos
			s.mu.Unlock()
			vtp.WriteFrame(c, vtp.AuthenticateResponseAt(vtp.ParseTransport(ev).Origin, "ivo://example.org/rsub", nil, id, pos, now))
		case ev.Role == vtp.RoleIAmAlive:
			id, seq, isNext, ok, _ := vtp.ParsePosition(ev)
			switch {
			case ok && isNext:
				next = seq
				s.mu.Lock()
				s.id = id
				s.mu.Unlock()
				continue
			case ok:
				s.mu.Lock()
				s.id, s.pos = id, seq
				s.mu.Unlock()
			}
			vtp.WriteFrame(c, vtp.IAmAliveResponse(vtp.ParseTransport(ev).Origin, "ivo://example.org/rsub", now))
		case ev.IsVOEvent():
			s.mu.Lock()
			s.got = append(s.got, ev.IVORN)
			s.at = append(s.at, now)
			if next != 0 {
				s.pos = next
				next = 0
			}
			s.mu.Unlock()
			vtp.WriteFrame(c, vtp.Ack(ev.IVORN, "ivo://example.org/rsub", "", now))
		}
	}
}

func (s *replaySub) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// author publishes to a broker until stopped, one event at a time,
// resending an event until it is acknowledged, and records the order in
// which events were acknowledged.
type author struct {
	mu    sync.Mutex
	acked []string
	addr  func() string
	stop  chan struct{}
	done  chan struct{}
	n     int
}

func startAuthor(addr func() string, prefix string) *author {
	a := &author{addr: addr, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for i := 0; ; i++ {
			id := fmt.Sprintf("ivo://example.org/proc#%s-%d", prefix, i)
			for {
				select {
				case <-a.stop:
					return
				default:
				}
				// Every third event is a test alert: operators check
				// links with them, so they must come through outages
				// exactly once as observations do.
				raw := obsEvent(id)
				if i%3 == 2 {
					raw = procEvent(id)
				}
				ans, err := sendEvent(a.addr(), raw, 5*time.Second)
				if err == nil && ans.Role == vtp.RoleAck {
					a.mu.Lock()
					a.acked = append(a.acked, id)
					a.mu.Unlock()
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	return a
}

func (a *author) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.acked)
}

func (a *author) finish() []string {
	close(a.stop)
	<-a.done
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.acked
}

// waitCount waits until f() reaches n, failing after 60 s.
func waitCount(t *testing.T, what string, n int, f func() int, logs ...*proc) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for f() < n {
		if time.Now().After(deadline) {
			for _, p := range logs {
				t.Logf("log:\n%s", p.stderr)
			}
			t.Fatalf("%s: %d, want %d after 60 s", what, f(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkExactlyOnce fails unless got is want: every acknowledged event,
// once, in the order the author had them acknowledged.
func checkExactlyOnce(t *testing.T, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for i, g := range got {
		if j, dup := seen[g]; dup {
			t.Fatalf("%s received twice (at %d and %d)", g, j, i)
		}
		seen[g] = i
	}
	for _, w := range want {
		if _, ok := seen[w]; !ok {
			t.Fatalf("%s acknowledged by the first broker but never received (got %d of %d)", w, len(got), len(want))
		}
	}
	if len(got) != len(want) {
		t.Fatalf("received %d events, %d acknowledged", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("event %d is %s, want %s: out of order", i, got[i], want[i])
		}
	}
}

// chain is broker A, broker B subscribed to A through a proxy, and a
// replay subscriber of B.
type chain struct {
	aRecv, aBcast, bRecv, bBcast string
	aDB, bDB                     string
	a, b                         *proc
	px                           *proxy
	sub                          *replaySub
}

func startChain(t *testing.T) *chain {
	c := &chain{aRecv: freePort(t), aBcast: freePort(t), bRecv: freePort(t), bBcast: freePort(t), aDB: t.TempDir(), bDB: t.TempDir()}
	c.a = startAt(t, c.aRecv, c.aBcast, "--eventdb="+c.aDB)
	c.px = startProxy(t, c.aBcast)
	c.startB(t)
	c.b.waitLog(t, "subscribed to remote broker")
	c.sub = startReplaySub(t, c.bBcast)
	return c
}

func (c *chain) startB(t *testing.T) {
	c.b = startAt(t, c.bRecv, c.bBcast, "--eventdb="+c.bDB, "--remote="+c.px.l.Addr().String())
}

// TestChainLinkCut: A → B (--remote) → subscriber of B; the A–B link is
// cut while an author publishes to A, then restored: the subscriber
// receives every event exactly once, in order.
func TestChainLinkCut(t *testing.T) {
	c := startChain(t)
	a := startAuthor(func() string { return c.aRecv }, "cut")
	waitCount(t, "events before the cut", 20, a.count)
	c.px.cut()
	n := a.count()
	waitCount(t, "events during the cut", n+30, a.count)
	c.px.restore()
	n = a.count()
	waitCount(t, "events after the cut", n+20, a.count)
	want := a.finish()
	waitCount(t, "events at the subscriber of B", len(want), func() int { return len(c.sub.received()) }, c.a, c.b)
	time.Sleep(300 * time.Millisecond) // a duplicate would arrive now
	checkExactlyOnce(t, c.sub.received(), want)
	if !strings.Contains(c.b.stderr.String(), "subscribed to remote broker again") {
		t.Fatalf("B never reconnected:\n%s", c.b.stderr)
	}
	// The operator's listing works while B runs, and holds what B relayed.
	code, out, errs := runJ(t, "--eventdb", c.bDB)
	if code != 0 || strings.Count(out, "\n") != len(want) || !strings.Contains(out, want[len(want)-1]+"\n") {
		t.Fatalf("comet journal on the running B: exit %d, %d lines of %d: %s", code, strings.Count(out, "\n"), len(want), errs)
	}
}

// TestChainKillB: the same with B killed by SIGKILL and restarted.
func TestChainKillB(t *testing.T) {
	c := startChain(t)
	a := startAuthor(func() string { return c.aRecv }, "killb")
	waitCount(t, "events before the kill", 20, a.count)
	c.b.cmd.Process.Kill()
	<-c.b.exited
	n := a.count()
	waitCount(t, "events while B is down", n+30, a.count)
	c.startB(t)
	n = a.count()
	waitCount(t, "events after the restart", n+20, a.count)
	want := a.finish()
	waitCount(t, "events at the subscriber of B", len(want), func() int { return len(c.sub.received()) }, c.a, c.b)
	time.Sleep(300 * time.Millisecond)
	checkExactlyOnce(t, c.sub.received(), want)
}

// TestChainKillA: the same with A killed by SIGKILL and restarted; the
// author resends what A did not acknowledge.
func TestChainKillA(t *testing.T) {
	c := startChain(t)
	a := startAuthor(func() string { return c.aRecv }, "killa")
	waitCount(t, "events before the kill", 20, a.count)
	c.a.cmd.Process.Kill()
	<-c.a.exited
	c.a = startAt(t, c.aRecv, c.aBcast, "--eventdb="+c.aDB)
	n := a.count()
	waitCount(t, "events after the restart", n+30, a.count)
	want := a.finish()
	waitCount(t, "events at the subscriber of B", len(want), func() int { return len(c.sub.received()) }, c.a, c.b)
	time.Sleep(300 * time.Millisecond)
	checkExactlyOnce(t, c.sub.received(), want)
}

// TestJournalSeqGrowsOverKills: a broker killed by SIGKILL again and
// again while an author publishes keeps every acknowledged event in its
// journal, and sequence numbers only grow across the crashes.
func TestJournalSeqGrowsOverKills(t *testing.T) {
	db := t.TempDir()
	recv, bcast := freePort(t), freePort(t)
	var acked []string
	for round := range 4 {
		p := startAt(t, recv, bcast, "--eventdb="+db)
		a := startAuthor(func() string { return recv }, fmt.Sprint("kill", round))
		waitCount(t, "events acknowledged", 5+round, a.count)
		p.cmd.Process.Kill()
		<-p.exited
		acked = append(acked, a.finish()...)
	}
	code, out, errs := runJ(t, "--eventdb", db)
	if code != 0 {
		t.Fatal(errs)
	}
	var last uint64
	have := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var seq uint64
		var when, iv string
		var n int
		if _, err := fmt.Sscanf(line, "%d\t%s\t%d\t%s", &seq, &when, &n, &iv); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if seq <= last {
			t.Fatalf("seq %d after %d: not strictly increasing over the kills\n%s", seq, last, out)
		}
		last = seq
		have[iv] = true
	}
	for _, iv := range acked {
		if !have[iv] {
			t.Fatalf("%s was acknowledged but is not in the journal", iv)
		}
	}
	t.Logf("%d events acknowledged across 4 kills, last seq %d", len(acked), last)
}

// TestJournalOff: with --journal-age=0 no journal is kept, events are
// still relayed, and "comet journal" says there is none.
func TestJournalOff(t *testing.T) {
	db := t.TempDir()
	p := startProc(t, "--eventdb="+db, "--journal-age=0")
	relayed := subscriber(t, p.bcast)
	if ans, err := sendEvent(p.recv, obsEvent("ivo://example.org/proc#off"), 5*time.Second); err != nil || ans.Role != vtp.RoleAck {
		t.Fatalf("event: %v", err)
	}
	select {
	case got := <-relayed:
		if got != "ivo://example.org/proc#off" {
			t.Fatalf("relayed %s", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("event not relayed")
	}
	if m, _ := filepath.Glob(filepath.Join(db, "journal*")); len(m) != 0 {
		t.Fatalf("journal files with --journal-age=0: %v", m)
	}
	if code, _, errs := runJ(t, "--eventdb", db); code != 1 || !strings.Contains(errs, "has no journal") {
		t.Fatalf("comet journal: exit %d %s", code, errs)
	}
}
