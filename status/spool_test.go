package status

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"comet/voevent"
	"comet/vtp"
)

// TestStatusShowsSpools: /status reports each spool directory's figures.
func TestStatusShowsSpools(t *testing.T) {
	b := vtp.New(vtp.Config{LocalIVO: "ivo://example.org/broker", Validate: voevent.Validate,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	dir := t.TempDir()
	sp, err := b.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { sp.Serve() })
	defer wg.Wait()
	defer b.Shutdown(t.Context())
	os.WriteFile(filepath.Join(dir, ".a"), event("ivo://example.org/test#spooled"), 0o600)
	os.Rename(filepath.Join(dir, ".a"), filepath.Join(dir, "a.xml"))
	os.WriteFile(filepath.Join(dir, ".b"), []byte("<not xml"), 0o600)
	os.Rename(filepath.Join(dir, ".b"), filepath.Join(dir, "b.xml"))

	src := &Source{Version: "9.9", Start: time.Now(), Broker: b.Snapshot}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var r Report
		if err := json.Unmarshal(reportJSON(t, src.Report()), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.Spools) == 1 && r.Spools[0].Accepted == 1 && r.Spools[0].Rejected == 1 {
			if r.Spools[0].Dir != dir || r.Counters.AcceptedFromAuthors != 1 {
				t.Errorf("spools %+v, counters %+v", r.Spools, r.Counters)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("status never showed the spool's two files: %+v", r.Spools)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// reportJSON is the report as /status serves it.
func reportJSON(t *testing.T, r Report) []byte {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
