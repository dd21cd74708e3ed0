package vtp

import (
	"net"
	"syscall"
	"unsafe"
)

// rawConn is c's socket, for writevNow, or nil if c has none (TLS, an
// in-memory pipe).
func rawConn(c net.Conn) syscall.RawConn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// rawWriter is writevNow's working space, kept in a writer's scratch so
// that a write allocates nothing: the iovecs, the outcome, and the
// callback bound to them once.
type rawWriter struct {
	iov     [2 * maxWriteBatch]syscall.Iovec
	n       int // iovecs in use
	written int
	err     error
	do      func(fd uintptr) bool
}

// writevNow writes bufs (at most 2*maxWriteBatch of them) to rc's socket
// in one writev system call that does not wait: it returns how many bytes
// the socket took, possibly none when its buffer is full. The socket is
// non-blocking, as every socket the net package opens is. The package
// syscall has no writev, so it is called directly; each iovec points into
// a slice of bufs, which stays alive for the call.
func writevNow(rc syscall.RawConn, bufs [][]byte, sc *scratch) (int, error) {
	w := sc.raw
	if w == nil {
		w = new(rawWriter)
		w.do = w.writev
		sc.raw = w
	}
	w.n, w.written, w.err = 0, 0, nil
	for _, b := range bufs {
		if len(b) == 0 {
			continue
		}
		w.iov[w.n].Base = &b[0]
		w.iov[w.n].SetLen(len(b))
		w.n++
	}
	defer clear(w.iov[:w.n]) // the pool must not keep events alive
	if w.n == 0 {
		return 0, nil
	}
	if err := rc.Write(w.do); err != nil {
		return 0, err
	}
	return w.written, w.err
}

// writev is the system call, made with the socket locked by rc.Write. It
// never asks to wait for room.
func (w *rawWriter) writev(fd uintptr) bool {
	for {
		r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&w.iov[0])), uintptr(w.n))
		switch e {
		case 0:
			w.written = int(r)
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
		default:
			w.err = e
		}
		return true
	}
}
