//go:build unix

package vtp

import (
	"bufio"
	"crypto/tls"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// benchTLSBroker runs a broker with plain and mutual-TLS endpoints for a
// benchmark; it returns the four addresses and a client certificate.
func benchTLSBroker(b *testing.B, k int) (br *Broker, recv, bcast, tlsRecv, tlsBcast string, ca *testCA, client tls.Certificate) {
	ca = newTestCA(b, "Bench CA")
	certs, _, _ := ca.certs(b, localServer("bench"))
	br = New(Config{LocalIVO: brokerIVO, Logger: discardLogger(), QueueLen: 1 << 16, MaxConnsPerAddr: 1 << 20,
		TLS: TLS{Server: ServerConfig(certs, ca.pool)}})
	listen := func(serve func(net.Listener) error) string {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		go serve(l)
		return l.Addr().String()
	}
	recv, bcast = listen(br.ServeAuthors), listen(br.ServeSubscribers)
	tlsRecv, tlsBcast = listen(br.ServeAuthorsTLS), listen(br.ServeSubscribersTLS)
	b.Cleanup(func() { shutdown(b, br) })
	return br, recv, bcast, tlsRecv, tlsBcast, ca, ca.pair(b, certSpec{cn: "author", uris: []string{"ivo://example.org/test"}})
}

// BenchmarkFirstEventAck is one author connection per iteration: connect,
// (TLS handshake with a client certificate,) send one event and wait for
// its ack. The difference between the two is what TLS adds to a fresh
// author connection; ns/op is wall time, cpu-ns/op the CPU both ends
// used (client and broker share the process).
func BenchmarkFirstEventAck(b *testing.B) {
	for _, secure := range []bool{false, true} {
		name := "plain"
		if secure {
			name = "tls"
		}
		b.Run(name, func(b *testing.B) {
			_, recv, _, tlsRecv, _, ca, cert := benchTLSBroker(b, 1)
			ev := testEvent("ivo://example.org/test#bench", "test", "")
			conf := &tls.Config{RootCAs: ca.pool, Certificates: []tls.Certificate{cert}}
			var lat time.Duration
			cpu := startCPU()
			for b.Loop() {
				start := time.Now()
				var c net.Conn
				var err error
				if secure {
					c, err = tls.Dial("tcp", tlsRecv, conf)
				} else {
					c, err = net.Dial("tcp", recv)
				}
				if err != nil {
					b.Fatal(err)
				}
				WriteFrame(c, ev)
				if _, err := ReadFrame(bufio.NewReader(c), DefaultMaxFrame); err != nil {
					b.Fatal(err)
				}
				lat += time.Since(start)
				c.Close()
			}
			b.ReportMetric(float64(cpu.used())/float64(b.N), "cpu-ns/op")
			b.ReportMetric(float64(lat.Microseconds())/float64(b.N), "µs-to-ack")
		})
	}
}

// BenchmarkTLSHandshake is the CPU of one server-side handshake with a
// client certificate (ECDSA P-256 keys, TLS 1.3), both ends in process.
func BenchmarkTLSHandshake(b *testing.B) {
	ca := newTestCA(b, "Bench CA")
	certs, _, _ := ca.certs(b, localServer("bench"))
	server := ServerConfig(certs, ca.pool)
	client := &tls.Config{RootCAs: ca.pool, ServerName: "localhost", Certificates: []tls.Certificate{ca.pair(b, certSpec{cn: "a"})}}
	cpu := startCPU()
	for b.Loop() {
		s, c := net.Pipe()
		done := make(chan error, 1)
		go func() { done <- tls.Server(s, server).Handshake() }()
		if err := tls.Client(c, client).Handshake(); err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		s.Close()
		c.Close()
	}
	b.ReportMetric(float64(cpu.used())/float64(b.N), "cpu-ns/op")
}

// BenchmarkRelayTLS is BenchmarkRelayDistinctFilters' relay, without
// filters, at 100 subscribers over plain TCP and over TLS.
func BenchmarkRelayTLS(b *testing.B) {
	for _, secure := range []bool{false, true} {
		name := "plain"
		if secure {
			name = "tls"
		}
		b.Run(name+"/subs=100", func(b *testing.B) { benchRelayTLS(b, 100, secure) })
	}
}

func benchRelayTLS(b *testing.B, k int, secure bool) {
	br, recv, bcast, tlsRecv, tlsBcast, ca, cert := benchTLSBroker(b, k)
	conf := &tls.Config{RootCAs: ca.pool, Certificates: []tls.Certificate{cert}}
	dial := func(plain, tlsAddr string) net.Conn {
		var c net.Conn
		var err error
		if secure {
			c, err = tls.Dial("tcp", tlsAddr, conf)
		} else {
			c, err = net.Dial("tcp", plain)
		}
		if err != nil {
			b.Fatal(err)
		}
		return c
	}
	var received sync.WaitGroup
	counts := make(chan int, k)
	var conns []net.Conn
	for range k {
		c := dial(bcast, tlsBcast)
		conns = append(conns, c)
		r := bufio.NewReader(c)
		if _, err := ReadFrame(r, DefaultMaxFrame); err != nil {
			b.Fatal(err)
		}
		WriteFrame(c, AuthenticateResponse(brokerIVO, "ivo://example.org/sub", nil, time.Now()))
		received.Go(func() { counts <- countEvents(r, b.N) })
	}
	for authenticatedSubscribers(br) < k {
		time.Sleep(time.Millisecond)
	}
	events := benchEvents(b.N)
	author := dial(recv, tlsRecv)
	defer author.Close()
	go func() {
		r := bufio.NewReader(author)
		for {
			if _, err := ReadFrame(r, DefaultMaxFrame); err != nil {
				return
			}
		}
	}()
	b.SetBytes(int64(len(events[0])))
	b.ResetTimer()
	cpu := startCPU()
	start := time.Now()
	w := bufio.NewWriter(author)
	for _, ev := range events {
		WriteFrame(w, ev)
	}
	w.Flush()
	received.Wait()
	elapsed := time.Since(start)
	used := cpu.used()
	b.StopTimer()
	for range k {
		if n := <-counts; n != b.N {
			b.Fatalf("a subscriber got %d of %d events", n, b.N)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	b.ReportMetric(float64(b.N*k)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(used)/float64(b.N*k), "cpu-ns/delivery")
}

// cpuClock measures the CPU time (user and system) of the whole process
// since it started: broker and test clients together.
type cpuClock struct{ start time.Duration }

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU() cpuClock               { return cpuClock{processCPU()} }
func (c cpuClock) used() time.Duration { return processCPU() - c.start }
