package kafka

import (
	"encoding/binary"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// The consumer against a cluster that fails: retention, leader moves,
// missing and forbidden topics, dropped connections, records and batches
// that are not what they should be, hostile answers.

// A position that retention has removed: a WARNING says how many
// offsets were lost, and the source goes on from the earliest kept.
func TestConsumerOffsetOutOfRange(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	all := appendValues(t, c, "t", 0, time.Now(), events("e", 10)...)
	e := newConsumerEnv(t, c, "t")
	e.rec.setVerdict(func(s submission, n int) (Verdict, string) {
		if s.offset >= 3 {
			return Failed, "held"
		}
		return Accepted, ""
	})
	src := e.start()
	waitFor(t, "the source to hold at offset 3", func() bool { return src.next("t", 0) == 3 && len(e.rec.of("t", 0)) >= 4 })
	src.stop(t)
	c.trim("t", 0, 7)

	e.rec = &recorder{t: t}
	e.cfg.Submit = e.rec.submit
	e.start()
	waitFor(t, "the records after the trim", func() bool { return e.rec.has(all[7:]) })
	e.rec.checkOnce(t, all[7:])
	if got := e.rec.of("t", 0); len(got) != 3 {
		t.Errorf("offsets %v submitted after the trim; want 7 8 9", got)
	}
	lost := regexp.MustCompile(`\b4\b`)
	found := false
	for _, l := range e.log.matching(slog.LevelWarn) {
		found = found || lost.MatchString(l)
	}
	if !found {
		t.Errorf("no WARNING says that 4 offsets (3 to 6) were lost: %q", e.log.matching(slog.LevelWarn))
	}
}

// A topic deleted and created again while the source was stopped: its
// stored position lies past the new log's end; a WARNING says so and the
// source takes the new log from its start.
func TestConsumerPartitionRecreated(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	old := appendValues(t, c, "t", 0, time.Now(), events("old", 5)...)
	e := newConsumerEnv(t, c, "t")
	src := e.start()
	waitFor(t, "the old records", func() bool { return e.rec.has(old) && src.next("t", 0) == 5 })
	src.stop(t)
	c.createTopic("t", 1)
	renewed := appendValues(t, c, "t", 0, time.Now(), events("new", 2)...)
	e.rec = &recorder{t: t}
	e.cfg.Submit = e.rec.submit
	e.start()
	waitFor(t, "the new log's records", func() bool { return e.rec.has(renewed) })
	e.rec.checkOnce(t, renewed)
	if len(e.log.matching(slog.LevelWarn, "past")) == 0 {
		t.Errorf("no WARNING says the stored position is past the end: %q", e.log.matching(slog.LevelWarn))
	}
}

// A leader moved to another node, and a while without a leader (an
// election): the source follows it; nothing is lost or repeated.
func TestConsumerLeaderMove(t *testing.T) {
	c := newFakeCluster(t, 2, nil)
	c.createTopic("t", 1)
	want := appendValues(t, c, "t", 0, time.Now(), events("before", 3)...)
	e := newConsumerEnv(t, c, "t")
	src := e.start()
	waitFor(t, "the records before the move", func() bool { return e.rec.has(want) && src.next("t", 0) == 3 })
	c.moveLeader("t", 0, 1)
	want = append(want, appendValues(t, c, "t", 0, time.Now(), events("after", 3)...)...)
	waitFor(t, "the records after the move", func() bool { return e.rec.has(want) })
	c.moveLeader("t", 0, -1)
	want = append(want, appendValues(t, c, "t", 0, time.Now(), events("back", 3)...)...)
	time.Sleep(300 * time.Millisecond)
	c.moveLeader("t", 0, 0)
	waitFor(t, "the records after the move back", func() bool { return e.rec.has(want) })
	e.rec.checkOnce(t, want)
}

// An unknown topic and a forbidden one are each a WARNING and are
// retried; the other topics go on meanwhile, and each is taken once it
// exists or is allowed.
func TestConsumerUnknownAndForbiddenTopics(t *testing.T) {
	c := newFakeCluster(t, 2, nil)
	c.createTopic("gcn.ok", 1)
	c.createTopic("gcn.secret", 1)
	c.setForbidden("gcn.secret", true)
	ok := appendValues(t, c, "gcn.ok", 0, time.Now(), events("ok", 3)...)
	e := newConsumerEnv(t, c, "gcn.ok", "gcn.missing", "gcn.secret")
	// A relist waits for the long polls under way to end.
	e.tune = func(s *Source) { s.wait = time.Second }
	e.start()
	waitFor(t, "the allowed topic's records", func() bool { return e.rec.has(ok) })
	waitFor(t, "WARNINGs naming both topics", func() bool {
		return len(e.log.matching(slog.LevelWarn, "gcn.missing")) > 0 && len(e.log.matching(slog.LevelWarn, "gcn.secret")) > 0
	})

	c.createTopic("gcn.missing", 1)
	later := appendValues(t, c, "gcn.missing", 0, time.Now(), events("missing", 2)...)
	c.setForbidden("gcn.secret", false)
	later = append(later, appendValues(t, c, "gcn.secret", 0, time.Now(), events("secret", 2)...)...)
	later = append(later, appendValues(t, c, "gcn.ok", 0, time.Now(), events("ok-later", 2)...)...)
	waitFor(t, "the topics that became readable", func() bool { return e.rec.has(later) })
	e.rec.checkOnce(t, append(ok, later...))
}

// A topic that metadata lists but a fetch answers as unknown (deleted
// meanwhile) or forbidden (an ACL changed): a WARNING, the partition
// is looked for again, and it goes on once the fetch is answered.
func TestConsumerTopicRefusedAtFetch(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	e := newConsumerEnv(t, c, "t")
	e.tune = func(s *Source) { s.wait = time.Second }
	src := e.start()
	waitFor(t, "the source to find the end", func() bool { return src.next("t", 0) == 0 })
	c.failFetches("t", 0, ErrUnknownTopicOrPartition, ErrTopicAuthorizationFailed)
	want := appendValues(t, c, "t", 0, time.Now(), events("e", 2)...)
	waitFor(t, "the records after the refusals", func() bool { return e.rec.has(want) })
	e.rec.checkOnce(t, want)
	if len(e.log.matching(slog.LevelWarn, "UNKNOWN_TOPIC_OR_PARTITION")) == 0 {
		t.Errorf("no WARNING names the unknown topic: %q", e.log.matching(slog.LevelWarn))
	}
}

// A wildcard takes every topic whose name starts with the prefix, and a
// matching topic created while the source runs is picked up.
func TestConsumerWildcard(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("gcn.w.a", 1)
	c.createTopic("gcn.x", 1)
	want := appendValues(t, c, "gcn.w.a", 0, time.Now(), events("a", 2)...)
	appendValues(t, c, "gcn.x", 0, time.Now(), events("x", 2)...)
	e := newConsumerEnv(t, c, "gcn.w.*")
	e.tune = func(s *Source) { s.wait = time.Second }
	e.start()
	waitFor(t, "the matching topic's records", func() bool { return e.rec.has(want) })
	c.createTopic("gcn.w.b", 2)
	want = append(want, appendValues(t, c, "gcn.w.b", 1, time.Now(), events("b", 2)...)...)
	waitFor(t, "the records of the topic created later", func() bool { return e.rec.has(want) })
	e.rec.checkOnce(t, want)
	for _, s := range e.rec.all() {
		if s.topic == "gcn.x" {
			t.Fatalf("%v submitted: not under the wildcard", s.tpo)
		}
	}
}

// Connections dropped again and again, and refused for a while: the
// source reconnects (with backoff while refused) and loses nothing.
func TestConsumerDroppedConnections(t *testing.T) {
	c := newFakeCluster(t, 2, nil)
	c.createTopic("t", 2)
	e := newConsumerEnv(t, c, "t")
	e.cfg.BackoffMax = 500 * time.Millisecond
	src := e.start()
	var want []submission
	for round := range 6 {
		for p := range int32(2) {
			want = append(want, appendValues(t, c, "t", p, time.Now(), events("r"+string(rune('0'+round)), 2)...)...)
		}
		if round == 3 {
			c.setRefuse(true)
			c.dropAll()
			before := c.Stats().Accepted
			time.Sleep(2 * time.Second)
			attempts := c.Stats().Accepted - before
			t.Logf("connection attempts in 2 s while refused, BackoffMax %v: %d", e.cfg.BackoffMax, attempts)
			if attempts > 100 {
				t.Errorf("%d connection attempts in 2 s: no backoff", attempts)
			}
			if st := src.Status(); st.Connected || st.LastError == "" {
				t.Errorf("status while refused: connected %v, last error %q", st.Connected, st.LastError)
			}
			c.setRefuse(false)
		}
		time.Sleep(50 * time.Millisecond)
		c.dropAll()
	}
	waitFor(t, "every record", func() bool { return e.rec.has(want) })
	dups := 0
	for p := range int32(2) {
		got := e.rec.of("t", p)
		if !slices.IsSorted(got) {
			t.Errorf("partition %d: offsets out of order: %v", p, got)
		}
		dups += len(got) - len(slices.Compact(slices.Clone(got)))
	}
	t.Logf("records submitted twice across %d drops: %d", 6, dups)
}

// One node down (unreachable, though metadata still names it leader):
// the partitions other nodes lead go on meanwhile, record after record,
// without waiting out the backoff of the down node's reconnections; the
// down node's partition resumes, losing nothing, once it is back. The
// healthy node answers after 100 ms, as a distant cluster does, so that
// its answers come after the down node's refusals.
func TestConsumerOneNodeDown(t *testing.T) {
	c := newFakeCluster(t, 2, nil)
	c.createTopic("t", 2) // partition 0 on node 0, 1 on node 1
	c.setLatency(0, 100*time.Millisecond)
	e := newConsumerEnv(t, c, "t")
	e.cfg.BackoffMax = 30 * time.Second
	src := e.start()
	waitFor(t, "the source to find both ends", func() bool { return src.next("t", 0) == 0 && src.next("t", 1) == 0 })
	refused := c.Stats().Refused
	c.setDown(1, true)
	down := appendValues(t, c, "t", 1, time.Now(), events("p1-", 2)...)
	waitFor(t, "two attempts to reach node 1", func() bool { return c.Stats().Refused >= refused+2 })
	var up []submission
	for i := range 5 {
		up = append(up, appendValues(t, c, "t", 0, time.Now(), testEvent("p0-"+itoa(i)))...)
		waitFor(t, "partition 0's record "+itoa(i)+" while node 1 is down", func() bool { return e.rec.has(up) })
	}
	if got := e.rec.of("t", 1); len(got) != 0 {
		t.Fatalf("records of the down node's partition submitted: %v", got)
	}
	c.setDown(1, false)
	waitFor(t, "partition 1's records once node 1 is back", func() bool { return e.rec.has(down) })
	e.rec.checkOnce(t, append(up, down...))
}

// A copy of the offsets file taken while the source runs (what a kill
// -9 or a power loss leaves) never holds a position past a record whose
// Submit has not returned, and a source started from it skips nothing.
func TestConsumerKilledResumes(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	all := appendValues(t, c, "t", 0, time.Now(), events("e", 20)...)
	e := newConsumerEnv(t, c, "t")
	release := make(chan struct{})
	e.rec.setVerdict(func(s submission, n int) (Verdict, string) {
		if s.offset == 12 && n == 0 {
			<-release
		}
		return Accepted, ""
	})
	src := e.start()
	waitFor(t, "the submission of offset 12", func() bool { return len(e.rec.of("t", 0)) == 13 })
	// Give a source that writes its positions now and then the time to
	// write them, while offset 12 is still being submitted.
	time.Sleep(1500 * time.Millisecond)
	snap, err := os.ReadFile(e.cfg.OffsetsFile)
	if err != nil {
		t.Fatalf("no offsets file while the source runs: %v", err)
	}
	close(release)
	waitFor(t, "every record", func() bool { return e.rec.has(all) })
	src.stop(t)

	e.rec = &recorder{t: t}
	e.cfg.Submit = e.rec.submit
	e.cfg.From = From{} // the end: a position lost would skip everything
	e.cfg.OffsetsFile = filepath.Join(t.TempDir(), "offsets-killed")
	if err := os.WriteFile(e.cfg.OffsetsFile, snap, 0o600); err != nil {
		t.Fatal(err)
	}
	e.start()
	waitFor(t, "the records from the stored position on", func() bool { return e.rec.has(all[12:]) })
	got := e.rec.of("t", 0)
	if len(got) == 0 || got[0] > 12 {
		t.Fatalf("offsets %v after the kill; the copy was taken before offset 12 was taken, so it must come again", got)
	}
	e.rec.checkOnce(t, all[got[0]:])
	t.Logf("after the kill the source resumed at offset %d (offset 12 was being submitted)", got[0])
}

// A source stopped while it hands a record on (its context cancelled
// between two requests) stops at once, not after its next long poll:
// stopping is what an operator does, and a restart waits for it.
func TestConsumerStopsPromptly(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	appendValues(t, c, "t", 0, time.Now(), events("e", 3)...)
	// The stop races the next request; many stops make a lost race
	// show.
	for i := range 60 {
		e := newConsumerEnv(t, c, "t")
		// A long poll longer than the patience below, so that a stop
		// that waits for it is seen.
		e.tune = func(s *Source) { s.wait = 50 * time.Second }
		entered := make(chan struct{}, 10)
		e.rec.setVerdict(func(submission, int) (Verdict, string) {
			entered <- struct{}{}
			time.Sleep(5 * time.Millisecond)
			return Accepted, ""
		})
		src := e.start()
		<-entered
		src.cancel()
		start := time.Now()
		select {
		case <-src.done:
		case <-time.After(30 * time.Second):
			<-src.done
			t.Fatalf("stop %d: Run returned %v after its context was cancelled during Submit: it waited for a long poll",
				i, time.Since(start).Round(time.Millisecond))
		}
	}
}

// Values that are not VOEvents (the broker refuses them) are passed
// over: each is submitted once and the partition goes on.
func TestConsumerPoisonRecords(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	values := [][]byte{testEvent("good1"), []byte("not XML at all"), []byte(`{"alert":"json"}`),
		[]byte(`<voe:VOEvent ivorn="broken`), testEvent("good2")}
	want := appendValues(t, c, "t", 0, time.Now(), values...)
	e := newConsumerEnv(t, c, "t")
	e.rec.setVerdict(func(s submission, n int) (Verdict, string) {
		if !strings.Contains(s.value, "TEST#good") {
			return Refused, "not a VOEvent"
		}
		return Accepted, ""
	})
	src := e.start()
	waitFor(t, "every record", func() bool { return e.rec.has(want) && src.next("t", 0) == 5 })
	e.rec.checkOnce(t, want)
	if st := src.Status(); st.Records["refused"] != 3 || st.Records["accepted"] != 2 {
		t.Errorf("records %v; want 3 refused, 2 accepted", st.Records)
	}
}

// A batch that fails its CRC-32C check every time it is fetched (a
// broker that stores or serves it damaged): it is logged and counted,
// and the partition goes on past it rather than stopping there.
func TestConsumerDamagedBatchNotWedged(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	var want []submission
	want = append(want, appendValues(t, c, "t", 0, time.Now(), testEvent("before"))...)
	damaged := timedBatch(t, time.Now(), codecNone, testEvent("damaged"))
	damaged[len(damaged)-20] ^= 0xff
	c.appendBatches("t", 0, damaged)
	want = append(want, appendValues(t, c, "t", 0, time.Now(), testEvent("after-damaged"))...)
	e := newConsumerEnv(t, c, "t")
	src := e.start()
	waitFor(t, "the record after the damaged batch", func() bool { return e.rec.has(want) })
	e.rec.checkOnce(t, want)
	if st := src.Status(); st.BatchErrors < 1 {
		t.Errorf("BatchErrors %d; want the damaged batch counted", st.BatchErrors)
	}
	if len(e.log.matching(slog.LevelWarn, "damaged")) == 0 {
		t.Errorf("no line says a batch was damaged")
	}
}

// A zstd bomb, an unsupported codec and a cut last batch: each bad batch
// is logged and counted, the source never stops, and every good record
// around them is taken.
func TestConsumerBadBatches(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	var want []submission
	want = append(want, appendValues(t, c, "t", 0, time.Now(), testEvent("before"))...)
	c.appendBatches("t", 0, makeBatch(0, uint16(codecZstd), 0, 1, readFixture(t, "bomb-1gib.zst")))
	want = append(want, appendValues(t, c, "t", 0, time.Now(), testEvent("after-bomb"))...)
	snappy := makeBatch(0, uint16(codecSnappy), 0, 1, []byte("snappy bytes"))
	c.appendBatches("t", 0, snappy)
	c.appendBatches("t", 0, snappy)
	want = append(want, appendValues(t, c, "t", 0, time.Now(), testEvent("after-snappy"))...)
	want = append(want, appendFixture(t, c, "t", 0, "franz-zstd.bin")...)
	c.truncateFetches("t", 0, 2)

	e := newConsumerEnv(t, c, "t")
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	src := e.start()
	waitFor(t, "every good record", func() bool { return e.rec.has(want) })
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	e.rec.checkOnce(t, want)
	st := src.Status()
	if st.BatchErrors != 3 {
		t.Errorf("BatchErrors %d; want 3 (the bomb, two snappy)", st.BatchErrors)
	}
	if n := len(e.log.matching(slog.LevelError, "snappy")); n != 1 {
		t.Errorf("%d ERROR lines name snappy; want one per partition: %q", n, e.log.matching(slog.LevelWarn, "snappy"))
	}
	if len(e.log.matching(slog.LevelWarn, "limit")) == 0 {
		t.Errorf("no line says the bomb went over the limit: %q", e.log.matching(slog.LevelWarn))
	}
	t.Logf("allocated while consuming the bomb and the rest: %d MiB", (after.TotalAlloc-before.TotalAlloc)>>20)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 512<<20 {
		t.Errorf("%d MiB allocated: the bomb was not bounded", grew>>20)
	}
}

// Answers of hostile sizes (a frame claiming 2 GiB, a topic count far
// beyond the bytes sent) are refused without allocating what they claim,
// records of a topic not asked for are not taken; the source reconnects
// and goes on.
func TestConsumerHostileAnswers(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	want := appendValues(t, c, "t", 0, time.Now(), events("e", 2)...)
	hugeFrame := func(corr int32) []byte {
		b := binary.BigEndian.AppendUint32(nil, 0x7ffffff0)
		return binary.BigEndian.AppendUint32(b, uint32(corr))
	}
	hugeCount := func(corr int32) []byte {
		var w writer
		w.int32(0)
		w.int32(corr)
		w.int32(0)          // throttle
		w.int16(0)          // error
		w.int32(0)          // session
		w.int32(0x7fffffff) // topics
		binary.BigEndian.PutUint32(w.b, uint32(len(w.b)-4))
		return w.b
	}
	// Records for a topic the source did not ask for.
	foreign := timedBatch(t, time.Now(), codecNone, testEvent("foreign"))
	unasked := func(corr int32) []byte {
		body := encodeFetchResponse(&fetchResponse{topics: []fetchTopicResponse{{name: "not-asked",
			partitions: []fetchPartitionResponse{{highWatermark: 1, lastStableOffset: 1, preferredReadReplica: -1, records: foreign}}}}}, 11)
		b := binary.BigEndian.AppendUint32(nil, uint32(len(body)+4))
		b = binary.BigEndian.AppendUint32(b, uint32(corr))
		return append(b, body...)
	}
	c.hostileNext(apiFetch, hugeFrame)
	c.hostileNext(apiFetch, hugeCount)
	c.hostileNext(apiFetch, unasked)
	c.hostileNext(apiMetadata, hugeFrame)
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	e := newConsumerEnv(t, c, "t")
	e.start()
	waitFor(t, "the records past the hostile answers", func() bool { return e.rec.has(want) })
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 512<<20 {
		t.Errorf("%d MiB allocated: a claimed size was believed", grew>>20)
	}
	e.rec.checkOnce(t, want)
	for _, s := range e.rec.all() {
		if s.topic != "t" {
			t.Errorf("%v submitted: a topic the source did not ask for", s.tpo)
		}
	}
	if s := c.Stats(); s.Requests[apiFetch] < 4 {
		t.Errorf("only %d fetches: the hostile answers were not all met", s.Requests[apiFetch])
	}
}

// An idle source long-polls: count its requests over a window, with
// the long poll shortened to a second so that the window holds several
// (KAFKA_IDLE_OWN_WAIT=1 measures at the source's own long poll, over
// two minutes). The bound is generous: it catches a busy loop, not a
// tuning choice.
func TestConsumerIdleRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("watches an idle source for 10 s")
	}
	wait, window := time.Second, 10*time.Second
	if os.Getenv("KAFKA_IDLE_OWN_WAIT") != "" {
		// Measure at the source's own long poll, over two minutes.
		wait, window = fetchWait, 2*time.Minute
	}
	c := newFakeCluster(t, 2, nil)
	c.createTopic("t", 2)
	e := newConsumerEnv(t, c, "t")
	e.tune = func(s *Source) { s.wait = wait }
	src := e.start()
	waitFor(t, "the source to find both ends", func() bool { return src.next("t", 0) == 0 && src.next("t", 1) == 0 })
	before := c.Stats()
	time.Sleep(window)
	after := c.Stats()
	var counts []string
	total := 0
	for k, n := range after.Requests {
		d := n - before.Requests[k]
		total += d
		counts = append(counts, k.String()+"="+itoa(d))
	}
	slices.Sort(counts)
	t.Logf("idle source, 2 partitions on 2 nodes, long poll %v, over %v: %s (%.1f requests a minute per node)",
		wait, window, strings.Join(counts, " "), float64(total)*float64(time.Minute)/float64(window)/2)
	// Two nodes, one long poll each at a time: about window/wait each.
	if limit := 2 * 3 * int(window/wait); total > limit {
		t.Errorf("%d requests in %v from an idle source; want at most %d", total, window, limit)
	}
}
