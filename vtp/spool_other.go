//go:build !unix

package vtp

import "os"

// checkSpoolPerm has no permission bits to check here.
func checkSpoolPerm(dir string, fi os.FileInfo) error { return nil }

// openNoFollow opens name in dir for reading. os.Root follows a link
// only to somewhere inside dir; the caller makes sure what was opened is
// what it looked at with Lstat.
func openNoFollow(dir *os.Root, name string) (*os.File, error) { return dir.Open(name) }
