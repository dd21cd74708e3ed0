package vtp

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkRelayDistinctFilters relays events from one author to 1000
// subscribers over loopback, each subscriber holding a different filter
// that the events match, and reports events/s and the broker's cost per
// delivery. Subscribers count frames without parsing them, so the figure
// is dominated by the broker: filter evaluation, queueing and writes.
func BenchmarkRelayDistinctFilters(b *testing.B) {
	for _, k := range []int{100, 1000} {
		b.Run(fmt.Sprintf("subs=%d", k), func(b *testing.B) { benchRelay(b, k) })
	}
}

func benchRelay(b *testing.B, k int) {
	br := New(Config{LocalIVO: brokerIVO, Logger: discardLogger(), QueueLen: 1 << 16, MaxConnsPerAddr: 2 * k})

	lr, _ := net.Listen("tcp", "127.0.0.1:0")
	lb, _ := net.Listen("tcp", "127.0.0.1:0")
	go br.ServeAuthors(lr)
	go br.ServeSubscribers(lb)
	defer shutdown(b, br)

	var received sync.WaitGroup
	counts := make(chan int, k)
	var conns []net.Conn
	for i := range k {
		c, err := net.Dial("tcp", lb.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		r := bufio.NewReader(c)
		if _, err := ReadFrame(r, DefaultMaxFrame); err != nil { // authenticate
			b.Fatal(err)
		}
		filter := fmt.Sprintf(`//Param[@name="seq" and @value > %d]`, -1-i)
		WriteFrame(c, AuthenticateResponse(brokerIVO, "ivo://example.org/sub", []string{filter}, time.Now()))
		received.Go(func() { counts <- countEvents(r, b.N) })
	}
	for authenticatedSubscribers(br) < k {
		time.Sleep(time.Millisecond)
	}
	events := benchEvents(b.N)
	author, err := net.Dial("tcp", lr.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer author.Close()
	go func() { // answers, read so the author's socket never fills
		r := bufio.NewReader(author)
		for {
			if _, err := ReadFrame(r, DefaultMaxFrame); err != nil {
				return
			}
		}
	}()

	b.SetBytes(int64(len(events[0])))
	b.ResetTimer()
	start := time.Now()
	w := bufio.NewWriter(author)
	for _, ev := range events {
		WriteFrame(w, ev)
	}
	w.Flush()
	received.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	for range k {
		if n := <-counts; n != b.N {
			b.Fatalf("a subscriber got %d of %d events", n, b.N)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(b.N*k)/elapsed.Seconds(), "deliveries/s")
}

// countEvents reads frames from r until want events have come, or the
// connection ends, and returns how many came.
func countEvents(r *bufio.Reader, want int) int {
	n := 0
	for n < want {
		raw, err := ReadFrame(r, DefaultMaxFrame)
		if err != nil {
			break
		}
		if strings.Contains(string(raw[:min(len(raw), 200)]), "VOEvent") {
			n++
		}
	}
	return n
}

// benchEvents returns n distinct events of about 4 KB, each with a seq
// Param for filters to test.
func benchEvents(n int) [][]byte {
	pad := strings.Repeat(`<Param name="pad" value="1.2345" dataType="float" ucd="meta.code"/>`, 50)
	events := make([][]byte, n)
	for i := range events {
		events[i] = testEvent(ivorn("bench"), "observation", fmt.Sprintf(`<Param name="seq" value="%d"/>`, i)+pad)
	}
	return events
}
