//go:build !linux

package vtp

import (
	"errors"
	"net"
	"syscall"
)

// rawConn is nil off Linux: every write to a subscriber goes through a
// writer goroutine.
func rawConn(net.Conn) syscall.RawConn { return nil }

// rawWriter is writevNow's working space; there is none off Linux.
type rawWriter struct{}

// writevNow is never called where rawConn is nil.
func writevNow(syscall.RawConn, [][]byte, *scratch) (int, error) {
	return 0, errors.New("vtp: writing without waiting is not supported here")
}
