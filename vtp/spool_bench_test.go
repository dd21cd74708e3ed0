//go:build unix

package vtp

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"comet/seen"
	"comet/voevent"
)

// BenchmarkSpoolBurst is the spool's throughput end to end: 10,000 files
// already in the directory when it starts, each checked against the real
// seen store (fsync'd) and relayed to one subscriber. files/s is from the
// start of the spool until the subscriber has read the last event.
//
//	go test -run '^$' -bench SpoolBurst -benchtime 3x ./vtp
func BenchmarkSpoolBurst(b *testing.B) {
	const n = 10000
	var total time.Duration
	runs := 0
	for b.Loop() {
		b.StopTimer()
		store, err := seen.Open(b.TempDir(), seen.Options{Logger: discardLogger()})
		if err != nil {
			b.Fatal(err)
		}
		tb, events := benchSpoolBroker(b, func(el []byte) (bool, error) { return store.CheckAndRecord(seen.KeyOf(el)) })
		dir := b.TempDir()
		for i := range n {
			name := fmt.Sprintf("%05d.xml", i)
			if err := os.WriteFile(filepath.Join(dir, name), testEvent(fmt.Sprintf("ivo://example.org/test#bench-%d-%d", runs, i), "test", ""), 0o600); err != nil {
				b.Fatal(err)
			}
		}
		sp, err := tb.OpenSpool(dir)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		done := make(chan struct{})
		go func() { sp.Serve(); close(done) }()
		for range n {
			select {
			case <-events:
			case <-time.After(30 * time.Second):
				b.Fatal("subscriber stalled")
			}
		}
		total += time.Since(start)
		runs++
		b.StopTimer()
		shutdown(b, tb)
		<-done
		store.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*runs)/total.Seconds(), "files/s")
}

// benchSpoolBroker is a validating broker with one subscriber, whose
// events arrive on the channel returned.
func benchSpoolBroker(b *testing.B, seenFn func([]byte) (bool, error)) (*Broker, <-chan struct{}) {
	br := New(Config{LocalIVO: brokerIVO, Logger: discardLogger(), Validate: voevent.Validate, Seen: seenFn})
	lb, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go br.ServeSubscribers(lb)
	c, err := net.Dial("tcp", lb.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	r := bufio.NewReader(c)
	if _, err := ReadFrame(r, DefaultMaxFrame); err != nil { // authenticate
		b.Fatal(err)
	}
	WriteFrame(c, AuthenticateResponse(brokerIVO, "ivo://example.org/sub", nil, time.Now()))
	waitAuthenticated(b, br, c)
	events := make(chan struct{}, 1<<16)
	go func() {
		defer c.Close()
		for {
			raw, err := ReadFrame(r, DefaultMaxFrame)
			if err != nil {
				return
			}
			if strings.Contains(string(raw[:min(len(raw), 200)]), "VOEvent") {
				events <- struct{}{}
			}
		}
	}()
	return br, events
}
