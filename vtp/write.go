package vtp

import "net"

// buffersWriter is a connection that writes a batch of buffers its own
// way (a TLS connection gathers them into records).
type buffersWriter interface {
	writeBuffers(bufs *net.Buffers) (int64, error)
}

// writeBuffers writes bufs to c, the write used for every subscriber: on
// a plain connection one writev system call; on a connection that is a
// buffersWriter, its own way.
func writeBuffers(c net.Conn, bufs *net.Buffers) (int64, error) {
	if w, ok := c.(buffersWriter); ok {
		return w.writeBuffers(bufs)
	}
	return bufs.WriteTo(c)
}
