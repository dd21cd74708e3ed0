//go:build linux

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkKafkaToVTP measures what an operator of a Kafka source sees:
// how soon a record produced to Kafka reaches a VTP subscriber through
// comet, next to how soon franz-go's own consumer (kafkapeer consume,
// reading the same partition at the same time) receives it. Each op
// produces one VOEvent of about 5 kB as a zstd batch, waits for both to
// receive it, and pauses, so that each record comes to consumers waiting
// in a long poll, as alerts do. In turn with the Kafka records, an author
// submits the same event to comet over VTP (author-vtp-*: from its connect to
// the subscriber), which is comet's own share of the latency, durable
// recording and relay. Reported: latency percentiles from the produce
// call (which the produce-* figures time alone), comet's user and
// system CPU time per event from each source (from /proc, in 10 ms
// ticks: use a few hundred ops) and its resident memory at the end. It needs kafkapeer,
// and is skipped without it:
//
//	go test -run '^$' -bench KafkaToVTP -benchtime 300x .
func BenchmarkKafkaToVTP(b *testing.B) {
	const topic = "gcn.classic.voevent.BENCH"
	p := startKPeer(b, "-brokers=1", "-sasl=oauthbearer", "-topics="+topic+":1")
	recv, bcast, db := freePort(b), freePort(b), b.TempDir()
	c := startKafkaComet(b, recv, bcast, db, p, []string{p.url(topic)})
	sub := subscribeTo(b, c)
	franz := startFranz(b, p, topic)

	// One record first, so that connections and tokens are in place.
	off := p.produce(b, topic, 0, "zstd", kafkaEvent(b, kafkaIVORN("bench", -1)))[0]
	sub.arrival(b, 1)
	franz.arrival(b, off)

	var viaComet, viaFranz, produce, viaAuthor []time.Duration
	// CPU ticks, user and system, spent on the Kafka records and on the
	// authors' events.
	var kafkaCPU, authorCPU [2]int64
	spent := func(into *[2]int64, do func()) {
		u, s := cpuTicks(b, c.cmd.Process.Pid)
		do()
		u2, s2 := cpuTicks(b, c.cmd.Process.Pid)
		into[0] += u2 - u
		into[1] += s2 - s
	}
	b.ResetTimer()
	for i := range b.N {
		spent(&kafkaCPU, func() {
			ev := kafkaEvent(b, kafkaIVORN("bench", i))
			t0 := time.Now()
			off := p.produce(b, topic, 0, "zstd", ev)[0]
			produce = append(produce, time.Since(t0))
			viaComet = append(viaComet, sub.arrival(b, 2*i+2).Sub(t0))
			viaFranz = append(viaFranz, franz.arrival(b, off).Sub(t0))
			time.Sleep(20 * time.Millisecond)
		})
		// The same event from an author over VTP, in turn with the
		// Kafka records: the broker's own share of the latency.
		spent(&authorCPU, func() {
			ev := kafkaEvent(b, kafkaIVORN("author", i))
			t0 := time.Now()
			if _, err := sendEvent(c.recv, ev, 10*time.Second); err != nil {
				b.Fatal(err)
			}
			viaAuthor = append(viaAuthor, sub.arrival(b, 2*i+3).Sub(t0))
			time.Sleep(20 * time.Millisecond)
		})
	}
	b.StopTimer()
	for _, m := range []struct {
		name string
		d    []time.Duration
	}{{"kafka-vtp", viaComet}, {"franz", viaFranz}, {"produce", produce}, {"author-vtp", viaAuthor}} {
		slices.Sort(m.d)
		b.ReportMetric(ms(m.d[len(m.d)/2]), m.name+"-p50-ms")
		b.ReportMetric(ms(m.d[len(m.d)*99/100]), m.name+"-p99-ms")
	}
	// USER_HZ is 100 on Linux: a tick is 10 ms. System time is mostly
	// the fsyncs that make each event durable before it is relayed (and,
	// for Kafka, the offsets file written after it).
	perEvent := func(ticks int64) float64 { return float64(ticks) * 10000 / float64(b.N) }
	b.ReportMetric(perEvent(kafkaCPU[0]), "kafka-user-us/event")
	b.ReportMetric(perEvent(kafkaCPU[1]), "kafka-sys-us/event")
	b.ReportMetric(perEvent(authorCPU[0]), "author-user-us/event")
	b.ReportMetric(perEvent(authorCPU[1]), "author-sys-us/event")
	b.ReportMetric(float64(rssKB(b, c.cmd.Process.Pid))/1024, "rss-MB")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// arrival waits until s has received n events and returns when the n-th
// came.
func (s *replaySub) arrival(tb testing.TB, n int) time.Time {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		s.mu.Lock()
		if len(s.at) >= n {
			at := s.at[n-1]
			s.mu.Unlock()
			return at
		}
		s.mu.Unlock()
		if time.Now().After(deadline) {
			tb.Fatalf("the subscriber received %d events after 30 s, want %d", len(s.received()), n)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// franzConsumer is "kafkapeer consume": franz-go reading a topic in
// assign mode, as the yardstick.
type franzConsumer struct {
	mu sync.Mutex
	at map[int64]time.Time // when each offset was received
}

// startFranz starts the yardstick on topic's partition 0 from its start
// and returns once it is positioned.
func startFranz(tb testing.TB, p *kpeer, topic string) *franzConsumer {
	tb.Helper()
	cmd := exec.Command(p.bin, "consume", "-dir", p.dir, "-topic", topic, "-partition", "0", "-from", "start")
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	errs, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	f := &franzConsumer{at: map[int64]time.Time{}}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			// <unix-nanos-received> <topic> <partition> <offset> <sha256>
			fs := strings.Fields(sc.Text())
			if len(fs) != 5 {
				continue
			}
			ns, err1 := strconv.ParseInt(fs[0], 10, 64)
			off, err2 := strconv.ParseInt(fs[3], 10, 64)
			if err1 == nil && err2 == nil {
				f.mu.Lock()
				f.at[off] = time.Unix(0, ns)
				f.mu.Unlock()
			}
		}
	}()
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(errs)
		said := false
		for sc.Scan() {
			if !said && strings.Contains(sc.Text(), ": ready ") {
				said = true
				ready <- true
			}
		}
		if !said {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			tb.Fatal("kafkapeer consume ended before it was ready")
		}
	case <-time.After(30 * time.Second):
		tb.Fatal("kafkapeer consume not ready after 30 s")
	}
	return f
}

// arrival waits until f has received offset off and returns when.
func (f *franzConsumer) arrival(tb testing.TB, off int64) time.Time {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		f.mu.Lock()
		at, ok := f.at[off]
		f.mu.Unlock()
		if ok {
			return at
		}
		if time.Now().After(deadline) {
			tb.Fatalf("franz-go's consumer did not receive offset %d in 30 s", off)
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// cpuTicks is the user and the system CPU time process pid has used, in
// clock ticks.
func cpuTicks(tb testing.TB, pid int) (user, sys int64) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		tb.Fatal(err)
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after its closing parenthesis. utime and stime are fields 14 and 15.
	fs := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(fs) < 13 {
		tb.Fatalf("/proc/%d/stat: %q", pid, b)
		return 0, 0
	}
	u, _ := strconv.ParseInt(fs[11], 10, 64)
	s, _ := strconv.ParseInt(fs[12], 10, 64)
	return u, s
}

// rssKB is process pid's resident memory in kB.
func rssKB(tb testing.TB, pid int) int64 {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	tb.Fatalf("/proc/%d/status has no VmRSS", pid)
	return 0
}

// BenchmarkKafkaSourceRSS measures the resident memory a Kafka source
// adds to comet: each op starts comet with no source, with a source of
// one topic and with one of 80 topics (a prefix), waits until every
// partition is assigned and the source is idle in its long poll, and
// reads its RSS. Reported as the means over the ops:
//
//	go test -run '^$' -bench KafkaSourceRSS -benchtime 3x .
func BenchmarkKafkaSourceRSS(b *testing.B) {
	const prefix = "gcn.classic.voevent.R"
	var names []string
	for i := range 80 {
		names = append(names, fmt.Sprintf("%s%02d:1", prefix, i))
	}
	p := startKPeer(b, "-brokers=1", "-sasl=oauthbearer", "-topics="+strings.Join(names, ","))
	cases := []struct {
		metric  string
		sources []string
		parts   int
	}{
		{"rss-none-MB", nil, 0},
		{"rss-1-topic-MB", []string{p.url(prefix + "00")}, 1},
		{"rss-80-topics-MB", []string{p.url(prefix + "*")}, 80},
	}
	sum := make([]float64, len(cases))
	for range b.N {
		for i, k := range cases {
			recv, bcast, db := freePort(b), freePort(b), b.TempDir()
			c := startKafkaComet(b, recv, bcast, db, p, k.sources)
			c.waitFor(b, "every partition assigned", func() bool {
				return strings.Count(c.stderr.String(), `msg="kafka: partition assigned"`) >= k.parts
			})
			time.Sleep(2 * time.Second) // the first long polls sent
			sum[i] += float64(rssKB(b, c.cmd.Process.Pid)) / 1024
			c.cmd.Process.Kill()
			<-c.exited
		}
	}
	for i, k := range cases {
		b.ReportMetric(sum[i]/float64(b.N), k.metric)
	}
}

// BenchmarkKafkaIdle counts the requests an idle Kafka source sends: a
// source of one topic on one broker, tokens living an hour as GCN's do;
// each op is one minute without records, and the requests the cluster
// saw in it are reported, all together and the fetches alone:
//
//	go test -run '^$' -bench KafkaIdle -benchtime 3x .
func BenchmarkKafkaIdle(b *testing.B) {
	const topic = "gcn.classic.voevent.IDLE"
	p := startKPeer(b, "-brokers=1", "-sasl=oauthbearer", "-token-ttl=1h", "-topics="+topic+":1")
	recv, bcast, db := freePort(b), freePort(b), b.TempDir()
	c := startKafkaComet(b, recv, bcast, db, p, []string{p.url(topic)})
	c.waitFor(b, "the partition assigned", func() bool {
		return strings.Contains(c.stderr.String(), `msg="kafka: partition assigned"`)
	})
	time.Sleep(time.Second)
	var all, fetches int64
	for range b.N {
		before := p.stats(b)
		time.Sleep(time.Minute)
		after := p.stats(b)
		for api, n := range after.Requests {
			all += n.Total - before.Requests[api].Total
		}
		fetches += after.Requests["Fetch"].Total - before.Requests["Fetch"].Total
	}
	b.ReportMetric(float64(all)/float64(b.N), "requests/min")
	b.ReportMetric(float64(fetches)/float64(b.N), "fetches/min")
}
