// Package handlers runs local actions on every event the broker accepts,
// from authors or from remote brokers: printing, saving to files, spawning
// commands, and whatever a site adds. Relaying to subscribers is the
// broker's own work, not a handler's.
//
// What is in it:
//
//   - The plugin registry (handler.go): a [Plugin] has a name, a usage
//     line, [Option]s and a constructor taking a [Setup]; [Register] makes
//     it available and [Plugins] lists them, for the command line, where
//     "--NAME" enables a plugin and "--NAME-OPTION=value" configures it, as
//     in Comet. A [Handler] acts on one event ([HandlerFunc] adapts a
//     function); one that is a [ContextCloser] or an io.Closer is closed
//     after its last event.
//   - The [Dispatcher] (dispatch.go) gives every accepted event to each
//     handler: each runs on its own goroutine with a queue of [QueueLen]
//     events, in the order they were accepted; [HandlerStats] counts what
//     each did. Deliver never waits: a handler whose queue is full skips
//     the event (counted, and logged at most once per handler every 10 s),
//     so a slow or stuck handler delays neither the broker nor the other
//     handlers. Close lets each handler finish its queue until shortly
//     before the shutdown deadline and returns by it, leaving behind, with
//     a log line, a handler that does not stop.
//   - The built-in handlers: --print-event (print.go; [SetPrintOutput]
//     puts the event's XML in the text log after its INFO line),
//     --save-event (save.go; [FileName] names files as Comet does, and
//     writing through os.Root keeps every name inside the directory) and
//     --cmd=PATH (spawn.go; [ParseSeconds] reads its timeout). Each --cmd
//     program runs directly, with no shell, the event on its standard
//     input, with at most --cmd-concurrency runs at once and
//     --cmd-queue events waiting; beyond that the command skips the event.
//     A run past --cmd-timeout, or still running at shutdown, is killed
//     with its whole process group on Unix (procgroup_unix.go), so a
//     script's children die with it; elsewhere only the command itself is
//     killed (procgroup_other.go). A command's output is logged at DEBUG,
//     its first 64 KiB only; a failure at WARNING.
//
// A site adds its own handler with one file in this package, without
// touching the command line's code:
//
//	package handlers
//
//	func init() {
//		Register(Plugin{
//			Name:    "notify",
//			Usage:   "post each event's ivorn to a local service",
//			Options: []Option{{Name: "url", Default: "http://localhost:8000/", Usage: "where to post"}},
//			New: func(s Setup) (Handler, error) {
//				url := s.Option("url")
//				return HandlerFunc(func(ctx context.Context, ev *voevent.Event) error {
//					// ... post ev.IVORN to url ...
//					return nil
//				}), nil
//			},
//		})
//	}
//
// and "comet --notify --notify-url=http://..." enables it.
package handlers
