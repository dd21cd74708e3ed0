//go:build unix

package seen

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestDefaultDir(t *testing.T) {
	cases := []struct {
		name       string
		euid       int
		xdg, home  string
		want, errs string
		systemd    string // STATE_DIRECTORY
	}{
		{"systemd StateDirectory=", 1000, "/state", "/nonexistent", "/var/lib/comet-a", "", "/var/lib/comet-a:/var/lib/b"},
		{"systemd, as root", 0, "", "", "/srv/c", "", "/srv/c"},
		{"relative STATE_DIRECTORY is ignored", 0, "", "", "/var/lib/comet", "", "c"},
		{"root", 0, "/state", "/home/u", "/var/lib/comet", "", ""},
		{"XDG_STATE_HOME", 1000, "/state", "/home/u", "/state/comet", "", ""},
		{"relative XDG_STATE_HOME is ignored", 1000, "state", "/home/u", "/home/u/.local/state/comet", "", ""},
		{"no XDG_STATE_HOME", 1000, "", "/home/u", "/home/u/.local/state/comet", "", ""},
		{"no home", 1000, "", "", "", "--eventdb", ""},
		{"relative home", 1000, "", "u", "", "not an absolute path", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("XDG_STATE_HOME", tc.xdg)
			t.Setenv("HOME", tc.home)
			t.Setenv("STATE_DIRECTORY", tc.systemd)
			got, err := defaultDir(tc.euid)
			if tc.errs != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errs) {
					t.Fatalf("defaultDir = %q, %v; want an error containing %q", got, err, tc.errs)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("defaultDir = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	t.Setenv("XDG_STATE_HOME", "/state")
	got, _ := DefaultDir()
	if want, _ := defaultDir(os.Geteuid()); got != want {
		t.Fatalf("DefaultDir = %q, want %q", got, want)
	}
}

func permOf(t *testing.T, path string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

// TestOpenCreatesPrivateDir: a missing store directory and its missing
// parents are created 0700, and the lock file lives inside it, readable
// by its owner only.
func TestOpenCreatesPrivateDir(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "state", "comet")
	s := openT(t, dir, Options{})
	for _, d := range []string{filepath.Join(base, "state"), dir} {
		if m := permOf(t, d); m != fs.ModeDir|0o700 {
			t.Fatalf("%s created with mode %v, want drwx------", d, m)
		}
	}
	for _, name := range []string{lockName, logName} {
		if m := permOf(t, filepath.Join(dir, name)); m != 0o600 {
			t.Fatalf("%s created with mode %v, want -rw-------", name, m)
		}
	}
	closeT(t, s)
}

// TestOldLockFileMadePrivate: a lock file others could read (as an older
// version made them) is restricted at Open, so that in a directory others
// may enter they cannot open it to take the lock first.
func TestOldLockFileMadePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	lock := filepath.Join(dir, lockName)
	if err := os.WriteFile(lock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	closeT(t, openT(t, dir, Options{}))
	if m := permOf(t, lock); m != 0o600 {
		t.Fatalf("lock file mode %v after Open, want -rw-------", m)
	}
}

// TestOpenRefusesUnsafeDir: a store directory others can write to (even
// with the sticky bit, like /tmp), one owned by someone else, or a symbolic
// link is refused with an error naming it and saying what to do; nothing
// is created in it; once fixed as the error says, it opens.
func TestOpenRefusesUnsafeDir(t *testing.T) {
	type tc struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to open
		want  []string
		fix   func(t *testing.T, dir string) string
	}
	chmod := func(mode fs.FileMode) func(t *testing.T, dir string) string {
		return func(t *testing.T, dir string) string {
			if err := os.Chmod(dir, mode); err != nil {
				t.Fatal(err)
			}
			return dir
		}
	}
	cases := []tc{
		{"group-writable", chmod(0o770), []string{"writable by other users", "chmod 700 "}, chmod(0o700)},
		{"world-writable", chmod(0o757), []string{"writable by other users", "chmod 700 "}, chmod(0o700)},
		{"sticky and world-writable like /tmp", chmod(fs.ModeSticky | 0o777), []string{"writable by other users", "--eventdb"}, chmod(0o700)},
		{"symbolic link to a good directory", func(t *testing.T, dir string) string {
			link := dir + ".link"
			if err := os.Symlink(dir, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, []string{"is a symbolic link", "--eventdb"}, func(t *testing.T, dir string) string { return dir }},
		{"symbolic link with a trailing slash", func(t *testing.T, dir string) string {
			link := dir + ".link"
			if err := os.Symlink(dir, link); err != nil {
				t.Fatal(err)
			}
			return link + "/"
		}, []string{"is a symbolic link"}, func(t *testing.T, dir string) string { return dir }},
	}
	if os.Geteuid() == 0 {
		cases = append(cases, tc{"owned by another user", func(t *testing.T, dir string) string {
			if err := os.Chown(dir, 65534, 65534); err != nil {
				t.Fatal(err)
			}
			return dir
		}, []string{"owned by uid 65534", "--eventdb"}, func(t *testing.T, dir string) string {
			if err := os.Chown(dir, 0, 0); err != nil {
				t.Fatal(err)
			}
			return dir
		}})
	} else if st, ok := mustStat(t, "/").Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		// Not root: / is someone else's directory; there is no fixing it.
		_, err := Open("/", Options{Logger: quiet})
		if err == nil || !strings.Contains(err.Error(), "is owned by uid") {
			t.Errorf("Open(/) = %v, want refused as owned by another user", err)
		}
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "db")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := c.setup(t, dir)
			_, err := Open(path, Options{Logger: quiet})
			if err == nil {
				t.Fatalf("Open(%s) succeeded", path)
			}
			for _, w := range append(c.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("Open(%s) = %q, want it to contain %q", path, err, w)
				}
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 0 {
				t.Fatalf("refused directory was written to: %v", ents)
			}
			closeT(t, openT(t, c.fix(t, dir), Options{}))
		})
	}
}

func mustStat(t *testing.T, path string) fs.FileInfo {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}

// plant makes dir/name a symbolic link to a file holding precious, outside
// the store or inside it, and returns a check that the file is untouched
// and the link still there.
func plant(t *testing.T, dir, name string, outside bool) (target string, untouched func()) {
	t.Helper()
	target = filepath.Join(dir, "other")
	if outside {
		target = filepath.Join(t.TempDir(), "precious")
	}
	precious := []byte("precious\n")
	if err := os.WriteFile(target, precious, 0o640); err != nil {
		t.Fatal(err)
	}
	linkTo := target
	if !outside {
		linkTo = "other" // relative, as a link inside the directory would be
	}
	link := filepath.Join(dir, name)
	if err := os.Symlink(linkTo, link); err != nil {
		t.Fatal(err)
	}
	return target, func() {
		t.Helper()
		if b, err := os.ReadFile(target); err != nil || !bytes.Equal(b, precious) {
			t.Fatalf("link target %s changed: %q, %v", target, b, err)
		}
		if m := permOf(t, target); m != 0o640 {
			t.Fatalf("link target %s mode changed to %v", target, m)
		}
		if m := permOf(t, link); m&fs.ModeSymlink == 0 {
			t.Fatalf("link %s replaced by %v", link, m)
		}
	}
}

func wantLinkErr(t *testing.T, err error, link string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), link+" is a symbolic link") {
		t.Fatalf("got %v, want an error naming the symbolic link %s", err, link)
	}
}

// TestOpenRefusesLinkedFiles: a store file planted as a symbolic link, to
// a file outside the store or inside it, makes Open fail naming the link,
// and the file it points to is not modified.
func TestOpenRefusesLinkedFiles(t *testing.T) {
	for _, name := range []string{logName, lockName, tmpName} {
		for _, outside := range []bool{true, false} {
			t.Run(name+map[bool]string{true: " outside", false: " inside"}[outside], func(t *testing.T) {
				dir := t.TempDir()
				_, untouched := plant(t, dir, name, outside)
				_, err := Open(dir, Options{Logger: quiet})
				wantLinkErr(t, err, filepath.Join(dir, name))
				untouched()
			})
		}
	}
	t.Run("dangling", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Symlink("missing", logPath(dir)); err != nil {
			t.Fatal(err)
		}
		_, err := Open(dir, Options{Logger: quiet})
		wantLinkErr(t, err, logPath(dir))
		if _, err := os.Lstat(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open created the dangling link's target: %v", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(logPath(dir), 0o700); err != nil {
			t.Fatal(err)
		}
		_, err := Open(dir, Options{Logger: quiet})
		if err == nil || !strings.Contains(err.Error(), logPath(dir)+" is not a regular file") {
			t.Fatalf("Open with a directory as the log: %v", err)
		}
	})
}

// TestCompactRefusesLinkedTemp: a compaction file planted as a link after
// Open makes compaction fail naming it, without touching the link or its
// target; the store keeps working and compacts once the link is gone.
func TestCompactRefusesLinkedTemp(t *testing.T) {
	for _, outside := range []bool{true, false} {
		dir := t.TempDir()
		s := openT(t, dir, Options{})
		record(t, s, keyN(1), true)
		record(t, s, keyN(1), false)
		_, untouched := plant(t, dir, tmpName, outside)
		wantLinkErr(t, s.Compact(), tmpPathOf(dir))
		untouched()
		record(t, s, keyN(2), true)
		if err := os.Remove(tmpPathOf(dir)); err != nil {
			t.Fatal(err)
		}
		if err := s.Compact(); err != nil {
			t.Fatal(err)
		}
		closeT(t, s)
		s = openT(t, dir, Options{})
		record(t, s, keyN(1), false)
		record(t, s, keyN(2), false)
		closeT(t, s)
	}
}

// TestDamagedLogLinkedCopy: the copy of a damaged log is not written
// through a link planted at its name; Open refuses rather than lose the
// evidence, and the target is untouched.
func TestDamagedLogLinkedCopy(t *testing.T) {
	full := recorded(t, 5)
	damaged := bytes.Clone(full)
	damaged[headerSize+2*recordSize+3] ^= 1
	dir := t.TempDir()
	writeLog(t, dir, damaged)
	name := corruptName + "1775044800" // fixedNow
	_, untouched := plant(t, dir, name, true)
	_, err := Open(dir, Options{Logger: quiet, Now: fixedNow})
	wantLinkErr(t, err, filepath.Join(dir, name))
	untouched()
	if !bytes.Equal(readLog(t, dir), damaged) {
		t.Fatal("the damaged log was rewritten without a copy")
	}
}
