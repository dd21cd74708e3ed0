package seen

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestOpenNotWritableAsRoot: sysfs's root refuses new files even to root,
// so the not-writable error can be checked when the tests run as root
// (TestOpenErrors checks it for other users, to whom Open refuses /sys
// before trying to write, as a directory they do not own).
func TestOpenNotWritableAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("not root")
	}
	const sysfsMagic = 0x62656572
	var st syscall.Statfs_t
	if err := syscall.Statfs("/sys", &st); err != nil || st.Type != sysfsMagic {
		t.Skip("/sys is not sysfs here")
	}
	_, err := Open("/sys", Options{Logger: quiet})
	if err == nil {
		t.Fatal("Open(/sys) succeeded")
	}
	if !strings.Contains(err.Error(), "/sys is not writable") ||
		!(errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EROFS)) {
		t.Fatalf("Open(/sys) = %v", err)
	}
	t.Log(err)
}
