package vtp

import (
	"strings"
	"testing"
	"time"

	"comet/journal"
	"comet/voevent"
)

// TestRemotePositionAndIdentityChange: our side of the extension. The
// authenticate response asks from the recorded position; a journal-next
// marker moves the position only once its event is handled; an upstream
// whose journal identity changed is logged, and its new position taken.
func TestRemotePositionAndIdentityChange(t *testing.T) {
	tb, store := startJournalBroker(t, nil)
	old, renewed := strings.Repeat("a", 32), strings.Repeat("b", 32)
	rs := newRemoteState("upstream.example.org:8099")
	rs.jx = &remoteJournal{} // as handleRemote does for a broker with a journal
	store.SetPosition(rs.addr, journal.Position{ID: old, Seq: 41})
	var w warnings
	now := time.Now()
	answer := func(raw []byte) []byte {
		ev, err := voevent.Parse(raw)
		reply, _ := tb.fromRemote(ev, err, tb.Broker.log, &source{kind: remoteSource, warn: &w}, rs)
		if err != nil || IsEventRole(ev.Role) {
			tb.remoteEventDone(rs)
		}
		return reply
	}
	reply, err := voevent.Parse(answer(Authenticate("ivo://example.org/up", now)))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := parseReplayRequest(reply); err != nil || r != (replayRequest{true, old, 41}) {
		t.Fatalf("authenticate response asks %+v (%v), want from %s 41", r, err, old)
	}
	if got := answer(PositionMarker("ivo://example.org/up", renewed, 1, true, now)); got != nil {
		t.Fatalf("a journal-next marker was answered: %s", got)
	}
	tb.log.waitLog(t, "journal identity changed")
	if p, _ := store.Position(rs.addr); p.ID != old {
		t.Fatalf("position moved to %+v before its event arrived", p)
	}
	answer(testEvent(ivorn("up"), "observation", ""))
	if p, _ := store.Position(rs.addr); p != (journal.Position{ID: renewed, Seq: 1}) {
		t.Fatalf("position %+v after the event, want %s 1", p, renewed)
	}
	if got := answer(PositionMarker("ivo://example.org/up", renewed, 7, false, now)); got == nil {
		t.Fatal("a journal-seq iamalive was not answered")
	}
	if p, _ := store.Position(rs.addr); p.Seq != 7 {
		t.Fatalf("position %+v, want 7", p)
	}
	// A garbage marker changes nothing and is answered as an iamalive.
	bad := message(RoleIAmAlive, "ivo://example.org/up", "", now, `<Param name="journal" value="xyz"/><Param name="journal-seq" value="9"/>`)
	if got := answer(bad); got == nil {
		t.Fatal("bad marker not answered as an iamalive")
	}
	tb.log.waitLog(t, "bad position marker")
	if p, _ := store.Position(rs.addr); p.Seq != 7 {
		t.Fatalf("bad marker moved the position to %+v", p)
	}
}
