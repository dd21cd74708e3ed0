//go:build unix

package vtp

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serveSpool runs a spool on dir for tb until the test ends.
func serveSpool(t *testing.T, tb *testBroker, dir string) *Spool {
	t.Helper()
	sp, err := tb.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	return serveOpened(t, tb, sp)
}

func serveOpened(t *testing.T, tb *testBroker, sp *Spool) *Spool {
	done := make(chan struct{})
	go func() { sp.Serve(); close(done) }()
	t.Cleanup(func() { shutdown(t, tb.Broker); <-done })
	return sp
}

// drop writes an event into a spool as a writer should: under a dotfile
// name, then renamed in.
func drop(t *testing.T, dir, name string, content []byte) {
	t.Helper()
	tmp := filepath.Join(dir, ".tmp-"+name)
	if err := os.WriteFile(tmp, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// waitGone waits until dir/name no longer exists, failing after 20 s.
func waitGone(t *testing.T, tb *testBroker, dir, name string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := os.Lstat(filepath.Join(dir, name)); os.IsNotExist(err) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still in the spool after 20 s; log:\n%s", name, tb.log)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readReason(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, RejectedDir, name+".reason"))
	if err != nil {
		t.Fatalf("no reason file for %s: %v", name, err)
	}
	if _, err := os.Lstat(filepath.Join(dir, RejectedDir, name)); err != nil {
		t.Errorf("%s not moved to %s: %v", name, RejectedDir, err)
	}
	if strings.Count(string(b), "\n") != 1 || !strings.HasSuffix(string(b), "\n") {
		t.Errorf("reason for %s is not one line: %q", name, b)
	}
	return strings.TrimSpace(string(b))
}

func TestSpoolAcceptsAndRelays(t *testing.T) {
	tb := startBroker(t, "ivo://example.org/broker", nil)
	sub := dialSub(t, tb, subOpts{})
	dir := t.TempDir()
	sp := serveSpool(t, tb, dir)
	id := ivorn("spool")
	drop(t, dir, "a.xml", testEvent(id, "observation", ""))
	if got := sub.nextIVORN(t); got != id {
		t.Fatalf("relayed %s, want %s", got, id)
	}
	waitGone(t, tb, dir, "a.xml")
	if ev := <-tb.delivered; ev.IVORN != id {
		t.Errorf("handlers got %s", ev.IVORN)
	}
	// The same event again, under another name: acknowledged as a
	// duplicate, removed, not relayed.
	drop(t, dir, "b.xml", testEvent(id, "observation", ""))
	waitGone(t, tb, dir, "b.xml")
	snap := tb.Snapshot()
	if len(snap.Spools) != 1 {
		t.Fatalf("snapshot spools: %+v", snap.Spools)
	}
	if s := snap.Spools[0]; s.Accepted != 1 || s.Duplicates != 1 || s.Rejected != 0 || s.Dir != dir {
		t.Errorf("spool figures %+v, want 1 accepted, 1 duplicate", s)
	}
	if sp.info().Watching != (watchSupported) {
		t.Errorf("inotify in use: %v, want %v", sp.info().Watching, watchSupported)
	}
	if n := snap.Counters.AcceptedFromAuthors; n != 1 {
		t.Errorf("accepted from authors %d, want 1", n)
	}
	if snap.LastEvent == nil || snap.LastEvent.Source != "spool "+dir {
		t.Errorf("last event %+v", snap.LastEvent)
	}
	select {
	case raw := <-sub.events:
		t.Errorf("relayed again: %.200s", raw)
	default:
	}
}

// TestSpoolPolls: without inotify, as on systems other than Linux, the
// spool still notices new files, by scanning every second.
func TestSpoolPolls(t *testing.T) {
	tb := startBroker(t, "ivo://example.org/broker", nil)
	sub := dialSub(t, tb, subOpts{})
	dir := t.TempDir()
	sp, err := tb.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	sp.poll = true
	serveOpened(t, tb, sp)
	tb.log.waitLog(t, "spool ready")
	for i := range 3 {
		id := ivorn("polled")
		drop(t, dir, fmt.Sprintf("%d.xml", i), testEvent(id, "test", ""))
		if got := sub.nextIVORN(t); got != id {
			t.Fatalf("relayed %s, want %s", got, id)
		}
	}
	if sp.info().Watching || !strings.Contains(tb.log.String(), "polling it every second") {
		t.Errorf("not polling: %+v\n%s", sp.info(), tb.log)
	}
}

func TestSpoolRefusesWithReason(t *testing.T) {
	tb := startBroker(t, "ivo://example.org/broker", func(c *Config) { c.MaxFrame = 2048 })
	sub := dialSub(t, tb, subOpts{})
	dir := t.TempDir()
	serveSpool(t, tb, dir)
	big := testEvent(ivorn("big"), "observation", `<Description>`+strings.Repeat("x", 4096)+`</Description>`)
	cases := []struct {
		name    string
		content []byte
		reason  string
	}{
		{"invalid.xml", testEvent("ivo://example.org/test", "observation", ""), "ivorn"},
		{"broken.xml", []byte("<voe:VOEvent role=\"test\" ivorn=\"ivo://x/y#z\"\n\n>"), "not well-formed XML"},
		{"binary.xml", []byte{0, 1, 2, 0xff, 0xfe, '<'}, "not well-formed XML"},
		{"big.xml", big, fmt.Sprintf("event of %d bytes exceeds this broker's limit of 2048 bytes", len(big))},
		{"transport.xml", Ack("ivo://x/y#z", "ivo://x/y", "", time.Now()), "not a VOEvent"},
	}
	for _, c := range cases {
		drop(t, dir, c.name, c.content)
	}
	good := ivorn("after")
	drop(t, dir, "z.xml", testEvent(good, "test", ""))
	// The broker goes on: the good file after them is relayed, and is the
	// only event relayed.
	if got := sub.nextIVORN(t); got != good {
		t.Fatalf("relayed %s, want %s", got, good)
	}
	// A file is counted when it is settled, just after its event is
	// relayed; once it is gone it has been counted.
	waitGone(t, tb, dir, "z.xml")
	for _, c := range cases {
		waitGone(t, tb, dir, c.name)
		if r := readReason(t, dir, c.name); !strings.Contains(r, c.reason) {
			t.Errorf("%s: reason %q, want it to say %q", c.name, r, c.reason)
		}
	}
	if s := tb.Snapshot().Spools[0]; s.Rejected != int64(len(cases)) || s.Accepted != 1 {
		t.Errorf("spool figures %+v", s)
	}
}

func TestSpoolIgnoresOtherNames(t *testing.T) {
	tb := startBroker(t, "ivo://example.org/broker", nil)
	sub := dialSub(t, tb, subOpts{})
	dir := t.TempDir()
	ignored := []string{".hidden.xml", "half.xml.tmp", "event.tmp", "notes.txt", ".xml", "README"}
	for _, n := range ignored {
		if err := os.WriteFile(filepath.Join(dir, n), testEvent(ivorn("ignored"), "test", ""), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	serveSpool(t, tb, dir)
	marker := ivorn("marker")
	drop(t, dir, "marker.xml", testEvent(marker, "test", ""))
	if got := sub.nextIVORN(t); got != marker {
		t.Fatalf("relayed %s, want only the marker", got)
	}
	waitGone(t, tb, dir, "marker.xml")
	for _, n := range ignored {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			t.Errorf("%s was touched: %v", n, err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, RejectedDir))
	if len(entries) != 0 {
		t.Errorf("rejected/ holds %d entries", len(entries))
	}
}

func TestSpoolDoesNotFollowLinks(t *testing.T) {
	tb := startBroker(t, "ivo://example.org/broker", nil)
	sub := dialSub(t, tb, subOpts{})
	dir, outside := t.TempDir(), t.TempDir()
	target := filepath.Join(outside, "secret.xml")
	if err := os.WriteFile(target, testEvent(ivorn("linked"), "test", ""), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, "link.xml")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.xml"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub.xml"), 0o700); err != nil {
		t.Fatal(err)
	}
	serveSpool(t, tb, dir)
	marker := ivorn("marker")
	drop(t, dir, "z.xml", testEvent(marker, "test", ""))
	if got := sub.nextIVORN(t); got != marker {
		t.Fatalf("relayed %s: the link was followed", got)
	}
	waitGone(t, tb, dir, "link.xml")
	if r := readReason(t, dir, "link.xml"); !strings.Contains(r, "symbolic link") {
		t.Errorf("link reason %q", r)
	}
	if fi, err := os.Lstat(filepath.Join(dir, RejectedDir, "link.xml")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link itself should be in rejected/: %v %v", fi, err)
	}
	if _, err := os.Stat(target); err != nil {
		t.Errorf("the link's target was touched: %v", err)
	}
	for _, n := range []string{"fifo.xml", "sub.xml"} {
		waitGone(t, tb, dir, n)
		if r := readReason(t, dir, n); r != "not a regular file" {
			t.Errorf("%s reason %q", n, r)
		}
	}
	if !strings.Contains(tb.log.String(), "symbolic link is not followed") {
		t.Errorf("log does not say why the link was skipped:\n%s", tb.log)
	}
}

// TestSpoolKeepsFilesOnStorageFailure: when the seen store cannot write,
// the file stays in the spool (not in rejected/) and is taken once the
// store works again.
func TestSpoolKeepsFilesOnStorageFailure(t *testing.T) {
	tb := startBroker(t, "ivo://example.org/broker", nil)
	sub := dialSub(t, tb, subOpts{})
	tb.seen.fail.Store(true)
	dir := t.TempDir()
	serveSpool(t, tb, dir)
	id := ivorn("retry")
	drop(t, dir, "a.xml", testEvent(id, "test", ""))
	tb.log.waitLog(t, "spool: left in place, to retry")
	if _, err := os.Stat(filepath.Join(dir, "a.xml")); err != nil {
		t.Fatalf("file gone after a storage failure: %v", err)
	}
	tb.seen.fail.Store(false)
	if got := sub.nextIVORN(t); got != id {
		t.Fatalf("relayed %s", got)
	}
	waitGone(t, tb, dir, "a.xml")
	if _, err := os.Stat(filepath.Join(dir, RejectedDir, "a.xml")); err == nil {
		t.Error("a temporary failure sent the file to rejected/")
	}
}

// TestSpoolBurst drops 10,000 files, half before the spool starts and
// half while it runs, and checks a subscriber receives every event exactly once, in name order,
// and the spool ends empty.
func TestSpoolBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 files")
	}
	const n = 10000
	tb := startBroker(t, "ivo://example.org/broker", nil)
	tb.Broker.cfg.Deliver = nil // the test's buffered handler channel would fill
	sub := dialSub(t, tb, subOpts{})
	dir := t.TempDir()
	want := make([]string, n)
	write := func(i int) {
		want[i] = fmt.Sprintf("ivo://example.org/test#burst-%05d", i)
		drop(t, dir, fmt.Sprintf("%05d.xml", i), testEvent(want[i], "test", ""))
	}
	// Half are waiting when the spool starts, more than one scan holds;
	// the other half arrive while it works.
	for i := range n / 2 {
		write(i)
	}
	serveSpool(t, tb, dir)
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := n/2 + w; i < n; i += 4 {
				write(i)
			}
		})
	}
	got := map[string]int{}
	var order []string
	for len(order) < n {
		id := sub.nextIVORN(t)
		got[id]++
		order = append(order, id)
	}
	wg.Wait()
	for _, id := range want {
		if got[id] != 1 {
			t.Fatalf("%s relayed %d times", id, got[id])
		}
	}
	waitGone(t, tb, dir, fmt.Sprintf("%05d.xml", n-1))
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 { // rejected/
		t.Errorf("spool holds %d entries after the burst", len(entries))
	}
	// Within one scan files pass in name order; files written while a
	// scan runs come in a later one, so count how far order was kept.
	inOrder := 0
	for i := 1; i < len(order); i++ {
		if order[i] > order[i-1] {
			inOrder++
		}
	}
	t.Logf("%d of %d successive relays in name order", inOrder, n-1)
	select {
	case raw := <-sub.events:
		t.Errorf("more than %d events relayed: %.200s", n, raw)
	default:
	}
	if s := tb.Snapshot().Spools[0]; s.Accepted != n {
		t.Errorf("spool figures %+v", s)
	}
}

func TestSpoolDirectory(t *testing.T) {
	tb := startBroker(t, "ivo://example.org/broker", nil)
	// A missing directory is created, for the broker's user alone.
	dir := filepath.Join(t.TempDir(), "spool", "in")
	if _, err := tb.OpenSpool(dir); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("created %v %v, want mode 0700", fi, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, RejectedDir)); err != nil || !fi.IsDir() {
		t.Errorf("no rejected/: %v", err)
	}
	// One every user may write to is refused; group write is allowed.
	open := t.TempDir()
	os.Chmod(open, 0o777)
	if _, err := tb.OpenSpool(open); err == nil || !strings.Contains(err.Error(), "writable by every user") {
		t.Errorf("world-writable spool: %v", err)
	}
	os.Chmod(open, 0o1777)
	if _, err := tb.OpenSpool(open); err == nil {
		t.Error("world-writable sticky spool accepted")
	}
	os.Chmod(open, 0o770)
	if _, err := tb.OpenSpool(open); err != nil {
		t.Errorf("group-writable spool: %v", err)
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o600)
	if _, err := tb.OpenSpool(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("a file as spool: %v", err)
	}
}

func TestSpoolNames(t *testing.T) {
	for name, want := range map[string]bool{
		"a.xml": true, "2026-12-01T00:00:00.xml": true, "x.y.xml": true,
		".a.xml": false, ".xml": false, "a.xml.tmp": false, "a.XML": false, "a.xm": false, "a": false, "": false,
	} {
		if got := isSubmissionName(name); got != want {
			t.Errorf("isSubmissionName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestSpoolFileVanishesOrUnreadable: a file gone before it is read is
// skipped quietly; one that cannot be opened is logged and left in place;
// neither stops the files after it.
func TestSpoolFileVanishesOrUnreadable(t *testing.T) {
	tb := startBroker(t, "ivo://example.org/broker", nil)
	dir := t.TempDir()
	sp, err := tb.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, v, ok := sp.read("gone.xml", sp.log); ok || v != "" || sp.failed.Load() != 0 {
		t.Errorf("vanished file: ok %v, refusal %q, errors %d", ok, v, sp.failed.Load())
	}
	if os.Geteuid() == 0 {
		t.Log("running as root: every file is readable, the unreadable case is not tried")
		return
	}
	sub := dialSub(t, tb, subOpts{})
	locked := filepath.Join(dir, "a.xml")
	os.WriteFile(locked, testEvent(ivorn("locked"), "test", ""), 0o000)
	serveSpool(t, tb, dir)
	id := ivorn("after")
	drop(t, dir, "b.xml", testEvent(id, "test", ""))
	if got := sub.nextIVORN(t); got != id {
		t.Fatalf("relayed %s", got)
	}
	if _, err := os.Stat(locked); err != nil {
		t.Errorf("unreadable file gone: %v", err)
	}
	if !strings.Contains(tb.log.String(), "spool: cannot open the file: left in place") {
		t.Errorf("not logged:\n%s", tb.log)
	}
}

// TestSpoolHostileFiles: a sparse file of 1 GiB is refused by its size
// without being read, a name with a line break keeps the log one line a
// record, and authors on the port are served all the while.
func TestSpoolHostileFiles(t *testing.T) {
	tb := startBroker(t, "ivo://example.org/broker", nil)
	sub := dialSub(t, tb, subOpts{})
	dir := t.TempDir()
	huge := filepath.Join(dir, "huge.xml")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1 << 30); err != nil {
		t.Skip("no sparse files here:", err)
	}
	f.Close()
	evil := "evil\nlevel=ERROR msg=forged.xml"
	drop(t, dir, evil, testEvent("ivo://example.org/bad\nlevel=ERROR", "test", ""))
	serveSpool(t, tb, dir)
	viaPort := ivorn("port")
	mustAck(t, tb.recv, testEvent(viaPort, "test", ""))
	if got := sub.nextIVORN(t); got != viaPort {
		t.Fatalf("relayed %s", got)
	}
	waitGone(t, tb, dir, "huge.xml")
	waitGone(t, tb, dir, evil)
	if r := readReason(t, dir, "huge.xml"); r != fmt.Sprintf("event of %d bytes exceeds this broker's limit of %d bytes", 1<<30, DefaultMaxFrame) {
		t.Errorf("huge reason %q", r)
	}
	readReason(t, dir, evil) // one line, checked there
	for _, line := range strings.Split(tb.log.String(), "\n") {
		if strings.HasPrefix(line, "level=ERROR") {
			t.Errorf("a file name forged a log line: %q", line)
		}
	}
	if s := tb.Snapshot(); s.Counters.RefusedOversized != 1 || s.Spools[0].Rejected != 2 {
		t.Errorf("counters %+v, spool %+v", s.Counters, s.Spools[0])
	}
}
