package status

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"comet/voevent"
	"comet/vtp"
)

// writeMetrics writes r in the Prometheus text exposition format, version
// 0.0.4. Labels take only values from a small set or from the command
// line (listener and remote addresses, handler names, Kafka sources),
// and the names of a Kafka cluster's topics, which the consumer checks:
// never a value a VTP peer chooses.
func writeMetrics(out io.Writer, r *Report) {
	w := bufio.NewWriter(out)
	defer w.Flush()
	family := func(name, typ, help string) {
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, typ)
	}
	sample := func(name string, v float64, labels ...string) {
		w.WriteString(name)
		if len(labels) > 0 {
			w.WriteByte('{')
			for i := 0; i < len(labels); i += 2 {
				if i > 0 {
					w.WriteByte(',')
				}
				fmt.Fprintf(w, "%s=\"%s\"", labels[i], labelValue(labels[i+1]))
			}
			w.WriteByte('}')
		}
		w.WriteByte(' ')
		w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		w.WriteByte('\n')
	}
	one := func(name, typ, help string, v float64) {
		family(name, typ, help)
		sample(name, v)
	}
	c := r.Counters

	family("comet_build_info", "gauge", "Always 1; the version is a label.")
	sample("comet_build_info", 1, "version", r.Version)
	one("comet_start_time_seconds", "gauge", "When the broker started, in seconds since the Unix epoch.", unixSeconds(r.Start))
	one("comet_healthy", "gauge", "1 when /healthz answers ok, else 0.", b2f(r.Healthy))

	family("comet_events_accepted_total", "counter", "New events accepted, by where they came from.")
	sample("comet_events_accepted_total", float64(c.AcceptedFromAuthors), "source", "author")
	sample("comet_events_accepted_total", float64(c.AcceptedFromRemotes), "source", "remote")
	family("comet_events_refused_total", "counter", "Author submissions answered with a nak, by reason.")
	sample("comet_events_refused_total", float64(c.RefusedNotWellFormed), "reason", "not_well_formed")
	sample("comet_events_refused_total", float64(c.RefusedInvalid), "reason", "invalid")
	sample("comet_events_refused_total", float64(c.RefusedStorageFailure), "reason", "storage_failure")
	sample("comet_events_refused_total", float64(c.RefusedOversized), "reason", "oversized")
	sample("comet_events_refused_total", float64(c.RefusedIdentity), "reason", "identity")
	one("comet_events_duplicate_total", "counter", "Events already seen, from authors or remote brokers: not relayed again.", float64(c.Duplicates))
	one("comet_deliveries_total", "counter", "Events written to subscribers.", float64(c.Deliveries))
	one("comet_deliveries_dropped_total", "counter", "Events a subscriber did not get because it was too slow or its connection failed.", float64(c.DeliveriesDropped))
	one("comet_filter_cutoffs_total", "counter", "Events for which a subscriber's filters spent their work budget.", float64(c.FilterCutoffs))
	family("comet_connections_refused_total", "counter", "Connections closed at once, by reason.")
	sample("comet_connections_refused_total", float64(c.ConnsRefusedLimit), "reason", "limit")
	sample("comet_connections_refused_total", float64(c.ConnsRefusedWhitelist), "reason", "whitelist")
	sample("comet_connections_refused_total", float64(c.ConnsRefusedTLS), "reason", "tls_handshake")
	sample("comet_connections_refused_total", float64(c.ConnsRefusedIdentity), "reason", "identity")
	if s := c.Signatures; s != nil {
		family("comet_signatures_total", "counter", "Events whose signatures were checked, by outcome.")
		for _, o := range voevent.SignatureOutcomes() {
			sample("comet_signatures_total", float64(s.Outcomes[o.String()]), "outcome", o.String())
		}
		family("comet_signature_refusals_total", "counter", "Events refused for their signature: nak'd to authors, or acked and not relayed from remotes.")
		sample("comet_signature_refusals_total", float64(s.RefusedFromAuthors), "source", "author")
		sample("comet_signature_refusals_total", float64(s.DroppedFromRemotes), "source", "remote")
	}
	if r.LastEvent != nil {
		one("comet_last_event_time_seconds", "gauge", "When the last event was accepted, in seconds since the Unix epoch.", unixSeconds(r.LastEvent.Time))
	}

	family("comet_listener_up", "gauge", "1 while a listener accepts connections, 0 while its accepts fail.")
	for _, l := range r.Listeners {
		sample("comet_listener_up", b2f(l.Err == ""), "role", l.Role, "addr", l.Addr)
	}

	var queued, filters int
	for _, s := range r.Subscribers {
		queued += s.Queued
		filters += s.Filters
	}
	one("comet_subscribers", "gauge", "Subscribers connected.", float64(len(r.Subscribers)))
	one("comet_subscriber_queued_messages", "gauge", "Messages waiting to be written, all subscribers together.", float64(queued))
	one("comet_subscriber_filters", "gauge", "Filters installed, all subscribers together.", float64(filters))

	if len(r.Remotes) > 0 {
		family("comet_remote_up", "gauge", "1 while subscribed (authenticated) to a remote broker.")
		for _, x := range r.Remotes {
			sample("comet_remote_up", b2f(x.State == vtp.RemoteAuthenticated), "remote", x.Addr)
		}
		family("comet_remote_events_received_total", "counter", "Event messages received from a remote broker.")
		for _, x := range r.Remotes {
			sample("comet_remote_events_received_total", float64(x.Events), "remote", x.Addr)
		}
		family("comet_remote_reconnects_total", "counter", "Connection attempts to a remote broker after the first.")
		for _, x := range r.Remotes {
			sample("comet_remote_reconnects_total", float64(x.Reconnects), "remote", x.Addr)
		}
		family("comet_remote_last_message_time_seconds", "gauge", "When a remote broker last sent a message, in seconds since the Unix epoch; 0 if never.")
		for _, x := range r.Remotes {
			sample("comet_remote_last_message_time_seconds", unixSeconds(x.LastMessage), "remote", x.Addr)
		}
	}

	if len(r.Handlers) > 0 {
		family("comet_handler_queued", "gauge", "Events waiting in a handler's queue.")
		for _, h := range r.Handlers {
			sample("comet_handler_queued", float64(h.Queued), "handler", h.Name)
		}
		family("comet_handler_events_total", "counter", "Events a handler finished, by outcome.")
		for _, h := range r.Handlers {
			sample("comet_handler_events_total", float64(h.Done), "handler", h.Name, "outcome", "done")
			sample("comet_handler_events_total", float64(h.Failed), "handler", h.Name, "outcome", "failed")
			sample("comet_handler_events_total", float64(h.Skipped), "handler", h.Name, "outcome", "skipped")
		}
	}

	one("comet_seen_keys", "gauge", "Events the seen-events store remembers.", float64(r.Store.Keys))
	one("comet_seen_file_bytes", "gauge", "Size of the seen-events store's log file.", float64(r.Store.FileBytes))
	one("comet_seen_writable", "gauge", "1 while the seen-events store writes, 0 while it cannot.", b2f(r.Store.Error == ""))
	if r.Store.Compacted != nil {
		one("comet_seen_last_compaction_time_seconds", "gauge", "When the seen-events store's log was last compacted, in seconds since the Unix epoch.", unixSeconds(*r.Store.Compacted))
	}
	writeKafkaMetrics(r, family, sample)
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// unixSeconds is t in seconds since the Unix epoch; 0 for the zero time.
func unixSeconds(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
