package kafka

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"crypto/tls"
)

// produce sends one record value to the peer's topic through its control
// API.
func (p *runningPeer) produce(t *testing.T, topic, compression, value string) {
	t.Helper()
	resp, err := http.Post(p.control+"/produce?topic="+topic+"&compression="+compression, "text/plain", strings.NewReader(value))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("produce: %s: %s", resp.Status, body)
	}
}

// TestSourceAgainstKafkapeer runs a Source against a real cluster over
// TLS with OAUTHBEARER: records produced before and after it starts all
// reach Submit once, in order, and the stored position follows them.
func TestSourceAgainstKafkapeer(t *testing.T) {
	bin := kafkapeer(t)
	p := startKafkapeer(t, bin, peerOpts{sasl: MechOAuthBearer, tls: true})
	creds, err := LoadCreds(filepath.Join(p.dir, "credentials"), "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		p.produce(t, peerTopic, "zstd", strings.Repeat("<x/>", 500)+string(rune('a'+i)))
	}
	var mu sync.Mutex
	var got []string
	more := make(chan struct{}, 100)
	offsets := filepath.Join(t.TempDir(), "offsets")
	src, err := New(Config{
		Name: "test", Addr: p.broker, Topics: []string{"gcn.classic.*"},
		TLS: &tls.Config{RootCAs: p.roots}, TokenRoots: p.roots, Creds: creds,
		From: From{Start: true}, OffsetsFile: offsets,
		Submit: func(v []byte, log *slog.Logger) (Verdict, string) {
			mu.Lock()
			got = append(got, string(v[len(v)-1:]))
			mu.Unlock()
			more <- struct{}{}
			return Accepted, ""
		},
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { src.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wait := func(n int) {
		for range n {
			select {
			case <-more:
			case <-time.After(30 * time.Second):
				t.Fatalf("records: got %v", got)
			}
		}
	}
	wait(3)
	p.produce(t, peerTopic, "gzip", strings.Repeat("<y/>", 500)+"d")
	p.produce(t, peerTopic, "none", "e")
	wait(2)
	mu.Lock()
	if s := strings.Join(got, ""); s != "abcde" {
		t.Errorf("got %q", s)
	}
	mu.Unlock()
	st := src.Status()
	t.Logf("%+v", st)
	cancel()
	<-done
	pos, err := loadOffsets(offsets)
	if err != nil || pos[topicPart{peerTopic, 0}] != 5 {
		t.Errorf("stored %v, %v", pos, err)
	}
}
