package vtp

import (
	"strings"
	"testing"
	"time"

	"comet/voevent"
)

// FuzzReplayParams feeds arbitrary Transport messages to the parsers of
// the replay extension's parameters: they must not panic, must accept
// only well-formed identities, numbers and refusal reasons, and must read
// back what PositionMarker, RefusalMarker and AuthenticateResponseAt
// write.
func FuzzReplayParams(f *testing.F) {
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	id := "0123456789abcdef0123456789abcdef"
	f.Add(PositionMarker("ivo://a/b", id, 42, true, now))
	f.Add(PositionMarker("ivo://a/b", id, 7, false, now))
	f.Add(AuthenticateResponseAt("ivo://a/b", "ivo://c/d", []string{"//Param"}, id, 99, now))
	f.Add(AuthenticateResponseAt("ivo://a/b", "ivo://c/d", nil, "", 0, now))
	f.Add(message(RoleAuthenticate, "x", "", now, `<Param name="journal" value="ZZ"/><Param name="journal-seq" value="-1"/>`))
	f.Add(message(RoleIAmAlive, "x", "", now, `<Param name="journal-next" value="1"/>`))
	f.Add(RefusalMarker("ivo://a/b", refusedBusy, "", 0, now))
	f.Add(RefusalMarker("ivo://a/b", refusedBudget, id, 12, now))
	f.Add(message(RoleIAmAlive, "x", "", now, `<Param name="journal-refused" value="Not &lt;a&gt; word"/>`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		ev, err := voevent.Parse(raw)
		if err != nil {
			return
		}
		if reason, ok := ParseRefusal(ev); ok {
			if reason == "" || len(reason) > maxReasonLen || strings.Trim(reason, "abcdefghijklmnopqrstuvwxyz-") != "" {
				t.Fatalf("accepted reason %q", reason)
			}
			back, ok := ParseRefusal(mustParse(t, RefusalMarker("l", reason, "", 0, now)))
			if !ok || back != reason {
				t.Fatalf("reason %q read back as %q", reason, back)
			}
		}
		if r, err := parseReplayRequest(ev); err == nil && r.asked {
			if checkJournalID(r.id) != nil {
				t.Fatalf("accepted identity %q", r.id)
			}
			back, err := parseReplayRequest(mustParse(t, AuthenticateResponseAt("o", "l", nil, r.id, r.seq, now)))
			if err != nil || back != r {
				t.Fatalf("request %+v read back as %+v, %v", r, back, err)
			}
		}
		pid, seq, next, ok, err := ParsePosition(ev)
		if err != nil || !ok {
			return
		}
		if pid == "" || checkJournalID(pid) != nil {
			t.Fatalf("accepted identity %q", pid)
		}
		id2, seq2, next2, ok2, err := ParsePosition(mustParse(t, PositionMarker("l", pid, seq, next, now)))
		if err != nil || !ok2 || id2 != pid || seq2 != seq || next2 != next {
			t.Fatalf("marker %s %d %v read back as %s %d %v %v", pid, seq, next, id2, seq2, next2, err)
		}
	})
}

func mustParse(t *testing.T, raw []byte) *voevent.Event {
	t.Helper()
	ev, err := voevent.Parse(raw)
	if err != nil {
		t.Fatalf("our own message does not parse: %v\n%s", err, raw)
	}
	return ev
}
