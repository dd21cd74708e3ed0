package seen

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCheckAndRecord records new keys (each fsync'd before its call
// returns) from 1, 8 and 64 concurrent writers. ns/op is wall time per
// event; events/s the throughput; latency-* the time one caller waits.
func BenchmarkCheckAndRecord(b *testing.B) {
	for _, writers := range []int{1, 8, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := openT(b, b.TempDir(), Options{})
			keys := make([]Key, b.N)
			for i := range keys {
				keys[i] = keyN(i)
			}
			var next atomic.Int64
			lat := make([][]time.Duration, writers)
			var wg sync.WaitGroup
			b.ResetTimer()
			start := time.Now()
			for w := range writers {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						t0 := time.Now()
						first, err := s.CheckAndRecord(keys[i])
						lat[w] = append(lat[w], time.Since(t0))
						if err != nil || !first {
							b.Errorf("CheckAndRecord = %v, %v", first, err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			all := slices.Concat(lat...)
			slices.Sort(all)
			var sum time.Duration
			for _, d := range all {
				sum += d
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(sum.Nanoseconds())/float64(len(all)), "latency-mean-ns")
			b.ReportMetric(float64(all[len(all)/2].Nanoseconds()), "latency-p50-ns")
			b.ReportMetric(float64(all[len(all)*99/100].Nanoseconds()), "latency-p99-ns")
		})
	}
}

// BenchmarkCheckDuplicate is the cost of recognising an event already seen
// (no I/O) in a store of 1M keys.
func BenchmarkCheckDuplicate(b *testing.B) {
	dir := b.TempDir()
	const n = 1 << 20
	writeLogFile(b, logPath(dir), n, time.Now().Unix())
	s := openT(b, dir, Options{})
	keys := make([]Key, 4096)
	for i := range keys {
		keys[i] = keyN(i * 97 % n)
	}
	i := 0
	for b.Loop() {
		if first, err := s.CheckAndRecord(keys[i%len(keys)]); first || err != nil {
			b.Fatal(first, err)
		}
		i++
	}
}

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkIndexMemory reports the index's bytes per key after 1M keys
// inserted one by one (as CheckAndRecord does, without the fsync).
func BenchmarkIndexMemory(b *testing.B) {
	for _, n := range []int{1000000, 1500000} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			ps := make([]prefix, n)
			for i := range ps {
				k := keyN(i)
				ps[i] = prefixOf(&k)
			}
			var perKey float64
			for b.Loop() {
				before := heapInUse()
				x := newIndex()
				for i := range ps {
					x.put(&ps[i], uint32(i))
				}
				perKey = float64(heapInUse()-before) / float64(n)
				runtime.KeepAlive(x)
			}
			b.ReportMetric(perKey, "bytes/key")
		})
	}
}

// BenchmarkOpen1M opens a log of 1M live records and reports the open
// time and the heap the open store holds per key.
func BenchmarkOpen1M(b *testing.B) { benchOpen(b, 1000000) }

// BenchmarkOpen10M is BenchmarkOpen1M at 10M records (a 440 MB file in
// the benchmark's temporary directory, removed after). Set SEEN_BENCH_10M=1.
func BenchmarkOpen10M(b *testing.B) {
	if os.Getenv("SEEN_BENCH_10M") == "" {
		b.Skip("set SEEN_BENCH_10M=1 to write and open a 440 MB log")
	}
	benchOpen(b, 10000000)
}

func benchOpen(b *testing.B, n int) {
	dir := b.TempDir()
	writeLogFile(b, filepath.Join(dir, logName), n, time.Now().Unix())
	var perKey float64
	for b.Loop() {
		before := heapInUse()
		s, err := Open(dir, Options{Logger: quiet})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if s.Len() != n {
			b.Fatalf("Len = %d, want %d", s.Len(), n)
		}
		perKey = float64(heapInUse()-before) / float64(n)
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(perKey, "bytes/key")
}

// BenchmarkCompact1M compacts a store of 1M live keys while one writer
// keeps recording, and reports that writer's ack latency during
// compactions and, for comparison, during a second without one.
func BenchmarkCompact1M(b *testing.B) {
	dir := b.TempDir()
	const n = 1000000
	writeLogFile(b, logPath(dir), n, time.Now().Unix())
	s := openT(b, dir, Options{})
	next := n
	writer := func(stop <-chan struct{}, lat *[]time.Duration) {
		for {
			select {
			case <-stop:
				return
			default:
			}
			k := keyN(next)
			next++
			t0 := time.Now()
			if first, err := s.CheckAndRecord(k); !first || err != nil {
				b.Error(first, err)
				return
			}
			*lat = append(*lat, time.Since(t0))
		}
	}
	var busy, idle []time.Duration
	for b.Loop() {
		stop, done := make(chan struct{}), make(chan struct{})
		go func() { writer(stop, &busy); close(done) }()
		if err := s.Compact(); err != nil {
			b.Fatal(err)
		}
		close(stop)
		<-done
	}
	b.StopTimer()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() { writer(stop, &idle); close(done) }()
	time.Sleep(time.Second)
	close(stop)
	<-done
	for _, l := range []struct {
		name string
		lat  []time.Duration
	}{{"compacting", busy}, {"idle", idle}} {
		slices.Sort(l.lat)
		b.ReportMetric(float64(l.lat[len(l.lat)*99/100].Microseconds()), "p99-ack-µs-"+l.name)
		b.ReportMetric(float64(l.lat[len(l.lat)-1].Microseconds()), "max-ack-µs-"+l.name)
	}
}
