package vtp

import (
	"crypto/tls"
	"net"
	"testing"
	"time"
)

// clientHello is the first flight a TLS client sends, for a fuzz seed.
func clientHello(t testing.TB) []byte {
	srv, cli := net.Pipe()
	defer srv.Close()
	go tls.Client(cli, &tls.Config{ServerName: "localhost"}).Handshake()
	buf := make([]byte, 4096)
	srv.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := srv.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	cli.Close()
	return buf[:n]
}

// FuzzTLSHandshakeBytes: whatever bytes a peer sends to a mutual-TLS
// endpoint before hanging up, the broker refuses it, counts it as a
// refused TLS connection and goes on serving. (A peer that stays silent
// is TestTLSHandshakeTimeout.)
func FuzzTLSHandshakeBytes(f *testing.F) {
	hello := clientHello(f)
	f.Add(hello)
	f.Add(hello[:len(hello)/2])
	f.Add(append(append([]byte{}, hello...), 0x16, 0x03, 0x03, 0xff, 0xff))
	f.Add([]byte{})
	f.Add(append([]byte{0, 0, 0, 9}, "<VOEvent/>"...))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	ca := newTestCA(f, "Fuzz CA")
	certs, _, _ := ca.certs(f, localServer("broker"))
	b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger(), Timers: Timers{Handshake: 200 * time.Millisecond},
		TLS: TLS{Server: ServerConfig(certs, ca.pool)}})
	defer shutdown(f, b)
	f.Fuzz(func(t *testing.T, data []byte) {
		before := b.tlsCounts.refusedHandshake.Load()
		srv, cli := net.Pipe()
		defer cli.Close()
		go func() { // the peer: its bytes, then it hangs up (a pipe has no half close)
			cli.Write(data)
			cli.Close()
		}()
		done := make(chan struct{})
		go func() {
			defer close(done)
			b.overTLS("receive", nil, func(c net.Conn) { t.Errorf("peer admitted after sending %q", data) })(pipeAddr{srv})
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("handshake not ended 10 s after %q", data)
		}
		if got := b.tlsCounts.refusedHandshake.Load() - before; got != 1 {
			t.Errorf("refused TLS connections went up by %d, want 1", got)
		}
	})
}
