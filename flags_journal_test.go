package main

import (
	"strings"
	"testing"
	"time"

	"comet/vtp"
)

// TestJournalFlags: the defaults, the accepted forms, 0 turning the
// journal off, and one-line refusals of bad values.
func TestJournalFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--remote=example.org"})
	if err != nil || cfg.journal.age != 72*time.Hour || cfg.journal.size != 1<<30 || cfg.journal.options() == nil {
		t.Fatalf("defaults %+v %v", cfg.journal, err)
	}
	cfg, err = parseFlags([]string{"--remote=x", "--journal-age=3600", "--journal-size=512MiB"})
	if err != nil || cfg.journal.age != time.Hour || cfg.journal.size != 512<<20 {
		t.Fatalf("%+v %v", cfg.journal, err)
	}
	cfg, err = parseFlags([]string{"--remote=x", "--journal-age", "0"})
	if err != nil || cfg.journal.options() != nil {
		t.Fatalf("--journal-age=0 leaves the journal on: %+v %v", cfg.journal, err)
	}
	for _, bad := range []string{"--journal-age=soon", "--journal-age=0.5", "--journal-size=10", "--journal-size=1TB", "--journal-size=-5"} {
		_, err := parseFlags([]string{"--remote=x", bad})
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), strings.SplitN(bad, "=", 2)[0]) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// TestReplayFlags: the replay limits' defaults, the accepted forms, and
// one-line refusals of bad values.
func TestReplayFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"--remote=x"})
	want := vtp.Replay{Max: vtp.DefaultMaxReplays, Budget: vtp.DefaultReplayBudget, Who: vtp.ReplayAny}
	if err != nil || cfg.journal.replay != want {
		t.Fatalf("defaults %+v %v", cfg.journal.replay, err)
	}
	cfg, err = parseFlags([]string{"--remote=x", "--max-replays=3", "--max-replay-bytes=2MiB", "--journal-replay=mtls"})
	want = vtp.Replay{Max: 3, Budget: 2 << 20, Who: vtp.ReplayMTLS}
	if err != nil || cfg.journal.replay != want {
		t.Fatalf("%+v %v", cfg.journal.replay, err)
	}
	cfg, err = parseFlags([]string{"--remote=x", "--journal-replay", "none"})
	if err != nil || cfg.journal.replay.Who != vtp.ReplayNone {
		t.Fatalf("%+v %v", cfg.journal.replay, err)
	}
	for _, bad := range []string{"--max-replays=0", "--max-replays=many", "--max-replay-bytes=1000", "--journal-replay=tls", "--journal-replay="} {
		_, err := parseFlags([]string{"--remote=x", bad})
		if err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), strings.SplitN(bad, "=", 2)[0]) {
			t.Errorf("%s: %v", bad, err)
		}
	}
}
