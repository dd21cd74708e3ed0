//go:build unix

package vtp

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entries lists dir's names, failing the test if it cannot be read.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	list, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		names = append(names, e.Name())
	}
	return names
}

// TestSpoolRejectedLinkNotFollowed: someone who may write to the spool
// replaces rejected/ with a symbolic link, to a directory outside the
// spool or to another inside it. Refused files are not written through
// it: they stay in the spool, one line says why, and good files are
// still taken.
func TestSpoolRejectedLinkNotFollowed(t *testing.T) {
	for _, tt := range []struct {
		name      string
		inside    bool // the link leads to a directory within the spool
		beforeRun bool // planted before the broker starts, not while it runs
	}{
		{"outside, while running", false, false},
		{"outside, before start", false, true},
		{"inside, while running", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tb := startBroker(t, brokerIVO, nil)
			sub := dialSub(t, tb, subOpts{})
			dir := t.TempDir()
			target := t.TempDir()
			if tt.inside {
				target = filepath.Join(dir, ".elsewhere")
				if err := os.Mkdir(target, 0o700); err != nil {
					t.Fatal(err)
				}
			}
			plant := func() {
				t.Helper()
				if err := os.RemoveAll(filepath.Join(dir, RejectedDir)); err != nil {
					t.Fatal(err)
				}
				to := target
				if tt.inside {
					to = ".elsewhere" // relative, as os.Root would follow it
				}
				if err := os.Symlink(to, filepath.Join(dir, RejectedDir)); err != nil {
					t.Skip("no symbolic links here:", err)
				}
			}
			if tt.beforeRun {
				plant()
			}
			sp, err := tb.OpenSpool(dir)
			if err != nil {
				t.Fatalf("a planted link stopped the spool: %v", err)
			}
			serveOpened(t, tb, sp)
			if !tt.beforeRun {
				plant()
			}
			drop(t, dir, "bad.xml", []byte("<not an event"))
			id := ivorn("good")
			drop(t, dir, "good.xml", testEvent(id, "test", ""))
			if got := sub.nextIVORN(t); got != id {
				t.Fatalf("relayed %s, want %s", got, id)
			}
			tb.log.waitLog(t, "spool: refused file left in place: rejected is a symbolic link")
			if _, err := os.Lstat(filepath.Join(dir, "bad.xml")); err != nil {
				t.Errorf("the refused file left the spool: %v", err)
			}
			if got := entries(t, target); len(got) != 0 {
				t.Errorf("written through the link: %v", got)
			}
			if fi, err := os.Lstat(filepath.Join(dir, RejectedDir)); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the planted link was changed: %v %v", fi, err)
			}
			if n := strings.Count(tb.log.String(), "rejected is a symbolic link"); n < 1 {
				t.Errorf("no line says why:\n%s", tb.log)
			}
			// Once rejected/ is a directory again, the file goes there.
			if err := os.Remove(filepath.Join(dir, RejectedDir)); err != nil {
				t.Fatal(err)
			}
			drop(t, dir, "wake.xml", []byte("<also not"))
			waitGone(t, tb, dir, "bad.xml")
			readReason(t, dir, "bad.xml")
		})
	}
}

// TestSpoolReasonLinkNotFollowed: links planted in rejected/ in place of
// NAME and NAME.reason are replaced, not written through.
func TestSpoolReasonLinkNotFollowed(t *testing.T) {
	tb := startBroker(t, brokerIVO, nil)
	dir, outside := t.TempDir(), t.TempDir()
	serveSpool(t, tb, dir)
	victims := map[string]string{"bad.xml.reason": "reason-victim", "bad.xml": "event-victim"}
	for planted, victim := range victims {
		v := filepath.Join(outside, victim)
		if err := os.WriteFile(v, []byte("precious\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(v, filepath.Join(dir, RejectedDir, planted)); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	drop(t, dir, "bad.xml", []byte("<not an event"))
	waitGone(t, tb, dir, "bad.xml")
	readReason(t, dir, "bad.xml")
	for planted, victim := range victims {
		if b, err := os.ReadFile(filepath.Join(outside, victim)); err != nil || string(b) != "precious\n" {
			t.Errorf("%s written through the link planted as %s: %q %v", victim, planted, b, err)
		}
		if fi, err := os.Lstat(filepath.Join(dir, RejectedDir, planted)); err != nil || !fi.Mode().IsRegular() {
			t.Errorf("rejected/%s is not the spool's own file: %v %v", planted, fi, err)
		}
	}
}
