// Package status serves the broker's health and figures over HTTP, for
// --status and "comet status". It is kept apart from the VTP code so that
// it only ever reads counters and snapshots and can never touch or slow
// the event path.
//
// What is in it:
//
//   - [Source] (status.go) says where the figures come from: functions
//     that return the broker's [vtp.Snapshot], the handlers' counters, the
//     seen store's state and the journal's. Each is called once per
//     request; nil ones are left out. [Source.Report] gathers them into a
//     [Report], with [Handler], [Store] and [Journal] (journal.go) as its
//     parts and a list of problems: the broker is healthy when there are
//     none.
//   - [Source.Handler] serves four pages: /healthz ("ok", or 503 and one
//     problem a line), /status (the Report as one JSON object), /metrics
//     (Prometheus text format 0.0.4, metrics.go) and / (the same for a
//     person, as HTML refreshed every 10 s with no script, page.go).
//     Metric labels take values only from a small fixed set, from the
//     command line, or (a Kafka wildcard's topics) from a Kafka cluster,
//     escaped; never a value a VTP peer chooses. kafka.go adds the Kafka
//     sources to every page.
//   - [Serve] runs a [Server] on a listener: it has timeouts for every
//     phase of a request and keeps at most [MaxConns] connections open,
//     closing the one idle longest to make room for a new one (limit.go),
//     so idle clients cannot keep /healthz from answering. Over TCP it
//     answers only requests whose Host header is localhost, a loopback
//     address or the address it listens on (host.go), so that a web page
//     in a local browser cannot read it by DNS rebinding; on a Unix socket
//     every Host is answered.
package status
