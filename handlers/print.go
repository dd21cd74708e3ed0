package handlers

import (
	"context"

	"comet/voevent"
)

func init() {
	Register(Plugin{
		Name:  "print-event",
		Usage: "log the XML of every event",
		New: func(s Setup) (Handler, error) {
			log := s.Logger
			return HandlerFunc(func(_ context.Context, ev *voevent.Event) error {
				log.Info("event received", "ivorn", ev.IVORN, "xml", string(ev.Raw))
				return nil
			}), nil
		},
	})
}
