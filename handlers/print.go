package handlers

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"sync"

	"comet/voevent"
)

var (
	printMu  sync.Mutex
	printOut io.Writer
)

// SetPrintOutput makes --print-event write to w, which must take each
// Write as one piece of the text log: one INFO line in slog's text format,
// then the event's XML exactly as received. Without it (as with a JSON
// log) the XML is an attribute of the INFO line.
func SetPrintOutput(w io.Writer) {
	printMu.Lock()
	defer printMu.Unlock()
	printOut = w
}

func init() {
	Register(Plugin{
		Name:  "print-event",
		Usage: "log the XML of every event",
		New: func(s Setup) (Handler, error) {
			log := s.Logger
			printMu.Lock()
			out := printOut
			printMu.Unlock()
			return HandlerFunc(func(ctx context.Context, ev *voevent.Event) error {
				if out == nil {
					log.Info("event received", "ivorn", voevent.Clip(ev.IVORN), "xml", string(ev.Raw))
					return nil
				}
				if !log.Enabled(ctx, slog.LevelInfo) {
					return nil
				}
				// The line and the XML go in one Write, so that no other
				// log line comes between them.
				var b bytes.Buffer
				slog.New(slog.NewTextHandler(&b, nil)).Info("event received; its XML follows",
					"handler", "print-event", "ivorn", voevent.Clip(ev.IVORN), "bytes", len(ev.Raw))
				b.Write(ev.Raw)
				if !bytes.HasSuffix(ev.Raw, []byte("\n")) {
					b.WriteByte('\n')
				}
				_, err := out.Write(b.Bytes())
				return err
			}), nil
		},
	})
}
