//go:build !unix

package vtp

import "os"

// checkSpoolPerm has no permission bits to check here.
func checkSpoolPerm(dir string, fi os.FileInfo) error { return nil }

// openNoFollow opens path for reading; the caller has checked with Lstat
// that it is a regular file, and checks again on the open file.
func openNoFollow(path string) (*os.File, error) { return os.Open(path) }
