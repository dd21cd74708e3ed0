package status

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"comet/vtp"
)

// TestIdentitiesShown: a subscriber's certificate identity is in /status
// and on the page (escaped), and TLS refusals are in /metrics.
func TestIdentitiesShown(t *testing.T) {
	snap := vtp.Snapshot{
		Counters: vtp.Counters{RefusedIdentity: 3, ConnsRefusedTLS: 5, ConnsRefusedIdentity: 7},
		Subscribers: []vtp.SubscriberInfo{
			{Addr: "192.0.2.1:4000", Since: time.Now(), Identity: "ivo://example.org/<sub>"},
			{Addr: "192.0.2.2:4000", Since: time.Now()},
		},
	}
	src := &Source{Broker: func() vtp.Snapshot { return snap }, StoreErr: func() error { return nil }}
	srv := httptest.NewServer(src.Handler())
	defer srv.Close()

	_, body := get(t, srv.URL+"/status")
	if !strings.Contains(body, `"identity": "ivo://example.org/\u003csub\u003e"`) || strings.Count(body, `"identity"`) != 1 {
		t.Errorf("/status does not carry the one subscriber identity:\n%s", body)
	}
	_, page := get(t, srv.URL+"/")
	if !strings.Contains(page, "192.0.2.1:4000 (ivo://example.org/&lt;sub&gt;)") {
		t.Errorf("the page does not show the identity, escaped:\n%s", page)
	}
	_, text := get(t, srv.URL+"/metrics")
	m := parseMetrics(t, text)
	for key, want := range map[string]float64{
		`comet_events_refused_total{reason="identity"}`:           3,
		`comet_connections_refused_total{reason="tls_handshake"}`: 5,
		`comet_connections_refused_total{reason="identity"}`:      7,
	} {
		if m[key] != want {
			t.Errorf("%s = %v, want %v", key, m[key], want)
		}
	}
}
