//go:build unix

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"comet/vtp"
)

var verdictRE = regexp.MustCompile(`msg="(event accepted|duplicate event: not relayed again)".* ivorn=(\S+)`)

// verdicts reads a broker's log: the ivorns it accepted, and those it
// acknowledged as already seen.
func verdicts(log string) (accepted, duplicate map[string]int) {
	accepted, duplicate = map[string]int{}, map[string]int{}
	for _, line := range strings.Split(log, "\n") {
		if m := verdictRE.FindStringSubmatch(line); m != nil {
			if strings.HasPrefix(m[1], "event accepted") {
				accepted[m[2]]++
			} else {
				duplicate[m[2]]++
			}
		}
	}
	return accepted, duplicate
}

// spoolFiles lists the submissions waiting in dir.
func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".xml") {
			names = append(names, e.Name())
		}
	}
	return names
}

// TestSpoolKillNineMidBurst kills the broker with SIGKILL while it works
// through a burst of spool files, restarts it on the same spool and seen
// store, and checks that every event was accepted (hence relayed) exactly
// once over both runs: none lost, none relayed twice. A file whose event
// was recorded just before the kill is found again by the restart and
// acknowledged as a duplicate, not relayed again. Finally every event is
// resent over TCP: the seen store knows each one.
func TestSpoolKillNineMidBurst(t *testing.T) {
	const n = 4000
	tmp := t.TempDir()
	db, spool, staging := filepath.Join(tmp, "db"), filepath.Join(tmp, "spool"), filepath.Join(tmp, "staging")
	os.Mkdir(staging, 0o700)
	ids := make([]string, n)
	for i := range n {
		ids[i] = fmt.Sprintf("ivo://example.org/proc#spool-%05d", i)
		if err := os.WriteFile(filepath.Join(staging, fmt.Sprintf("%05d.xml", i)), procEvent(ids[i]), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// Run 1: a subscriber is connected before the files arrive, and the
	// broker is killed once it has relayed a tenth of them.
	p1 := startProc(t, "--eventdb="+db, "--receive=dir:"+spool)
	p1.waitLog(t, "spool ready")
	sub1 := subscriber(t, p1.bcast)
	moved := make(chan struct{})
	go func() {
		defer close(moved)
		for i := range n {
			name := fmt.Sprintf("%05d.xml", i)
			os.Rename(filepath.Join(staging, name), filepath.Join(spool, name))
		}
	}()
	relayed1 := map[string]int{}
	for len(relayed1) < n/10 {
		select {
		case id, ok := <-sub1:
			if !ok {
				t.Fatalf("subscriber cut off:\n%s", p1.stderr)
			}
			relayed1[id]++
		case <-time.After(20 * time.Second):
			t.Fatalf("only %d events relayed after 20 s:\n%s", len(relayed1), p1.stderr)
		}
	}
	p1.cmd.Process.Kill()
	<-p1.exited
	for id := range sub1 { // what was already on its way
		relayed1[id]++
	}
	<-moved
	left := spoolFiles(t, spool)
	if len(left) == 0 {
		t.Fatal("the broker finished the burst before it was killed: nothing to test")
	}
	accepted1, _ := verdicts(p1.stderr.String())
	t.Logf("killed after %d accepted, %d relayed; %d files left", len(accepted1), len(relayed1), len(left))

	// Run 2 on the same spool and store finishes the rest.
	p2 := startProc(t, "--eventdb="+db, "--receive=dir:"+spool)
	p2.waitFor(t, "an empty spool", func() bool { return len(spoolFiles(t, spool)) == 0 })
	if rej := spoolFiles(t, filepath.Join(spool, vtp.RejectedDir)); len(rej) > 0 {
		t.Errorf("%d files rejected, such as %s", len(rej), rej[0])
	} else {
		// A file leaves the spool before its verdict's log line has
		// come through the pipe from the broker: wait for one each.
		p2.waitFor(t, "a verdict logged for each file left", func() bool {
			a, d := verdicts(p2.stderr.String())
			return len(a)+len(d) >= len(left)
		})
	}
	accepted2, duplicate2 := verdicts(p2.stderr.String())

	recorded := 0
	for _, id := range ids {
		a1, a2, d2 := accepted1[id], accepted2[id], duplicate2[id]
		switch {
		case a1+a2 > 1:
			t.Errorf("%s accepted %d times (run 1: %d, run 2: %d)", id, a1+a2, a1, a2)
		case a1+a2 == 0 && d2 == 0:
			t.Errorf("%s lost: never accepted, not recorded as seen", id)
		case a1+a2 == 0:
			recorded++ // recorded in run 1, its file removed by run 2
		}
		if relayed1[id] > 1 {
			t.Errorf("%s relayed %d times by run 1", id, relayed1[id])
		}
		if relayed1[id] == 1 && a1 != 1 {
			t.Errorf("%s relayed by run 1 without being accepted there", id)
		}
	}
	t.Logf("run 2: %d accepted, %d acknowledged as already seen (%d recorded in run 1 before its log line)", len(accepted2), len(duplicate2), recorded)
	if len(duplicate2) == 0 && len(accepted2) != len(left) {
		t.Errorf("run 2 accepted %d events for %d files left", len(accepted2), len(left))
	}

	// The seen store holds every event: sent again, each is a duplicate,
	// and a subscriber gets none of them.
	sub2 := subscriber(t, p2.bcast)
	for _, id := range ids {
		answer, err := sendEvent(p2.recv, procEvent(id), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if tr := vtp.ParseTransport(answer); tr.Role != vtp.RoleAck || len(tr.Results) == 0 || !strings.Contains(tr.Results[0], "already seen") {
			t.Fatalf("resent %s: %s %q, want ack as already seen", id, tr.Role, tr.Results)
		}
	}
	fresh := "ivo://example.org/proc#after-the-burst"
	if answer, err := sendEvent(p2.recv, procEvent(fresh), 10*time.Second); err != nil || answer.Role != vtp.RoleAck {
		t.Fatalf("fresh event: %v", err)
	}
	if got := <-sub2; got != fresh {
		t.Errorf("relayed %s again", got)
	}
}

// TestSpoolSIGTERMMidBurst: SIGTERM while the spool works through a burst
// stops the broker within 5 s with status 0, and every file is either
// still in the spool or was accepted: the batch in progress is finished
// before the seen store closes.
func TestSpoolSIGTERMMidBurst(t *testing.T) {
	const n = 3000
	tmp := t.TempDir()
	spool := filepath.Join(tmp, "spool")
	os.Mkdir(spool, 0o700)
	ids := map[string]string{} // file name: ivorn
	for i := range n {
		name := fmt.Sprintf("%05d.xml", i)
		ids[name] = fmt.Sprintf("ivo://example.org/proc#term-%05d", i)
		os.WriteFile(filepath.Join(spool, name), procEvent(ids[name]), 0o600)
	}
	p := startProc(t, "--eventdb="+filepath.Join(tmp, "db"), "--receive=dir:"+spool)
	p.waitFor(t, "a tenth of the files taken", func() bool { return len(spoolFiles(t, spool)) < n-n/10 })
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
		t.Fatalf("still running 5 s after SIGTERM:\n%s", p.stderr)
	}
	if p.err != nil {
		t.Errorf("exit: %v", p.err)
	}
	accepted, _ := verdicts(p.stderr.String())
	left := map[string]bool{}
	for _, name := range spoolFiles(t, spool) {
		left[name] = true
	}
	for name, id := range ids {
		if left[name] == (accepted[id] == 1) {
			t.Errorf("%s: in the spool %v, accepted %d times", name, left[name], accepted[id])
		}
	}
	t.Logf("%d accepted, %d left for the next start", len(accepted), len(left))
}
