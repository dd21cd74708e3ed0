package vtp

import (
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkReplay100k measures replaying 100,000 journaled events (about
// 1 kB each) to one subscriber that acknowledges each, from the request
// to the last event received.
func BenchmarkReplay100k(b *testing.B) {
	n := benchReplayN
	var broker *Broker
	store, err := openJournalStore(b.TempDir(), func(seq uint64, p any) { broker.Journaled(seq, p) })
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	broker = New(Config{LocalIVO: "ivo://example.org/bench", Journal: store, Replay: Replay{Budget: 1 << 40}, Logger: discardLogger()})
	defer shutdown(b, broker)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go broker.ServeSubscribers(l)
	pad := strings.Repeat("x", 600)
	var wg sync.WaitGroup
	for w := range 64 {
		wg.Go(func() {
			for i := w; i < n; i += 64 {
				raw := testEvent(fmt.Sprintf("ivo://example.org/bench#%d", i), "observation", "<!--"+pad+"-->")
				if _, err := store.CheckAndJournal(raw, raw, false, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	for b.Loop() {
		start := time.Now()
		s := dialJSub(b, l.Addr().String(), atPosition(store.JournalID(), 0))
		got := 0
		for got < n {
			f := <-s.frames
			if f.ivorn != "" {
				got++
			}
		}
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
		s.c.Close()
		<-s.closed
	}
}

// benchReplayN is how many events BenchmarkReplay100k journals.
var benchReplayN = 100000
