package vtp

import (
	"slices"
	"strings"
	"testing"
	"time"

	"comet/voevent"
)

// TestJournalAloneRecordsAuthors: one rule decides where every source's
// events are recorded. A broker given a Journal and no Seen journals an
// author's event, as it does a remote's, so the same event sent again is
// a duplicate, acknowledged and not relayed, and a restart's replay has
// it.
func TestJournalAloneRecordsAuthors(t *testing.T) {
	var tb *testBroker
	store, err := openJournalStore(t.TempDir(), func(seq uint64, p any) { tb.Journaled(seq, p) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	tb = startBroker(t, "ivo://example.org/journal-only", func(c *Config) {
		c.Seen = nil
		c.Journal = store
	})
	ev := testEvent(ivorn("journal-only"), "observation", "")
	if a := mustAck(t, tb.recv, ev); len(a.Results) != 0 {
		t.Fatalf("first copy answered %v, want a plain ack", a.Results)
	}
	if a := mustAck(t, tb.recv, ev); !slices.Contains(a.Results, ReasonDuplicate) {
		t.Fatalf("second copy answered %v, want the duplicate ack: the author's event was not recorded", a.Results)
	}
	if n := store.JournalLast(); n != 1 {
		t.Fatalf("journal holds %d events, want the author's one", n)
	}
}

// FuzzSubmit: whatever an author sends, the seam's verdict is one of
// its kinds and the author's answer follows from it: an ack for an event
// accepted or already seen, a nak under 1 KiB for one refused or not
// recorded, nothing for a message that is not an event. A spool's reason
// file says what that nak says, cut as it is cut.
func FuzzSubmit(f *testing.F) {
	f.Add(testEvent("ivo://example.org/test#fuzz", "observation", ""))
	f.Add(testEvent("ivo://example.org/test#fuzz", "test", "<What><Param name=\"a\" value=\"b\"/></What>"))
	f.Add(testEvent("not an ivorn", "observation", ""))
	f.Add(IAmAlive("ivo://example.org/peer", time.Unix(0, 0)))
	f.Add([]byte("<VOEvent role=\"observation\" ivorn=\"" + strings.Repeat("&amp;", 300) + "\"/>"))
	f.Add([]byte("<unclosed"))
	f.Add(testEvent("ivo://example.org/"+strings.Repeat("&quot;", 100), "observation", "")) // a long refusal
	b := New(Config{LocalIVO: brokerIVO, Validate: voevent.Validate, Seen: newMemSeen().check, Logger: discardLogger()})
	// A certified author, so that identity refusals, which quote the
	// ivorn, are met too.
	src := &source{kind: authorSource, name: "author fuzz", who: &publisher{identity: "ivo://example.org/test"}, warn: new(warnings)}
	f.Fuzz(func(t *testing.T, raw []byte) {
		v := b.submit(raw, src, discardLogger())
		reply := b.authorReply(v)
		if v.kind < verdictAccepted || v.kind > verdictNotEvent {
			t.Fatalf("verdict kind %d", v.kind)
		}
		if (v.ev != nil) != (v.kind == verdictAccepted) {
			t.Fatalf("verdict %d carries event %v", v.kind, v.ev != nil)
		}
		if (reply == nil) != (v.kind == verdictNotEvent) {
			t.Fatalf("verdict %d answered %q", v.kind, reply)
		}
		if reply == nil {
			return
		}
		m, err := voevent.Parse(reply)
		if err != nil {
			if v.kind == verdictRefused && strings.ContainsFunc(v.ivorn+v.reason, notXMLChar) {
				return // quotes text XML 1.0 cannot carry
			}
			t.Fatalf("answer is not XML: %v\n%s", err, reply)
		}
		tr := ParseTransport(m)
		switch v.kind {
		case verdictAccepted, verdictDuplicate:
			if tr.Role != RoleAck {
				t.Fatalf("verdict %d answered %s", v.kind, tr.Role)
			}
			return
		}
		if tr.Role != RoleNak || len(reply) >= 1024 {
			t.Fatalf("verdict %d answered a %s of %d bytes", v.kind, tr.Role, len(reply))
		}
		said := voevent.OneLine(strings.TrimPrefix(strings.Join(tr.Results, "; "), "Event rejected: "))
		if got := voevent.OneLine(spoolReason(v)); got != said {
			t.Fatalf("spool reason %q, the nak says %q", got, said)
		}
	})
}
