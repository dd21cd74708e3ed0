package vtp

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"comet/voevent"
)

// BenchmarkFanOut measures the relay path of one event at low load: an
// author sends an event and waits for its ack, and the iteration ends when
// every one of k subscribers on loopback has received it. Subscribers ack
// each event as real ones do. ns/op is the time from the author's write to
// the last subscriber's read, with no seen store (so no fsync) in between.
func BenchmarkFanOut(b *testing.B) {
	for _, k := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("subs=%d", k), func(b *testing.B) { benchFanOut(b, k) })
	}
}

func benchFanOut(b *testing.B, k int) {
	br := New(Config{LocalIVO: brokerIVO, Logger: discardLogger(), MaxConnsPerAddr: 2 * k})
	lr, _ := net.Listen("tcp", "127.0.0.1:0")
	lb, _ := net.Listen("tcp", "127.0.0.1:0")
	go br.ServeAuthors(lr)
	go br.ServeSubscribers(lb)
	defer shutdown(b, br)

	var got sync.WaitGroup // one Done per subscriber per event
	var readers sync.WaitGroup
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
		readers.Wait()
	}()
	for range k {
		c, err := net.Dial("tcp", lb.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		r := bufio.NewReader(c)
		if _, err := ReadFrame(r, DefaultMaxFrame); err != nil { // authenticate
			b.Fatal(err)
		}
		WriteFrame(c, AuthenticateResponse(brokerIVO, "ivo://example.org/sub", nil, time.Now()))
		ack := Ack(ivorn("fanout"), "ivo://example.org/sub", "", time.Now())
		readers.Go(func() {
			for {
				raw, err := ReadFrame(r, DefaultMaxFrame)
				if err != nil {
					return
				}
				if bytes.Contains(raw, []byte("<voe:VOEvent")) { // an event, not an iamalive
					WriteFrame(c, ack)
					got.Done()
				}
			}
		})
	}
	for authenticatedSubscribers(br) < k {
		time.Sleep(time.Millisecond)
	}
	author, err := net.Dial("tcp", lr.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer author.Close()
	ar := bufio.NewReader(author)
	events := make([][]byte, b.N)
	for i := range events {
		events[i] = testEvent(ivorn(fmt.Sprintf("fanout%d", i)), "observation", "")
	}
	b.ResetTimer()
	for i := range b.N {
		got.Add(k)
		WriteFrame(author, events[i])
		if _, err := ReadFrame(ar, DefaultMaxFrame); err != nil {
			b.Fatal(err)
		}
		got.Wait()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*k), "ns/delivery")
}

// BenchmarkSubscriberMemory reports what one idle, authenticated
// subscriber costs the process: heap and goroutine stacks, after a
// garbage collection. The subscribers' own ends of the connections are in
// the same process and hold no goroutine; their socket structures are
// counted too, so the figure is a little high.
func BenchmarkSubscriberMemory(b *testing.B) {
	for _, acked := range []bool{false, true} {
		b.Run(fmt.Sprintf("acked=%v", acked), func(b *testing.B) { subscriberMemory(b, acked) })
	}
}

// subscriberMemory measures 2000 subscribers; acked: after each has
// acknowledged an event.
func subscriberMemory(b *testing.B, acked bool) {
	const k = 2000
	for b.Loop() {
		br := New(Config{LocalIVO: brokerIVO, Logger: discardLogger(), MaxConnsPerAddr: 2 * k})
		lb, _ := net.Listen("tcp", "127.0.0.1:0")
		go br.ServeSubscribers(lb)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var conns []net.Conn
		for range k {
			c, err := net.Dial("tcp", lb.Addr().String())
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
			if _, err := ReadFrame(bufio.NewReader(c), DefaultMaxFrame); err != nil {
				b.Fatal(err)
			}
			WriteFrame(c, AuthenticateResponse(brokerIVO, "ivo://example.org/sub", []string{"//Param"}, time.Now()))
		}
		for authenticatedSubscribers(br) < k {
			time.Sleep(time.Millisecond)
		}
		if acked {
			// Every subscriber gets an event and acknowledges it, so the
			// figures include what reading a message leaves behind.
			ev, err := voevent.Parse(testEvent(ivorn("mem"), "test", ""))
			if err != nil {
				b.Fatal(err)
			}
			br.Broadcast(ev)
			for _, c := range conns {
				raw, err := ReadFrame(bufio.NewReader(c), DefaultMaxFrame)
				if err != nil {
					b.Fatal(err)
				}
				sent, _ := voevent.ParseRoot(raw)
				WriteFrame(c, Ack(sent.IVORN, "ivo://example.org/sub", "", time.Now()))
			}
			for acks := 0; acks < k; {
				time.Sleep(time.Millisecond)
				acks = 0
				for _, sub := range br.Snapshot().Subscribers {
					acks += int(sub.Acks)
				}
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapInuse-before.HeapInuse)/k, "heap-B/sub")
		b.ReportMetric(float64(after.StackInuse-before.StackInuse)/k, "stack-B/sub")
		b.ReportMetric(float64(runtime.NumGoroutine())/k, "goroutines/sub")
		for _, c := range conns {
			c.Close()
		}
		shutdown(b, br)
	}
}
