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
// callback bound to them once. The iovecs hold every buffer of a batch
// of maxWriteBatch messages however they are framed; writevNow sends
// longer lists in several calls all the same.
type rawWriter struct {
	iov     [2 * maxBatchFrames]syscall.Iovec
	n       int // iovecs in use
	written int
	err     error
	do      func(fd uintptr) bool
}

// writevNow writes bufs to rc's socket without waiting: it returns how
// many bytes the socket took, possibly none when its buffer is full, and
// the caller keeps what follows them (leftOver). The socket is
// non-blocking, as every socket the net package opens is. Each writev
// system call sends at most len(iov) buffers; the next ones go in another
// call only if the socket took all of those, so a list of any length
// neither overruns the iovecs nor leaves a gap. The package syscall has
// no writev, so it is called directly; each iovec points into a slice of
// bufs, which stays alive for the call.
func writevNow(rc syscall.RawConn, bufs [][]byte, sc *scratch) (int, error) {
	w := sc.raw
	if w == nil {
		w = new(rawWriter)
		w.do = w.writev
		sc.raw = w
	}
	total := 0
	for len(bufs) > 0 {
		w.n, w.written, w.err = 0, 0, nil
		want := 0
		for len(bufs) > 0 && w.n < len(w.iov) {
			b := bufs[0]
			bufs = bufs[1:]
			if len(b) == 0 {
				continue
			}
			w.iov[w.n].Base = &b[0]
			w.iov[w.n].SetLen(len(b))
			w.n++
			want += len(b)
		}
		if w.n == 0 {
			break
		}
		err := rc.Write(w.do)
		clear(w.iov[:w.n]) // the pool must not keep events alive
		if err == nil {
			err = w.err
		}
		total += w.written
		if err != nil {
			return total, err
		}
		if w.written < want {
			break // the socket is full: the rest is left over
		}
	}
	return total, nil
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
