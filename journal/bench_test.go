package journal

import (
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"testing"
	"time"

	"comet/seen"
)

// fillJournal journals n events of size bytes with 64 concurrent writers
// (so the group commit batches them).
func fillJournal(b *testing.B, s *Store, n, size int) {
	b.Helper()
	body := make([]byte, size)
	for i := range body {
		body[i] = 'x'
	}
	var wg sync.WaitGroup
	per := (n + 63) / 64
	for w := range 64 {
		wg.Go(func() {
			for i := w * per; i < min(n, (w+1)*per); i++ {
				el := fmt.Appendf(nil, "<VOEvent ivorn='ivo://b/j#%d'/>", i)
				if _, err := s.CheckAndJournal(el, append(el, body[len(el):]...), false, nil); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// BenchmarkJournalOpen measures Open on a journal of 5 kB events: the
// time (reported per MB, to extrapolate to a full 1 GiB journal), and the
// memory the index keeps per event (the events stay on disk).
func BenchmarkJournalOpen(b *testing.B) {
	const events, size = 20000, 5000 // ~100 MB
	dir := b.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := openStore(dir, seen.Options{Logger: log}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	fillJournal(b, s, events, size)
	bytes := s.Stats().Bytes
	s.Close()
	var heap uint64
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		s, err := openStore(dir, seen.Options{Logger: log}, Options{})
		if err != nil {
			b.Fatal(err)
		}
		d := time.Since(start)
		runtime.GC()
		runtime.ReadMemStats(&after)
		heap = after.HeapAlloc - before.HeapAlloc
		b.ReportMetric(float64(d.Milliseconds())*float64(1<<30)/float64(bytes), "ms/GiB")
		idx := 0
		for _, seg := range s.Journal.segs {
			idx += cap(seg.seqs)*8 + cap(seg.offs)*4
		}
		b.ReportMetric(float64(idx)/events, "index-B/event")
		s.Close()
	}
	// The seen index's share is measured in bench_test.go; this is both.
	b.ReportMetric(float64(heap)/events, "heap-B/event")
	b.ReportMetric(float64(bytes)/events, "disk-B/event")
}

// BenchmarkJournalWrite is CheckAndJournal against the store's CheckAndRecord for
// 5 kB events from 1 and 8 concurrent writers: what the journal adds to
// the author's wait for durability.
func BenchmarkJournalWrite(b *testing.B) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	body := make([]byte, 5000)
	for _, journal := range []bool{false, true} {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("journal=%v/writers=%d", journal, writers), func(b *testing.B) {
				var check func(el, raw []byte) (bool, error)
				if journal {
					s, err := openStore(b.TempDir(), seen.Options{Logger: log}, Options{})
					if err != nil {
						b.Fatal(err)
					}
					defer s.Close()
					check = func(el, raw []byte) (bool, error) { return s.CheckAndJournal(el, raw, false, nil) }
				} else {
					s, err := seen.Open(b.TempDir(), seen.Options{Logger: log})
					if err != nil {
						b.Fatal(err)
					}
					defer s.Close()
					check = func(el, _ []byte) (bool, error) { return s.CheckAndRecord(seen.KeyOf(el)) }
				}
				var mu sync.Mutex
				i := 0
				b.SetParallelism(writers)
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						mu.Lock()
						i++
						n := i
						mu.Unlock()
						el := fmt.Appendf(nil, "<VOEvent ivorn='ivo://b/w#%d'/>", n)
						if _, err := check(el, append(el, body...)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
