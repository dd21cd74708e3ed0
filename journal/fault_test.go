package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"

	"comet/internal/storedir"

	"comet/internal/storetest"
	"comet/seen"
)

func injectJournalFaults(s *Store) *faultyFile {
	j := s.Journal
	j.wmu.Lock()
	defer j.wmu.Unlock()
	seg := j.segs[len(j.segs)-1]
	f := &faultyFile{File: seg.f}
	seg.f = f
	return f
}

// TestJournalWriteFailure: when the journal cannot be written, an
// author's event is refused (not remembered, so a resend succeeds once
// the disk recovers) and a remote's is still taken as new, with an error
// saying so; a partial write leaves no garbage in the journal, and
// nothing is announced to subscribers for a failed record.
func TestJournalWriteFailure(t *testing.T) {
	for _, partial := range []bool{false, true} {
		dir := t.TempDir()
		announced := 0
		s := openJ(t, dir, seen.Options{}, Options{}, func(uint64, any) { announced++ })
		addEvents(t, s, 0, 2)
		f := injectJournalFaults(s)
		f.set(func(f *faultyFile) { f.writeErr, f.partial = syscall.ENOSPC, partial })
		el, raw := jEvent(10)
		if first, err := s.CheckAndJournal(el, raw, false, nil); first || !errors.Is(err, syscall.ENOSPC) {
			t.Fatalf("author event on a full disk: first=%v err=%v", first, err)
		}
		el2, raw2 := jEvent(11)
		if first, err := s.CheckAndJournal(el2, raw2, true, nil); !first || err == nil {
			t.Fatalf("remote event on a full disk: first=%v err=%v, want first with an error", first, err)
		}
		f.set(func(f *faultyFile) { f.writeErr = nil })
		if first, err := s.CheckAndJournal(el, raw, false, nil); !first || err != nil {
			t.Fatalf("resend after the disk recovered: first=%v err=%v", first, err)
		}
		if announced != 3 {
			t.Fatalf("%d events announced, want 3 (none of the failed ones)", announced)
		}
		closeT(t, s)
		s = openJ(t, dir, seen.Options{}, Options{})
		recs := journalAll(t, s)
		if len(recs) != 3 || string(recs[2].Raw) != string(raw) || recs[2].Seq <= recs[1].Seq {
			t.Fatalf("partial=%v: journal holds %d records after the failure", partial, len(recs))
		}
		closeT(t, s)
	}
}

// TestPanickingCommitHookWedgesNothing: a panic in the commit hook, on
// the goroutine of the caller that wrote its own batch, reaches that
// caller; the event is recorded all the same, a copy of it is recognised
// rather than waited on for ever, and the store goes on.
func TestPanickingCommitHookWedgesNothing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		s := openJ(t, t.TempDir(), seen.Options{}, Options{}, func(uint64, any) {
			calls++
			if calls == 1 {
				panic("hook bug")
			}
		})
		el, raw := jEvent(1)
		func() {
			defer func() {
				if r := recover(); r != "hook bug" {
					t.Errorf("recovered %v, want the hook's panic", r)
				}
			}()
			s.CheckAndJournal(el, raw, false, nil)
		}()
		if first, err := s.CheckAndJournal(el, raw, false, nil); first || err != nil {
			t.Fatalf("copy after the panic: first=%v err=%v, want a duplicate", first, err)
		}
		addEvents(t, s, 2, 4)
		if calls != 3 {
			t.Fatalf("hook called %d times, want 3", calls)
		}
		closeT(t, s)
	})
}

// shots fails, once, a chosen call on the files it wraps: the writeIn-th
// WriteAt or the syncIn-th Sync from when it was armed (a torn write if
// partial: half the bytes land), or the next segment creation or
// directory fsync of a rotation.
type shots struct {
	mu                sync.Mutex
	writeIn, syncIn   int
	partial           bool
	createErr, dirErr error
	fired             int
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

func (sh *shots) takeErr(err *error) error {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	e := *err
	if e != nil {
		*err = nil
		sh.fired++
	}
	return e
}

type shotFile struct {
	storedir.File
	sh *shots
}

func (f shotFile) WriteAt(b []byte, off int64) (int, error) {
	if fail, partial := f.sh.take(&f.sh.writeIn); fail {
		n := 0
		if partial {
			n, _ = f.File.WriteAt(b[:len(b)/2], off)
		}
		return n, &os.PathError{Op: "write", Path: "injected", Err: syscall.ENOSPC}
	}
	return f.File.WriteAt(b, off)
}

func (f shotFile) Sync() error {
	if fail, _ := f.sh.take(&f.sh.syncIn); fail {
		return &os.PathError{Op: "sync", Path: "injected", Err: syscall.EIO}
	}
	return f.File.Sync()
}

// injectShots routes the journal's segment files, the ones it creates
// and the one being written, through jsh. segMax makes segments rotate
// every couple of events. (The seen log's faults are the seen package's
// tests', against a stand-in write-ahead log.)
func injectShots(s *Store, jsh *shots, segMax int64) {
	j := s.Journal
	j.wmu.Lock()
	j.segMax = segMax
	seg := j.segs[len(j.segs)-1]
	seg.f = shotFile{seg.f, jsh}
	j.createSeg = func(name string) (storedir.File, error) {
		if err := jsh.takeErr(&jsh.createErr); err != nil {
			return nil, err
		}
		f, err := storedir.OpenFile(j.root, j.dir, name, os.O_RDWR|os.O_CREATE|os.O_EXCL)
		if err != nil {
			return nil, err
		}
		return shotFile{f, jsh}, nil
	}
	j.syncDir = func() error {
		if err := jsh.takeErr(&jsh.dirErr); err != nil {
			return err
		}
		return storedir.SyncRoot(j.root)
	}
	j.wmu.Unlock()
}

// model is what callers were told: for each event, how many times it was
// taken as new (relayed), and whether it was acknowledged with no error
// (so it must be in the journal).
type model struct {
	relayed map[int]int
	acked   map[seen.Key]int // journaled events, by key: the event number
}

// checkJournal checks the invariants a subscriber relies on against a
// journal reader: every acknowledged event is there exactly once and
// nothing else; sequence numbers only grow; a read from any position
// gets exactly what follows it; reading up to last gets everything.
func checkJournal(t *testing.T, what string, read func(after, upto uint64, fn func(Record) error) error, last uint64, m *model) []Record {
	t.Helper()
	var all []Record
	if err := read(0, ^uint64(0), func(r Record) error {
		r.Raw = nil
		all = append(all, r)
		return nil
	}); err != nil {
		t.Fatalf("%s: read: %v", what, err)
	}
	keys := map[seen.Key]bool{}
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
		t.Fatalf("%s: the journal holds %d of the %d acknowledged events", what, len(keys), len(m.acked))
	}
	if len(all) > 0 && last < all[len(all)-1].Seq {
		t.Fatalf("%s: last is %d, below the newest record %d", what, last, all[len(all)-1].Seq)
	}
	seqs := seqsOf(all)
	for i := 0; i <= len(seqs); i++ {
		after := uint64(0)
		if i > 0 {
			after = seqs[i-1]
		}
		if got := readSeqs(t, read, after, last); !slices.Equal(got, seqs[i:]) {
			t.Fatalf("%s: read (%d, %d] gave %v, want %v", what, after, last, got, seqs[i:])
		}
	}
	return all
}

// TestJournalFaults: with the journal's writes, fsyncs, segment
// creation or directory fsync failing once
// (whole or torn) at each point of a run of events rotating segments
// every two events, no acknowledged event is lost from the journal or
// the seen set, none is taken as new twice, replay from any position
// gets exactly what the journal holds after it, and subscribers are told
// of exactly the journal's records in its order; while the store runs,
// in a copy of its files as a power loss would leave them, and after it
// is closed and opened again, where the read-only view lists the same.
func TestJournalFaults(t *testing.T) {
	type kind struct {
		name string
		arm  func(j *shots)
	}
	kinds := []kind{
		{"journal write", func(j *shots) { j.writeIn = 1 }},
		{"journal write torn", func(j *shots) { j.writeIn, j.partial = 1, true }},
		{"second journal write", func(j *shots) { j.writeIn = 2 }},
		{"second journal write torn", func(j *shots) { j.writeIn, j.partial = 2, true }},
		{"journal sync", func(j *shots) { j.syncIn = 1 }},
		{"second journal sync", func(j *shots) { j.syncIn = 2 }},
		{"segment create", func(j *shots) { j.createErr = syscall.ENOSPC }},
		{"directory sync", func(j *shots) { j.dirErr = syscall.EIO }},
	}
	const events = 6
	for _, k := range kinds {
		for at := range 5 {
			t.Run(fmt.Sprintf("%s/before event %d", k.name, at), func(t *testing.T) {
				t.Parallel()
				runJournalFault(t, k.arm, at, events)
			})
		}
	}
}

func runJournalFault(t *testing.T, arm func(j *shots), at, events int) {
	dir := t.TempDir()
	var mu sync.Mutex
	var announced []uint64
	onCommit := func(seq uint64, _ any) {
		mu.Lock()
		announced = append(announced, seq)
		mu.Unlock()
	}
	s := openJ(t, dir, seen.Options{}, Options{}, onCommit)
	jsh := &shots{}
	injectShots(s, jsh, 200)
	m := &model{relayed: map[int]int{}, acked: map[seen.Key]int{}}
	check := func(what string) {
		t.Helper()
		all := checkJournal(t, what, s.ReadJournal, s.JournalLast(), m)
		mu.Lock()
		got := slices.Clone(announced)
		mu.Unlock()
		if !slices.Equal(got, seqsOf(all)) {
			t.Fatalf("%s: subscribers were told of %v, the journal holds %v", what, got, seqsOf(all))
		}
	}
	send := func(i int) error {
		el, raw := jEvent(i)
		keep := i%4 == 3 // from a remote broker
		first, err := s.CheckAndJournal(el, raw, keep, i)
		if first {
			m.relayed[i]++
			if err == nil {
				m.acked[seen.KeyOf(el)] = i
			}
		}
		if !first && err == nil && m.relayed[i] == 0 {
			t.Fatalf("event %d taken for a duplicate before it was accepted", i)
		}
		return err
	}
	for i := range events {
		if i == at {
			jsh.arm(arm)
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
	if jsh.fired != 1 {
		t.Fatalf("the fault fired %d times, want once", jsh.fired)
	}
	checkCopy(t, dir, m)
	closeT(t, s)

	s = openJ(t, dir, seen.Options{}, Options{})
	defer closeT(t, s)
	checkJournal(t, "reopened", s.ReadJournal, s.JournalLast(), m)
	for i := range events {
		el, raw := jEvent(i)
		if first, err := s.CheckAndJournal(el, raw, false, nil); first || err != nil {
			t.Fatalf("event %d after reopening: first=%v err=%v, want a duplicate", i, first, err)
		}
	}
	r, err := OpenReader(dir, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkJournal(t, "read-only view", r.Read, r.j.Stats().Last, m)
}

// checkCopy opens a copy of the store in dir as a power loss could leave
// it, with none of the seen records the journal holds reaching the disk,
// and checks that the journal holds every acknowledged event and that
// each is known as seen.
func checkCopy(t *testing.T, dir string, m *model) {
	t.Helper()
	to := filepath.Join(t.TempDir(), "copy")
	storetest.CopyAsAfterPowerLoss(t, dir, to)
	if err := os.Truncate(filepath.Join(to, "seen.log"), storedir.HeaderSize); err != nil {
		t.Fatal(err)
	}
	s := openJ(t, to, seen.Options{}, Options{})
	defer closeT(t, s)
	checkJournal(t, "after a power loss", s.ReadJournal, s.JournalLast(), m)
	for _, i := range m.acked {
		el, raw := jEvent(i)
		if first, err := s.CheckAndJournal(el, raw, false, nil); first || err != nil {
			t.Fatalf("event %d after a power loss: first=%v err=%v, want a duplicate", i, first, err)
		}
	}
}

// holdFile blocks its second WriteAt (a new segment's first records,
// after its header) until release is closed.
type holdFile struct {
	storedir.File
	writes  int
	release chan struct{}
}

func (f *holdFile) WriteAt(b []byte, off int64) (int, error) {
	f.writes++
	if f.writes == 2 {
		<-f.release
	}
	return f.File.WriteAt(b, off)
}

// TestReplayDuringRotation: while the first write to a new segment is in
// progress, the segment is in the index and empty; a subscriber
// replaying then, and the read-only view, still get every record before
// it, and crash recovery would too.
func TestReplayDuringRotation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		s := openJ(t, dir, seen.Options{}, Options{})
		addEvents(t, s, 0, 3)
		release := make(chan struct{})
		j := s.Journal
		j.wmu.Lock()
		j.segMax = 1 // rotate at the next write
		j.createSeg = func(name string) (storedir.File, error) {
			f, err := storedir.OpenFile(j.root, j.dir, name, os.O_RDWR|os.O_CREATE|os.O_EXCL)
			if err != nil {
				return nil, err
			}
			return &holdFile{File: f, release: release}, nil
		}
		j.wmu.Unlock()
		done := make(chan struct{})
		go func() {
			defer close(done)
			addEvents(t, s, 3, 4)
		}()
		var once sync.Once
		finish := func() {
			once.Do(func() { close(release) })
			<-done
		}
		defer finish()  // also when a check below fails
		synctest.Wait() // the writer is inside the new segment's first write
		if n := len(segFiles(t, dir)); n != 2 {
			t.Fatalf("%d segments during the rotation, want 2", n)
		}
		want := []uint64{1, 2, 3}
		checkReads(t, "store during a rotation", s.ReadJournal, want)
		r, err := OpenReader(dir, quiet)
		if err != nil {
			t.Fatal(err)
		}
		checkReads(t, "read-only view during a rotation", r.Read, want)
		r.Close()
		finish()
		checkReads(t, "store after the rotation", s.ReadJournal, []uint64{1, 2, 3, 4})
		closeT(t, s)
	})
}
