package handlers

import (
	"bytes"
	"context"
	"regexp"
	"testing"
)

// TestPrintEventRaw: with a text log, one INFO line and then the XML as
// received, in a single Write.
func TestPrintEventRaw(t *testing.T) {
	var writes [][]byte
	SetPrintOutput(writerFunc(func(p []byte) (int, error) {
		writes = append(writes, bytes.Clone(p))
		return len(p), nil
	}))
	t.Cleanup(func() { SetPrintOutput(nil) })
	h, _, err := setup(t, plugin(t, "print-event"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev := event(t, "ivo://example.org/x#raw")
	h.Handle(context.Background(), ev)
	if len(writes) != 1 {
		t.Fatalf("%d writes, want 1", len(writes))
	}
	line, xml, _ := bytes.Cut(writes[0], []byte("\n"))
	re := regexp.MustCompile(`^time=\S+ level=INFO msg="event received; its XML follows" handler=print-event ivorn=ivo://example.org/x#raw bytes=\d+$`)
	if !re.Match(line) || !bytes.Equal(bytes.TrimSuffix(xml, []byte("\n")), bytes.TrimSuffix(ev.Raw, []byte("\n"))) {
		t.Errorf("printed %q", writes[0])
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
