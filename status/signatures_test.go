package status

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"comet/voevent"
	"comet/vtp"
)

// The signature outcomes a broker counts appear in /metrics and /status
// when it checks signatures, and not at all when it does not.
func TestSignatureMetrics(t *testing.T) {
	k := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{1}, ed25519.SeedSize))
	trust, err := voevent.ParseTrust("keys.txt", strings.NewReader(voevent.TrustedKey("ivo://example.org/signed", k.Public().(ed25519.PublicKey))))
	if err != nil {
		t.Fatal(err)
	}
	for _, checking := range []bool{true, false} {
		cfg := vtp.Config{LocalIVO: "ivo://example.org/broker", Validate: voevent.Validate,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if checking {
			cfg.Signatures = voevent.NewPolicy(trust, false).Check
		}
		b := vtp.New(cfg)
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() { b.ServeAuthors(l) })
		src := &Source{Version: "9.9", LocalIVO: "ivo://example.org/broker", Start: time.Now(), Broker: b.Snapshot,
			StoreLen: func() int { return 0 }, StoreErr: func() error { return nil }}
		srv := httptest.NewServer(src.Handler())

		ev, err := voevent.Parse(event("ivo://example.org/signed#1"))
		if err != nil {
			t.Fatal(err)
		}
		good, err := voevent.Sign(ev, k)
		if err != nil {
			t.Fatal(err)
		}
		roles := send(t, l.Addr().String(), good, event("ivo://example.org/signed#2"), event("ivo://example.org/free#3"))
		_, text := get(t, srv.URL+"/metrics")
		m := parseMetrics(t, text)
		_, html := get(t, srv.URL+"/")
		_, body := get(t, srv.URL+"/status")
		var r Report
		if err := json.Unmarshal([]byte(body), &r); err != nil {
			t.Fatal(err)
		}
		srv.Close()
		b.Shutdown(t.Context())
		wg.Wait()

		if !checking {
			if strings.Contains(text, "comet_signature") || r.Counters.Signatures != nil || strings.Contains(html, "signatures:") {
				t.Errorf("no signature check, yet signature figures:\n%s\n%s", text, body)
			}
			continue
		}
		if strings.Join(roles, " ") != "ack nak ack" {
			t.Errorf("answers %v, want ack nak ack", roles)
		}
		for key, want := range map[string]float64{
			`comet_signatures_total{outcome="valid"}`:         1,
			`comet_signatures_total{outcome="missing"}`:       2,
			`comet_signatures_total{outcome="invalid"}`:       0,
			`comet_signatures_total{outcome="untrusted_key"}`: 0,
			`comet_signatures_total{outcome="malformed"}`:     0,
			`comet_signature_refusals_total{source="author"}`: 1,
			`comet_signature_refusals_total{source="remote"}`: 0,
		} {
			if got, ok := m[key]; !ok || got != want {
				t.Errorf("%s = %v (present %v), want %v", key, got, ok, want)
			}
		}
		if !strings.Contains(html, "<tr><td>signatures: missing</td><td>2</td></tr>") || !strings.Contains(html, "<td>1 / 0</td>") {
			t.Errorf("the page does not show the signature counts:\n%s", html)
		}
		if s := r.Counters.Signatures; s == nil || s.Outcomes["valid"] != 1 || s.Outcomes["missing"] != 2 || s.RefusedFromAuthors != 1 {
			t.Errorf("/status signatures: %s", body)
		}
	}
}
