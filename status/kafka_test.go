package status

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"comet/kafka"
)

// kafkaStatuses is a fixed state of two Kafka sources: one fetching, with
// a wildcard's topics and a token, and one that has not fetched for
// three minutes, with a topic name carrying characters the exposition
// format and HTML must escape (the consumer would refuse it; the pages
// must not depend on that).
func kafkaStatuses(now time.Time) []kafka.Status {
	expires := now.Add(40 * time.Minute)
	last := now.Add(-time.Minute)
	return []kafka.Status{{
		Name: "kafka://kafka.gcn.nasa.gov/gcn.classic.voevent.*", Cluster: "kafka.gcn.nasa.gov:9092",
		State: "fetching", Connected: true, Topics: []string{"gcn.classic.voevent.*"},
		Partitions: []kafka.PartitionStatus{
			{Topic: "gcn.classic.voevent.FERMI_GBM_GND_POS", Partition: 0, Next: 1200, HighWatermark: 1203, Lag: 3, LastRecord: &last},
			{Topic: "gcn.classic.voevent.SWIFT_BAT_GRB_POS_ACK", Partition: 2, Next: -1, HighWatermark: -1, Lag: 0},
		},
		TokenExpires: &expires, Since: now.Add(-time.Hour), LastFetch: now.Add(-time.Second),
		Records:     map[string]int64{"accepted": 7, "duplicate": 2, "refused": 1},
		BatchErrors: 4,
	}, {
		Name: "kafka://127.0.0.1:19092/a", Cluster: "127.0.0.1:19092", State: "waiting",
		Topics:     []string{"a"},
		Partitions: []kafka.PartitionStatus{{Topic: "a\"b\\c\nd<script>\xff", Partition: 1, Next: 5, HighWatermark: 9, Lag: 4}},
		Since:      now.Add(-time.Hour), LastFetch: now.Add(-3 * time.Minute),
		Records: map[string]int64{}, LastError: "connection refused",
	}}
}

func kafkaServer(t *testing.T, now time.Time, sources []kafka.Status) *httptest.Server {
	src := &Source{Version: "9.9", LocalIVO: "ivo://example.org/b", Start: now.Add(-time.Hour),
		Now: func() time.Time { return now }}
	if sources != nil {
		src.Kafka = func() []kafka.Status { return sources }
	}
	srv := httptest.NewServer(src.Handler())
	t.Cleanup(srv.Close)
	return srv
}

// TestKafkaMetrics: /metrics has every Kafka family with its labels,
// every verdict even at 0, lag only where it is known, and is valid for
// promtool.
func TestKafkaMetrics(t *testing.T) {
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	srv := kafkaServer(t, now, kafkaStatuses(now))
	_, text := get(t, srv.URL+"/metrics")
	m := parseMetrics(t, text)
	gcn := `source="kafka://kafka.gcn.nasa.gov/gcn.classic.voevent.*"`
	loc := `source="kafka://127.0.0.1:19092/a"`
	want := map[string]float64{
		`comet_kafka_connected{` + gcn + `}`:                                                       1,
		`comet_kafka_connected{` + loc + `}`:                                                       0,
		`comet_kafka_records_total{` + gcn + `,outcome="accepted"}`:                                7,
		`comet_kafka_records_total{` + gcn + `,outcome="duplicate"}`:                               2,
		`comet_kafka_records_total{` + gcn + `,outcome="refused"}`:                                 1,
		`comet_kafka_records_total{` + gcn + `,outcome="failed"}`:                                  0,
		`comet_kafka_records_total{` + loc + `,outcome="accepted"}`:                                0,
		`comet_kafka_records_total{` + loc + `,outcome="failed"}`:                                  0,
		`comet_kafka_batch_errors_total{` + gcn + `}`:                                              4,
		`comet_kafka_batch_errors_total{` + loc + `}`:                                              0,
		`comet_kafka_last_fetch_time_seconds{` + gcn + `}`:                                         float64(now.Unix() - 1),
		`comet_kafka_token_expiry_time_seconds{` + gcn + `}`:                                       float64(now.Add(40 * time.Minute).Unix()),
		`comet_kafka_lag{` + gcn + `,topic="gcn.classic.voevent.FERMI_GBM_GND_POS",partition="0"}`: 3,
		`comet_kafka_lag{` + loc + `,topic="a\"b\\c\nd<script>` + "\uFFFD" + `",partition="1"}`:    4,
		`comet_healthy`: 0,
	}
	for k, v := range want {
		got, ok := m[k]
		if !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
	for k := range m {
		if strings.Contains(k, "SWIFT_BAT") {
			t.Errorf("%s: lag shown for a partition whose offsets are not known", k)
		}
		if strings.HasPrefix(k, "comet_kafka_token_expiry") && strings.Contains(k, loc) {
			t.Errorf("%s: token expiry for a source without a token", k)
		}
	}
	if _, err := exec.LookPath("promtool"); err != nil {
		t.Log("promtool not installed: format checked by parseMetrics only")
		return
	}
	cmd := exec.Command("promtool", "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics: %v\n%s\n%s", err, out, text)
	}
}

// TestKafkaNoSources: a broker without Kafka sources has no kafka_sources
// in /status and no Kafka family in /metrics, as before they existed.
func TestKafkaNoSources(t *testing.T) {
	now := time.Now()
	srv := kafkaServer(t, now, nil)
	if _, text := get(t, srv.URL+"/metrics"); strings.Contains(text, "kafka") {
		t.Errorf("/metrics mentions Kafka without a source:\n%s", text)
	}
	if _, body := get(t, srv.URL+"/status"); strings.Contains(body, "kafka") {
		t.Errorf("/status mentions Kafka without a source:\n%s", body)
	}
	if _, body := get(t, srv.URL+"/"); strings.Contains(body, "Kafka") {
		t.Error("the page has a Kafka section without a source")
	}
}

// TestKafkaHealth: a source that has not fetched for over two minutes
// makes /healthz unhealthy, naming it and its last error; one that
// fetched a second ago does not.
func TestKafkaHealth(t *testing.T) {
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	st := kafkaStatuses(now)
	srv := kafkaServer(t, now, st[:1])
	if code, body := get(t, srv.URL+"/healthz"); code != http.StatusOK || body != "ok\n" {
		t.Errorf("a fetching source: %d %q", code, body)
	}
	// Two minutes exactly is not yet an outage; a moment more is.
	fresh := st[1]
	fresh.LastFetch = now.Add(-kafka.Outage)
	srv = kafkaServer(t, now, []kafka.Status{fresh})
	if code, body := get(t, srv.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("fetched %v ago: %d %q", kafka.Outage, code, body)
	}
	srv = kafkaServer(t, now, st)
	code, body := get(t, srv.URL+"/healthz")
	if code != http.StatusServiceUnavailable || strings.Count(body, "\n") != 1 ||
		!strings.Contains(body, "kafka://127.0.0.1:19092/a") || !strings.Contains(body, "connection refused") {
		t.Errorf("a source silent for 3 minutes: %d %q", code, body)
	}
	// Never fetched: counted from when the source started.
	never := st[1]
	never.LastFetch, never.Since = time.Time{}, now.Add(-3*time.Minute)
	srv = kafkaServer(t, now, []kafka.Status{never})
	if code, _ := get(t, srv.URL+"/healthz"); code != http.StatusServiceUnavailable {
		t.Errorf("a source that never fetched in 3 minutes: %d", code)
	}
}

// TestKafkaStatusAndPage: /status carries each source as kafka_sources,
// and the page shows cluster, state, topics, each partition's offsets,
// lag and last record, and the token's expiry, with every value escaped.
func TestKafkaStatusAndPage(t *testing.T) {
	now := time.Date(2026, 12, 7, 6, 0, 0, 0, time.UTC)
	srv := kafkaServer(t, now, kafkaStatuses(now))
	_, body := get(t, srv.URL+"/status")
	var r struct {
		Kafka []kafka.Status `json:"kafka_sources"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Kafka) != 2 || r.Kafka[0].Partitions[0].HighWatermark != 1203 || r.Kafka[0].TokenExpires == nil || r.Kafka[1].LastError != "connection refused" {
		t.Errorf("/status kafka_sources: %+v", r.Kafka)
	}
	code, page := get(t, srv.URL+"/")
	if code != http.StatusOK {
		t.Fatalf("page: %d\n%s", code, page)
	}
	for _, s := range []string{"Kafka sources", "kafka.gcn.nasa.gov:9092", "fetching", "gcn.classic.voevent.*",
		"<td>gcn.classic.voevent.FERMI_GBM_GND_POS</td><td>0</td><td>1200</td><td>1203</td><td>3</td><td>2026-12-07 05:59:00Z</td>",
		"<td>gcn.classic.voevent.SWIFT_BAT_GRB_POS_ACK</td><td>2</td><td>?</td><td>?</td><td>?</td><td>never</td>",
		"token expires 2026-12-07 06:40:00Z", "accepted 7", "failed 0", "batch errors 4",
		"waiting, not connected", "last error: connection refused", "&lt;script&gt;"} {
		if !strings.Contains(page, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Error("a topic name is not escaped on the page")
	}
}
