package vtp

import (
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func TestWarningsRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var lb logBuf
		log := slog.New(slog.NewTextHandler(&lb, nil))
		var w warnings
		for range 20 {
			w.warn(log, "bad thing", "peer", "x")
			w.warn(log, "other thing")
		}
		if n := strings.Count(lb.String(), "bad thing"); n != warnBurst {
			t.Errorf("%d warnings logged in a burst of 20, want %d", n, warnBurst)
		}
		if n := strings.Count(lb.String(), "other thing"); n != warnBurst {
			t.Errorf("another kind: %d logged, want %d (kinds are counted apart)", n, warnBurst)
		}
		time.Sleep(warnEvery)
		w.warn(log, "bad thing", "peer", "x")
		w.warn(log, "bad thing", "peer", "x")
		if n := strings.Count(lb.String(), "bad thing"); n != warnBurst+1 {
			t.Errorf("after a minute: %d logged, want %d", n, warnBurst+1)
		}
		if !strings.Contains(lb.String(), "suppressed=15") {
			t.Errorf("the minute's line does not count the 15 left out:\n%s", lb.String())
		}
	})
}
