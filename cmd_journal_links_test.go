package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJournalOutDoesNotFollowLinks: someone who can write to the --out
// directory plants DIR/SEQ.xml as a symbolic link, to an existing file
// or to one that does not exist yet. comet journal stops with an error
// naming the link and writes nothing through it; with the link gone the
// same command writes the file.
func TestJournalOutDoesNotFollowLinks(t *testing.T) {
	dir, _ := journalDir(t, 4)
	for _, tt := range []struct {
		name   string
		exists bool // the link's target exists
	}{{"to an existing file", true}, {"dangling", false}} {
		t.Run(tt.name, func(t *testing.T) {
			out, outside := t.TempDir(), t.TempDir()
			victim := filepath.Join(outside, "victim")
			if tt.exists {
				if err := os.WriteFile(victim, []byte("precious\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			link := filepath.Join(out, "2.xml")
			if err := os.Symlink(victim, link); err != nil {
				t.Skip("no symbolic links here:", err)
			}
			code, _, errs := runJ(t, "--eventdb", dir, "--cat", "--out", out)
			if code != 1 || !strings.Contains(errs, link+" is a symbolic link") || strings.Count(errs, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 1 and one line naming %s", code, errs, link)
			}
			b, err := os.ReadFile(victim)
			switch {
			case tt.exists && (err != nil || string(b) != "precious\n"):
				t.Errorf("written through the link: %q %v", b, err)
			case !tt.exists && err == nil:
				t.Errorf("created through the link: %q", b)
			}
			if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("the link was touched: %v %v", fi, err)
			}
			if err := os.Remove(link); err != nil {
				t.Fatal(err)
			}
			if code, _, errs := runJ(t, "--eventdb", dir, "--cat", "--out", out); code != 0 {
				t.Fatalf("without the link: exit %d: %s", code, errs)
			}
			if fi, err := os.Lstat(link); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("2.xml not written: %v %v", fi, err)
			}
			list, _ := os.ReadDir(out)
			if len(list) != 4 {
				t.Errorf("%d files in --out, want 4 (no temporary ones left)", len(list))
			}
		})
	}
}
