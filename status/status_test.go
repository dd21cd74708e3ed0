package status

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"comet/handlers"
	"comet/voevent"
	"comet/vtp"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// ParseMetrics reads a text exposition back into "name{labels}" → value,
// failing the test on any line that breaks the format's rules we follow:
// every sample's family has HELP and TYPE before it, names start with
// comet_, and counters end in _total.
func parseMetrics(t *testing.T, text string) map[string]float64 {
	t.Helper()
	types := map[string]string{}
	helps := map[string]bool{}
	m := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if f, ok := strings.CutPrefix(line, "# HELP "); ok {
			helps[strings.Fields(f)[0]] = true
			continue
		}
		if f, ok := strings.CutPrefix(line, "# TYPE "); ok {
			name, typ, _ := strings.Cut(f, " ")
			if types[name] != "" {
				t.Errorf("TYPE %s twice", name)
			}
			types[name] = typ
			continue
		}
		key, val, ok := strings.Cut(line, " ")
		if !ok {
			t.Fatalf("bad line %q", line)
		}
		name, _, _ := strings.Cut(key, "{")
		if !helps[name] || types[name] == "" {
			t.Errorf("sample %q without HELP and TYPE", line)
		}
		if !strings.HasPrefix(name, "comet_") || (types[name] == "counter") != strings.HasSuffix(name, "_total") {
			t.Errorf("badly named %s %s", types[name], name)
		}
		v, err := strconv.ParseFloat(val, 64)
		if err != nil {
			t.Fatalf("bad value in %q", line)
		}
		m[key] = v
	}
	return m
}

func event(ivorn string) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="` + ivorn + `" role="test" version="2.0">
  <Who><AuthorIVORN>ivo://example.org/author</AuthorIVORN><Date>2026-11-24T12:00:00</Date></Who>
  <What><Param name="x" value="1"/></What>
</voe:VOEvent>
`)
}

// send submits frames as an author on one connection and returns the answers' roles.
func send(t *testing.T, addr string, frames ...[]byte) []string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	var roles []string
	for _, f := range frames {
		vtp.WriteFrame(c, f)
		raw, err := vtp.ReadFrame(r, vtp.DefaultMaxFrame)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := voevent.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		roles = append(roles, ev.Role)
	}
	return roles
}

// TestPagesFromABroker runs a broker, sends it events and checks that
// every page tells what was done.
func TestPagesFromABroker(t *testing.T) {
	b := vtp.New(vtp.Config{LocalIVO: "ivo://example.org/broker", Validate: voevent.Validate,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { b.ServeAuthors(l) })
	defer wg.Wait()
	defer b.Shutdown(t.Context())

	src := &Source{Version: "9.9", LocalIVO: "ivo://example.org/<broker>", Start: time.Now(), Broker: b.Snapshot,
		Handlers: func() []handlers.HandlerStats {
			return []handlers.HandlerStats{{Name: "print-event", Queued: 1, Done: 2, Failed: 3, Skipped: 4}}
		},
		StoreLen: func() int { return 42 }, StoreErr: func() error { return nil },
		StoreCompacted: func() time.Time { return time.Unix(1700000000, 0) }}
	srv := httptest.NewServer(src.Handler())
	defer srv.Close()

	const n = 5
	frames := [][]byte{[]byte("<not xml")}
	for i := range n {
		frames = append(frames, event(fmt.Sprintf("ivo://example.org/test#%d", i)))
	}
	send(t, l.Addr().String(), frames...)

	code, text := get(t, srv.URL+"/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	m := parseMetrics(t, text)
	for k, want := range map[string]float64{
		`comet_events_accepted_total{source="author"}`:                       n,
		`comet_events_refused_total{reason="not_well_formed"}`:               1,
		`comet_events_refused_total{reason="invalid"}`:                       0,
		`comet_handler_events_total{handler="print-event",outcome="failed"}`: 3,
		`comet_seen_keys`:                         42,
		`comet_seen_last_compaction_time_seconds`: 1700000000,
		`comet_healthy`:                           1,
		`comet_listener_up{role="receive",addr="tcp:` + l.Addr().String() + `"}`: 1,
	} {
		if got, ok := m[k]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, want)
		}
	}

	code, body := get(t, srv.URL+"/status")
	var r Report
	if err := json.Unmarshal([]byte(body), &r); code != 200 || err != nil {
		t.Fatalf("/status: %d %v\n%s", code, err, body)
	}
	if r.Counters.AcceptedFromAuthors != n || r.LastEvent == nil || r.LastEvent.IVORN != "ivo://example.org/test#4" ||
		len(r.Handlers) != 1 || r.Store.Keys != 42 || !r.Healthy || r.Version != "9.9" ||
		r.Store.Compacted == nil || !r.Store.Compacted.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("/status: %s", body)
	}

	if code, body := get(t, srv.URL+"/healthz"); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	code, html := get(t, srv.URL+"/")
	if code != 200 || !strings.Contains(html, "ivo://example.org/&lt;broker&gt;") || strings.Contains(html, "<broker>") ||
		!strings.Contains(html, "ivo://example.org/test#4") {
		t.Errorf("/: %d\n%s", code, html)
	}
	if code, _ := get(t, srv.URL+"/nothing"); code != 404 {
		t.Errorf("/nothing: %d, want 404", code)
	}
}

func TestHealth(t *testing.T) {
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	var storeErr error
	snap := vtp.Snapshot{Remotes: []vtp.RemoteInfo{{Addr: "a:8099", State: vtp.RemoteBackingOff, DownSince: now}}}
	src := &Source{Broker: func() vtp.Snapshot { return snap }, StoreErr: func() error { return storeErr }, Now: func() time.Time { return now }}
	srv := httptest.NewServer(src.Handler())
	defer srv.Close()
	check := func(wantCode int, wantBody string) {
		t.Helper()
		code, body := get(t, srv.URL+"/healthz")
		if code != wantCode || !strings.Contains(body, wantBody) {
			t.Errorf("/healthz: %d %q, want %d with %q", code, body, wantCode, wantBody)
		}
	}
	check(200, "ok")
	now = now.Add(121 * time.Second)
	check(503, "every remote broker")
	storeErr = errors.New("disk full")
	check(503, "every remote broker (1) has been disconnected for over 2m0s\nthe seen-events store cannot write: disk full\n")
	snap.Remotes[0].State, snap.Remotes[0].DownSince = vtp.RemoteAuthenticated, time.Time{}
	check(503, "disk full")
	storeErr = nil
	check(200, "ok")
	snap.Listeners = []vtp.ListenerInfo{{Role: "receive", Addr: "tcp:[::]:8098", Err: "too many open files", ErrSince: now}}
	check(503, "listener tcp:[::]:8098 (receive) failing")
}
