package handlers

import (
	"context"

	"comet/voevent"
)

// Broadcaster relays events to subscribers (vtp.Broker does).
type Broadcaster interface {
	Broadcast(ev *voevent.Event)
}

// Relay returns the handler that passes every accepted event to the
// broker's subscribers. It is enabled by --broadcast rather than being a
// plugin, and queueing for subscribers never blocks, so it keeps up.
func Relay(b Broadcaster) Handler {
	return HandlerFunc(func(_ context.Context, ev *voevent.Event) error {
		b.Broadcast(ev)
		return nil
	})
}
