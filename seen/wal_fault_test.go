package seen

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"

	"comet/internal/storetest"
)

// shots fails, once, a chosen call on the file it wraps: the writeIn-th
// WriteAt from when it was armed (a torn write if partial: half the bytes
// land).
type shots struct {
	mu      sync.Mutex
	writeIn int
	partial bool
	fired   int
}

func (sh *shots) arm(fn func(*shots)) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	fn(sh)
}

// take counts a call down *n and reports whether it is the one to fail.
func (sh *shots) take(n *int) (fail, partial bool) {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if *n == 0 {
		return false, false
	}
	*n--
	if *n > 0 {
		return false, false
	}
	sh.fired++
	return true, sh.partial
}

type shotFile struct {
	logFile
	sh *shots
}

func (f shotFile) WriteAt(b []byte, off int64) (int, error) {
	if fail, partial := f.sh.take(&f.sh.writeIn); fail {
		n := 0
		if partial {
			n, _ = f.logFile.WriteAt(b[:len(b)/2], off)
		}
		return n, &os.PathError{Op: "write", Path: "injected", Err: syscall.ENOSPC}
	}
	return f.logFile.WriteAt(b, off)
}

// model is what callers were told: for each event, how many times it was
// taken as new (relayed), and whether it was acknowledged with no error
// (so it must be in the write-ahead log).
type model struct {
	relayed map[int]int
	acked   map[Key]int // logged events, by key: the event number
}

// checkLogged checks what the write-ahead log holds against the model:
// every acknowledged event exactly once and nothing else, in growing
// sequence numbers.
func checkLogged(t *testing.T, what string, all []walRecord, m *model) {
	t.Helper()
	keys := map[Key]bool{}
	for i, r := range all {
		if i > 0 && r.Seq <= all[i-1].Seq {
			t.Fatalf("%s: seq %d after %d", what, r.Seq, all[i-1].Seq)
		}
		if _, ok := m.acked[r.Key]; !ok || keys[r.Key] {
			t.Fatalf("%s: seq %d holds an event not acknowledged, or one already held (%v)", what, r.Seq, seqsOf(all))
		}
		keys[r.Key] = true
	}
	if len(keys) != len(m.acked) {
		t.Fatalf("%s: the log holds %d of the %d acknowledged events", what, len(keys), len(m.acked))
	}
}

// TestWALSeenLogFaults: with the seen log's write failing once (whole or
// torn) at each point of a run of logged events, no acknowledged event
// is lost from the write-ahead log or the seen set, none is taken as new
// twice, and the WAL is told of exactly its entries in order; while the
// store runs, in a copy of its files as a power loss would leave them,
// and after it is closed and opened again. (The journal's own faults are
// the journal package's tests'.)
func TestWALSeenLogFaults(t *testing.T) {
	kinds := []struct {
		name    string
		partial bool
	}{{"seen log write", false}, {"seen log write torn", true}}
	const events = 6
	for _, k := range kinds {
		for at := range 5 {
			t.Run(fmt.Sprintf("%s/before event %d", k.name, at), func(t *testing.T) {
				t.Parallel()
				runSeenLogFault(t, k.partial, at, events)
			})
		}
	}
}

func runSeenLogFault(t *testing.T, partial bool, at, events int) {
	dir := t.TempDir()
	var mu sync.Mutex
	var announced []uint64
	onCommit := func(seq uint64, _ any) {
		mu.Lock()
		announced = append(announced, seq)
		mu.Unlock()
	}
	s := openJ(t, dir, Options{}, walOptions{OnCommit: onCommit})
	ssh := &shots{}
	s.fileMu.Lock()
	s.file = shotFile{s.file, ssh}
	s.fileMu.Unlock()
	m := &model{relayed: map[int]int{}, acked: map[Key]int{}}
	check := func(what string) {
		t.Helper()
		all := journalAll(t, s)
		checkLogged(t, what, all, m)
		mu.Lock()
		got := slices.Clone(announced)
		mu.Unlock()
		if !slices.Equal(got, seqsOf(all)) {
			t.Fatalf("%s: the WAL was told of %v, it holds %v", what, got, seqsOf(all))
		}
	}
	send := func(i int) error {
		el, raw := jEvent(i)
		keep := i%4 == 3 // from a remote broker
		first, err := s.CheckAndJournal(el, raw, keep, i)
		if first {
			m.relayed[i]++
			if err == nil {
				m.acked[KeyOf(el)] = i
			}
		}
		if !first && err == nil && m.relayed[i] == 0 {
			t.Fatalf("event %d taken for a duplicate before it was accepted", i)
		}
		return err
	}
	for i := range events {
		if i == at {
			ssh.arm(func(s *shots) { s.writeIn, s.partial = 1, partial })
		}
		err := send(i)
		check(fmt.Sprintf("after event %d", i))
		if err != nil {
			// A power loss now: what is acknowledged is on disk.
			checkCopy(t, dir, m)
			if err := send(i); err != nil && m.relayed[i] == 0 {
				t.Fatalf("resend of event %d once the disk works: %v", i, err)
			}
			check(fmt.Sprintf("after resending event %d", i))
		}
		if err := send(i); err != nil || m.relayed[i] != 1 {
			t.Fatalf("copy of event %d: err=%v, taken as new %d times", i, err, m.relayed[i])
		}
	}
	if ssh.fired != 1 {
		t.Fatalf("the fault fired %d times, want once", ssh.fired)
	}
	checkCopy(t, dir, m)
	closeT(t, s)

	s = openJ(t, dir, Options{}, walOptions{})
	defer closeT(t, s)
	checkLogged(t, "reopened", journalAll(t, s), m)
	for i := range events {
		el, raw := jEvent(i)
		if first, err := s.CheckAndJournal(el, raw, false, nil); first || err != nil {
			t.Fatalf("event %d after reopening: first=%v err=%v, want a duplicate", i, first, err)
		}
	}
	checkLogged(t, "read afresh", readWALFile(t, dir), m)
}

// checkCopy opens a copy of the store in dir as a power loss could leave
// it, with none of the seen records the WAL holds reaching the disk, and
// checks that the WAL holds every acknowledged event and that each is
// known as seen.
func checkCopy(t *testing.T, dir string, m *model) {
	t.Helper()
	to := filepath.Join(t.TempDir(), "copy")
	storetest.CopyAsAfterPowerLoss(t, dir, to)
	if err := os.Truncate(logPath(to), headerSize); err != nil {
		t.Fatal(err)
	}
	s := openJ(t, to, Options{}, walOptions{})
	defer closeT(t, s)
	checkLogged(t, "after a power loss", journalAll(t, s), m)
	for _, i := range m.acked {
		el, raw := jEvent(i)
		if first, err := s.CheckAndJournal(el, raw, false, nil); first || err != nil {
			t.Fatalf("event %d after a power loss: first=%v err=%v, want a duplicate", i, first, err)
		}
	}
}
