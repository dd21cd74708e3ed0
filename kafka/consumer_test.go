package kafka

import (
	"encoding/binary"
	"slices"
	"testing"
	"time"
)

// The consumer against the fake cluster: what a user of the broker would
// notice — every event taken once and in order, nothing skipped across
// failures and restarts, positions where the operator asked.

// Records written by franz-go (zstd, gzip, uncompressed) and by
// librdkafka (zstd without a content size) are each handed on once, in
// offset order, from partitions led by different nodes; records
// produced while the source waits are handed on too.
func TestConsumerDeliversFixtures(t *testing.T) {
	c := newFakeCluster(t, 2, nil)
	c.createTopic("gcn.a", 2) // partition 0 led by node 0, 1 by node 1
	c.createTopic("gcn.b", 1)
	var want []submission
	want = append(want, appendFixture(t, c, "gcn.a", 0, "franz-zstd.bin")...)
	want = append(want, appendFixture(t, c, "gcn.a", 0, "franz-none.bin")...)
	want = append(want, appendFixture(t, c, "gcn.a", 1, "franz-gzip.bin")...)
	want = append(want, appendFixture(t, c, "gcn.a", 1, "kcat-zstd.bin")...)
	want = append(want, appendFixture(t, c, "gcn.b", 0, "franz-zstd-voevents.bin")...)
	want = append(want, appendFixture(t, c, "gcn.b", 0, "kcat-zstd-voevents.bin")...)
	e := newConsumerEnv(t, c, "gcn.a", "gcn.b")
	// A Submit that takes a little time, as a broker's does, so that
	// two partitions' fetchers overlap if they can.
	e.rec.setVerdict(func(submission, int) (Verdict, string) {
		time.Sleep(2 * time.Millisecond)
		return Accepted, ""
	})
	src := e.start()
	waitFor(t, "every fixture record", func() bool { return e.rec.has(want) })

	// Produced while the source long-polls.
	want = append(want, appendValues(t, c, "gcn.a", 1, time.Now(), events("late", 3)...)...)
	waitFor(t, "the records produced later", func() bool { return e.rec.has(want) })
	e.rec.checkOnce(t, want)

	waitFor(t, "Status to show every partition at its end", func() bool {
		return src.next("gcn.a", 0) == c.highWatermark("gcn.a", 0) &&
			src.next("gcn.a", 1) == c.highWatermark("gcn.a", 1) &&
			src.next("gcn.b", 0) == c.highWatermark("gcn.b", 0)
	})
	st := src.Status()
	if st.Records["accepted"] != int64(len(want)) || st.BatchErrors != 0 || !st.Connected || st.State != "fetching" {
		t.Errorf("status: records %v, batch errors %d, connected %v, state %q; want %d accepted", st.Records, st.BatchErrors, st.Connected, st.State, len(want))
	}
	for _, ps := range st.Partitions {
		if ps.Lag != 0 || ps.HighWatermark != ps.Next || ps.LastRecord == nil {
			t.Errorf("partition %+v: want no lag and a last record time", ps)
		}
	}
	if v := c.Stats().Violations; len(v) != 0 {
		t.Errorf("the consumer broke the protocol: %v", v)
	}
}

// A record whose event could not be made durable (Failed) is submitted
// again, nothing after it is submitted before it is taken, and the
// stored position does not move past it: a source restarted meanwhile
// starts from it.
func TestConsumerFailedVerdictRetried(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	want := appendValues(t, c, "t", 0, time.Now(), events("e", 6)...)
	e := newConsumerEnv(t, c, "t")
	e.rec.setVerdict(func(s submission, n int) (Verdict, string) {
		if s.offset == 2 {
			return Failed, "disk full"
		}
		return Accepted, ""
	})
	src := e.start()
	waitFor(t, "offset 2 to fail three times", func() bool {
		return len(e.rec.of("t", 0)) >= 5
	})
	if got := e.rec.of("t", 0); !slices.Equal(got[:5], []int64{0, 1, 2, 2, 2}) {
		t.Fatalf("offsets submitted %v; want 0 1 2 2 2: nothing past a failed record", got)
	}
	if n := src.next("t", 0); n != 2 {
		t.Errorf("Status shows next offset %d while offset 2 fails; want 2", n)
	}
	src.stop(t)

	// A new source on the same offsets file, starting from the end for
	// partitions it has no position for, resumes at the failed record.
	e.rec = &recorder{t: t}
	e.cfg.Submit = e.rec.submit
	e.cfg.From = From{}
	e.start()
	waitFor(t, "offsets 2 to 5 after the restart", func() bool { return e.rec.has(want[2:]) })
	e.rec.checkOnce(t, want[2:])
}

// A source restarted on the same offsets file resumes where the stored
// position says: nothing skipped, and nothing whose position was stored
// read again.
func TestConsumerRestartResumes(t *testing.T) {
	c := newFakeCluster(t, 2, nil)
	c.createTopic("t", 2)
	first := appendValues(t, c, "t", 0, time.Now(), events("a", 5)...)
	first = append(first, appendValues(t, c, "t", 1, time.Now(), events("b", 3)...)...)
	e := newConsumerEnv(t, c, "t")
	src := e.start()
	waitFor(t, "the first records", func() bool { return e.rec.has(first) })
	waitFor(t, "the positions to reach the ends", func() bool { return src.next("t", 0) == 5 && src.next("t", 1) == 3 })
	src.stop(t)
	e.rec.checkOnce(t, first)

	second := appendValues(t, c, "t", 0, time.Now(), events("c", 4)...)
	second = append(second, appendValues(t, c, "t", 1, time.Now(), events("d", 2)...)...)
	e.rec = &recorder{t: t}
	e.cfg.Submit = e.rec.submit
	e.cfg.From = From{} // the end: a lost position would skip everything
	e.start()
	waitFor(t, "the records produced while stopped", func() bool { return e.rec.has(second) })
	e.rec.checkOnce(t, second)
	for _, s := range e.rec.all() {
		if (s.part == 0 && s.offset < 5) || (s.part == 1 && s.offset < 3) {
			t.Errorf("%v, stored as taken, was submitted again", s.tpo)
		}
	}
}

// from=start takes everything kept, from=end only what comes after the
// source started, from=TIME what was produced at or after TIME.
func TestConsumerFrom(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var all []submission
	for i, ts := range []time.Time{t0, t0.Add(time.Hour), t0.Add(2 * time.Hour)} {
		all = append(all, appendRaw(t, c, "t", 0, timedBatch(t, ts, codecGzip, events("h"+string(rune('0'+i))+"-", 2)...))...)
	}

	t.Run("start", func(t *testing.T) {
		e := newConsumerEnv(t, c, "t")
		e.start()
		waitFor(t, "every record", func() bool { return e.rec.has(all) })
		e.rec.checkOnce(t, all)
	})
	t.Run("time", func(t *testing.T) {
		e := newConsumerEnv(t, c, "t")
		e.cfg.From = From{Time: t0.Add(30 * time.Minute)}
		e.start()
		waitFor(t, "the records from the second hour", func() bool { return e.rec.has(all[2:]) })
		e.rec.checkOnce(t, all[2:])
		if got := e.rec.of("t", 0); len(got) != 4 {
			t.Errorf("offsets %v submitted; want only 2 to 5", got)
		}
	})
	// A time after every record kept: ListOffsets finds none (-1), and
	// the source starts at the end rather than replaying the log.
	t.Run("time after the last record", func(t *testing.T) {
		e := newConsumerEnv(t, c, "t")
		e.cfg.From = From{Time: t0.Add(24 * time.Hour)}
		src := e.start()
		waitFor(t, "the source to find the end", func() bool { return src.next("t", 0) >= 0 })
		if n := src.next("t", 0); n != c.highWatermark("t", 0) {
			t.Errorf("next offset %d; want the end, %d", n, c.highWatermark("t", 0))
		}
		hw := c.highWatermark("t", 0)
		later := appendValues(t, c, "t", 0, time.Now(), testEvent("after-time"))
		waitFor(t, "the record produced after the start", func() bool { return e.rec.has(later) })
		if got := e.rec.of("t", 0); !slices.Equal(got, []int64{hw}) {
			t.Errorf("offsets %v submitted; want %d only", got, hw)
		}
	})
	t.Run("end", func(t *testing.T) {
		e := newConsumerEnv(t, c, "t")
		e.cfg.From = From{}
		src := e.start()
		hw := c.highWatermark("t", 0)
		waitFor(t, "the source to find the end", func() bool { return src.next("t", 0) == hw })
		later := appendValues(t, c, "t", 0, time.Now(), events("after", 2)...)
		waitFor(t, "the records produced after the start", func() bool { return e.rec.has(later) })
		if got := e.rec.of("t", 0); !slices.Equal(got, []int64{hw, hw + 1}) {
			t.Errorf("offsets %v submitted; want %d %d only", got, hw, hw+1)
		}
	})
}

// Transactional batches (franz-go's producer): the commit and abort
// markers are not records, and a record of an aborted transaction is not
// handed on, as librdkafka's default (read_committed) consumer, which
// GCN's own client uses, does not hand it on.
func TestConsumerTransactions(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	raw := readFixture(t, "franz-txn.bin")
	got := appendRaw(t, c, "t", 0, raw)
	// Offsets 0, 1 committed, 2 the commit marker, 3 aborted, 4 the
	// abort marker.
	if len(got) != 3 || got[2].offset != 3 {
		t.Fatalf("fixture: %v", got)
	}
	producerID := int64(binary.BigEndian.Uint64(raw[12+31:]))
	c.mu.Lock()
	c.part("t", 0).aborted = []abortedTransaction{{producerID: producerID, firstOffset: 3}}
	c.mu.Unlock()
	after := appendValues(t, c, "t", 0, time.Now(), testEvent("after"))
	e := newConsumerEnv(t, c, "t")
	e.start()
	waitFor(t, "the record after the transactions", func() bool { return e.rec.has(after) })
	if offs := e.rec.of("t", 0); !slices.Equal(offs, []int64{0, 1, 5}) {
		t.Errorf("offsets submitted %v; want 0 1 5 (3 was aborted, 2 and 4 are markers)", offs)
	}
}
