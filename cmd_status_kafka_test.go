package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"comet/kafka"
	"comet/status"
)

// TestStatusSummaryKafka: comet status shows each Kafka source with its
// cluster, state, topics, records by verdict, token expiry, and a line per
// topic-partition with its offsets, lag and last record; a value from
// the cluster cannot write control characters to the terminal.
func TestStatusSummaryKafka(t *testing.T) {
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	expires, last := now.Add(40*time.Minute), now.Add(-time.Minute)
	r := &status.Report{Version: "1", LocalIVO: "ivo://example.org/b", Start: now.Add(-time.Hour), Now: now,
		Kafka: []kafka.Status{{
			Name: "kafka://kafka.gcn.nasa.gov/gcn.classic.voevent.*", Cluster: "kafka.gcn.nasa.gov:9092", State: "fetching", Connected: true,
			Topics: []string{"gcn.classic.voevent.*"},
			Partitions: []kafka.PartitionStatus{
				{Topic: "gcn.classic.voevent.FERMI_GBM_GND_POS", Partition: 0, Next: 1200, HighWatermark: 1203, Lag: 3, LastRecord: &last},
				{Topic: "x\x1b[2Jy", Partition: 1, Next: -1, HighWatermark: -1},
			},
			TokenExpires: &expires, LastFetch: now.Add(-time.Second),
			Records: map[string]int64{"accepted": 7, "duplicate": 2, "refused": 1}, BatchErrors: 4,
		}, {
			Name: "kafka://127.0.0.1:19092/a", Cluster: "127.0.0.1:19092", State: "waiting", Topics: []string{"a"},
			Records: map[string]int64{}, LastError: "dial tcp 127.0.0.1:19092: connection refused",
		}},
	}
	var out bytes.Buffer
	printSummary(&out, r, true, "ok")
	text := out.String()
	for _, s := range []string{
		"kafka kafka://kafka.gcn.nasa.gov/gcn.classic.voevent.* (cluster kafka.gcn.nasa.gov:9092): fetching; topics gcn.classic.voevent.*\n",
		"  records: 7 accepted, 2 duplicate, 1 refused, 0 failed; 4 batch errors; last fetch 2026-12-07T05:59:59Z\n",
		"  token expires 2026-12-07T06:40:00Z\n",
		"  gcn.classic.voevent.FERMI_GBM_GND_POS[0]: next 1200, high watermark 1203, lag 3, last record 2026-12-07T05:59:00Z\n",
		"  x\\x1b[2Jy[1]: next ?, high watermark ?, lag ?, last record never\n",
		"kafka kafka://127.0.0.1:19092/a (cluster 127.0.0.1:19092): waiting, not connected; topics a\n",
		"  records: 0 accepted, 0 duplicate, 0 refused, 0 failed; 0 batch errors; last fetch never\n",
		"  last error: dial tcp 127.0.0.1:19092: connection refused\n",
	} {
		if !strings.Contains(text, s) {
			t.Errorf("summary lacks %q:\n%s", s, text)
		}
	}
	if strings.Contains(text, "\x1b") {
		t.Error("an escape sequence from a topic name reached the terminal")
	}
}
