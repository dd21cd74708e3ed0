package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"comet/voevent"
	"comet/vtp"

	"comet/internal/kafkapeertest"
)

// TestMain lets the test binary stand in for the comet binary: with
// COMET_TEST_MAIN set it runs main, so process tests need no separate build.
func TestMain(m *testing.M) {
	if os.Getenv("COMET_TEST_MAIN") == "1" {
		main()
		return
	}
	code := m.Run()
	kafkapeertest.Cleanup()
	os.Exit(code)
}

// proc is a broker running as a separate process.
type proc struct {
	cmd         *exec.Cmd
	recv, bcast string
	stderr      *syncBuf
	exited      chan struct{} // closed when the process has exited
	err         error         // its exit status, once exited is closed
}

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var listenRE = regexp.MustCompile(`msg="listening for (authors|subscribers)" addr=tcp:(\S+)`)

// startProc starts comet with args plus loopback listeners on free
// ports, and waits until both ports are open.
func startProc(t *testing.T, args ...string) *proc {
	t.Helper()
	args = append([]string{"--receive=tcp:0:interface=127.0.0.1", "--broadcast=tcp:0:interface=127.0.0.1",
		"--local-ivo=ivo://example.org/proc", "--broadcast-test-interval=0"}, args...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "COMET_TEST_MAIN=1")
	pr, pw := io.Pipe()
	p := &proc{cmd: cmd, stderr: &syncBuf{}, exited: make(chan struct{})}
	cmd.Stderr = io.MultiWriter(pw, p.stderr)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = cmd.Wait(); pw.Close(); close(p.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.exited
	})
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			if m := listenRE.FindStringSubmatch(sc.Text()); m != nil {
				if m[1] == "authors" {
					p.recv = m[2]
				} else {
					p.bcast = m[2]
				}
				if p.recv != "" && p.bcast != "" {
					close(found)
					break
				}
			}
		}
		io.Copy(io.Discard, pr)
	}()
	select {
	case <-found:
	case <-p.exited:
		t.Fatalf("comet exited: %v\n%s", p.err, p.stderr)
	case <-time.After(20 * time.Second):
		t.Fatalf("comet did not start listening:\n%s", p.stderr)
	}
	return p
}

func procEvent(id string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="` + id + `" role="test" version="2.0">
  <Who><AuthorIVORN>ivo://example.org/author</AuthorIVORN><Date>2026-11-24T12:00:00</Date></Who>
  <What><Param name="x" value="1"/></What>
</voe:VOEvent>
`)
}

// subscriber connects to a broadcast port, acknowledges everything and
// sends the ivorns it receives to a channel, which it closes when the
// broker's end of the connection closes.
func subscriber(t *testing.T, addr string) <-chan string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	got := make(chan string, 20000)
	authed := make(chan struct{})
	go func() {
		defer close(got)
		r := bufio.NewReader(c)
		for {
			raw, err := vtp.ReadFrame(r, vtp.DefaultMaxFrame)
			if err != nil {
				return
			}
			ev, err := voevent.Parse(raw)
			if err != nil {
				continue
			}
			switch ev.Role {
			case vtp.RoleAuthenticate:
				vtp.WriteFrame(c, vtp.AuthenticateResponse(vtp.ParseTransport(ev).Origin, "ivo://example.org/sub", nil, time.Now()))
				close(authed)
			case vtp.RoleIAmAlive:
				vtp.WriteFrame(c, vtp.IAmAliveResponse(vtp.ParseTransport(ev).Origin, "ivo://example.org/sub", time.Now()))
			default:
				got <- ev.IVORN
				vtp.WriteFrame(c, vtp.Ack(ev.IVORN, "ivo://example.org/sub", "", time.Now()))
			}
		}
	}()
	select {
	case <-authed:
	case <-time.After(20 * time.Second):
		t.Fatal("no authenticate")
	}
	return got
}

func TestSendvoExitCodes(t *testing.T) {
	p := startProc(t, "--eventdb="+t.TempDir())
	host, port, _ := net.SplitHostPort(p.recv)
	dir := t.TempDir()
	file := func(name string, content []byte) string {
		f := dir + "/" + name
		os.WriteFile(f, content, 0o644)
		return f
	}
	good := file("good.xml", procEvent("ivo://example.org/proc#sendvo"))
	bad := file("bad.xml", procEvent("ivo://example.org/proc")) // no local part
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	closedPort := strings.Split(closed.Addr().String(), ":")[1]
	closed.Close()
	tests := []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"-h", host, "-p", port, "-f", good}, 0, "ack ivo://example.org/proc#sendvo from ivo://example.org/proc"},
		{[]string{"-h", host, "-p", port, "-f", good}, 0, "already seen"},
		{[]string{"-h", host, "-p", port, "-f", bad}, 1, "nak ivo://example.org/proc from ivo://example.org/proc: Event rejected:"},
		{[]string{"-h", host, "-p", closedPort, "-f", good}, 2, ""},
		{[]string{"-h", host, "-p", port, "-f", dir + "/missing.xml"}, 2, ""},
		{[]string{"-p", "x"}, 2, ""},
		{[]string{"--bogus"}, 2, ""},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"sendvo"}, tt.args...), &stdout, &stderr)
		if code != tt.code || !strings.Contains(stdout.String(), tt.out) {
			t.Errorf("sendvo %q: exit %d, stdout %q, stderr %q; want exit %d with %q", tt.args, code, stdout.String(), stderr.String(), tt.code, tt.out)
		}
	}
	// Standard input and the comet-sendvo name.
	var stdout, stderr bytes.Buffer
	in := bytes.NewReader(procEvent("ivo://example.org/proc#stdin"))
	if code := cmdSendvo([]string{"-h", host, "-p", port}, in, &stdout, &stderr); code != 0 {
		t.Errorf("sendvo from stdin: exit %d, %s %s", code, stdout.String(), stderr.String())
	}
	cmd := exec.Command(os.Args[0], "-h", host, "-p", port, "-f", file("named.xml", procEvent("ivo://example.org/proc#named")))
	cmd.Env = append(os.Environ(), "COMET_TEST_MAIN=1")
	cmd.Args[0] = "comet-sendvo"
	if out, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "ack ") {
		t.Errorf("invoked as comet-sendvo: %v, %s", err, out)
	}
}

func TestSIGTERMShutdown(t *testing.T) {
	p := startProc(t, "--eventdb="+t.TempDir())
	// An idle author and a subscriber are connected when the signal comes.
	idle, err := net.Dial("tcp", p.recv)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	subscriber(t, p.bcast)
	start := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		if p.err != nil {
			t.Errorf("exit: %v\n%s", p.err, p.stderr)
		}
		t.Logf("exited %v after SIGTERM", time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5 s after SIGTERM:\n%s", p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "comet stopped") {
		t.Errorf("log:\n%s", p.stderr)
	}
}

// TestKillNineKeepsAckedEvents kills the broker with SIGKILL at random
// moments while an author publishes as fast as it can, restarts it on the
// same --eventdb, and resends every event that was acknowledged: each must
// be recognised as already seen and none relayed again.
func TestKillNineKeepsAckedEvents(t *testing.T) {
	db := t.TempDir()
	var acked [][]byte
	for round := range 4 {
		p := startProc(t, "--eventdb="+db)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				ev := procEvent(fmt.Sprintf("ivo://example.org/proc#kill-%d-%d", round, i))
				answer, err := sendEvent(p.recv, ev, 5*time.Second)
				if err != nil {
					return // killed
				}
				if answer.Role == vtp.RoleAck {
					mu.Lock()
					acked = append(acked, ev)
					mu.Unlock()
				}
			}
		})
		time.Sleep(time.Duration(20+rand.IntN(200)) * time.Millisecond)
		p.cmd.Process.Kill()
		<-p.exited
		close(stop)
		wg.Wait()
	}
	if len(acked) == 0 {
		t.Fatal("no event was acknowledged before the kills")
	}
	t.Logf("%d events acknowledged across 4 kills", len(acked))

	p := startProc(t, "--eventdb="+db)
	relayed := subscriber(t, p.bcast)
	for _, ev := range acked {
		answer, err := sendEvent(p.recv, ev, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		tr := vtp.ParseTransport(answer)
		if tr.Role != vtp.RoleAck || len(tr.Results) == 0 || !strings.Contains(tr.Results[0], "already seen") {
			t.Fatalf("resent %s: %s %q, want ack as already seen", tr.Origin, tr.Role, tr.Results)
		}
	}
	// Relaying is in order: the first event relayed must be this fresh one.
	fresh := "ivo://example.org/proc#fresh"
	if answer, err := sendEvent(p.recv, procEvent(fresh), 5*time.Second); err != nil || answer.Role != vtp.RoleAck {
		t.Fatalf("fresh event: %v", err)
	}
	select {
	case got := <-relayed:
		if got != fresh {
			t.Errorf("relayed %s again after restart", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fresh event not relayed")
	}
}

// TestHandlersFromCommandLine runs the broker with every handler enabled
// through its flags, authors on a Unix socket, and checks each handler
// acted on an accepted event.
func TestHandlersFromCommandLine(t *testing.T) {
	dir := t.TempDir()
	saved := dir + "/saved"
	out := dir + "/cmd.out"
	script := dir + "/handler.sh"
	os.WriteFile(script, []byte("#!/bin/sh\ncat > "+out+"\n"), 0o755)
	sock := dir + "/author.sock"
	p := startProc(t, "--eventdb="+dir+"/db", "--save-event", "--save-event-directory="+saved,
		"--print-event", "--cmd="+script, "--cmd-timeout=10", "--receive=unix:"+sock)
	id := "ivo://example.org/proc#handlers"
	ev := procEvent(id)
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatalf("author socket: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	vtp.WriteFrame(c, ev)
	if raw, err := vtp.ReadFrame(bufio.NewReader(c), vtp.DefaultMaxFrame); err != nil || !bytes.Contains(raw, []byte(`role="ack"`)) {
		t.Fatalf("answer on the Unix socket: %q, %v", raw, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		savedBytes, err1 := os.ReadFile(saved + "/ivo__example.org_prochandlers")
		cmdBytes, err2 := os.ReadFile(out)
		if err1 == nil && err2 == nil && bytes.Equal(savedBytes, ev) && bytes.Equal(cmdBytes, ev) &&
			strings.Contains(p.stderr.String(), "its XML follows\" handler=print-event ivorn=ivo://example.org/proc#handlers bytes="+fmt.Sprint(len(ev))+"\n"+string(ev)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("handlers did not all act: saved %v, cmd %v, log:\n%s", err1, err2, p.stderr)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, h := range []string{"save-event", "print-event", "cmd"} {
		if !strings.Contains(p.stderr.String(), `msg="handler enabled" handler=`+h) {
			t.Errorf("log does not say %s was enabled", h)
		}
	}
}
