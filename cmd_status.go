package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"comet/kafka"
	"comet/status"
	"comet/voevent"
)

// defaultStatus is where "comet status" looks when given nothing.
const defaultStatus = "tcp:8097"

var statusCmd = &command{
	name:  "status",
	args:  "[tcp:PORT[:interface=ADDR] | unix:PATH | http://HOST:PORT]",
	short: "summarise a running broker's --status pages",
	long: `Asks a broker's --status server (default tcp:8097) for /status and /healthz
and prints a summary a person can take in at a glance.
Exit status: 0 if the broker is healthy, 1 if not, 2 if it cannot be asked.
`,
	flags: func(*flagList) func([]string, stdio) int { return runStatus },
}

// runStatus is "comet status [ENDPOINT|URL]".
func runStatus(args []string, std stdio) int {
	stdout, stderr := std.out, std.err
	if len(args) > 1 {
		return std.fail(2, std.usage)
	}
	where := defaultStatus
	if len(args) == 1 {
		where = args[0]
	}
	base, client, err := statusClient(where)
	if err != nil {
		fmt.Fprintln(stderr, "comet status:", err)
		return 2
	}
	var r status.Report
	if err := getJSON(client, base+"/status", &r); err != nil {
		fmt.Fprintln(stderr, "comet status:", err)
		return 2
	}
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		fmt.Fprintln(stderr, "comet status:", err)
		return 2
	}
	health, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	healthy := resp.StatusCode == http.StatusOK
	if !healthy && resp.StatusCode != http.StatusServiceUnavailable {
		fmt.Fprintf(stderr, "comet status: %s/healthz answered %s\n", base, resp.Status)
		return 2
	}
	printSummary(stdout, &r, healthy, strings.TrimSpace(string(health)))
	if !healthy {
		return 1
	}
	return 0
}

// statusClient turns the argument into a base URL and a client that
// reaches it, over a Unix socket for unix:PATH.
func statusClient(where string) (string, *http.Client, error) {
	client := &http.Client{Timeout: 5 * time.Second}
	if strings.HasPrefix(where, "http://") || strings.HasPrefix(where, "https://") {
		return strings.TrimRight(where, "/"), client, nil
	}
	ep, err := parseStatusEndpoint(where)
	if err != nil {
		return "", nil, err
	}
	if ep.network == "unix" {
		client.Transport = &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", ep.address)
		}}
		return "http://comet", client, nil
	}
	host, port, _ := net.SplitHostPort(ep.address)
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1" // listening everywhere: ask over loopback
	}
	return "http://" + net.JoinHostPort(host, port), client, nil
}

func getJSON(client *http.Client, url string, v any) error {
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", url, resp.Status)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(v); err != nil {
		return fmt.Errorf("%s: not a comet status report: %w", url, err)
	}
	return nil
}

// printSummary writes a few lines a person can take in at a glance.
func printSummary(w io.Writer, r *status.Report, healthy bool, health string) {
	verdict := "healthy"
	if !healthy {
		verdict = "UNHEALTHY"
	}
	fmt.Fprintf(w, "comet %s %s: %s\n", clean(r.Version), clean(r.LocalIVO), verdict)
	if !healthy {
		for _, line := range strings.Split(health, "\n") {
			fmt.Fprintf(w, "  problem: %s\n", clean(line))
		}
	}
	fmt.Fprintf(w, "started %s (up %s)\n", r.Start.UTC().Format(time.RFC3339), r.Now.Sub(r.Start).Round(time.Second))
	for _, l := range r.Listeners {
		state := "ok"
		if l.Err != "" {
			state = "FAILING: " + clean(l.Err)
		}
		fmt.Fprintf(w, "listener %s %s: %s\n", clean(l.Role), clean(l.Addr), state)
	}
	c := r.Counters
	fmt.Fprintf(w, "events: %d from authors, %d from remotes, %d duplicates, %d refused\n",
		c.AcceptedFromAuthors, c.AcceptedFromRemotes, c.Duplicates,
		c.RefusedNotWellFormed+c.RefusedInvalid+c.RefusedStorageFailure+c.RefusedOversized+c.RefusedIdentity)
	queued := 0
	for _, s := range r.Subscribers {
		queued += s.Queued
	}
	fmt.Fprintf(w, "subscribers: %d (%d messages queued); %d deliveries, %d dropped\n",
		len(r.Subscribers), queued, c.Deliveries, c.DeliveriesDropped)
	for _, x := range r.Remotes {
		fmt.Fprintf(w, "remote %s: %s since %s; %d events, %d reconnects\n",
			clean(x.Addr), clean(x.State), x.Since.UTC().Format(time.RFC3339), x.Events, x.Reconnects)
	}
	for _, k := range r.Kafka {
		printKafka(w, &k)
	}
	for _, h := range r.Handlers {
		fmt.Fprintf(w, "handler %s: %d done, %d failed, %d skipped, %d queued\n", clean(h.Name), h.Done, h.Failed, h.Skipped, h.Queued)
	}
	fmt.Fprintf(w, "seen store: %d events, %d bytes\n", r.Store.Keys, r.Store.FileBytes)
	if e := r.LastEvent; e != nil {
		fmt.Fprintf(w, "last event: %s at %s from %s\n", clean(e.IVORN), e.Time.UTC().Format(time.RFC3339), clean(e.Source))
	}
}

// clean clips a value from the broker and makes control characters
// visible, so that no value can rewrite the terminal.
func clean(s string) string {
	s = voevent.Clip(s)
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		q := fmt.Sprintf("%q", s)
		return q[1 : len(q)-1]
	}
	return s
}

// printKafka writes a Kafka source's lines: its state and records, its
// token's expiry, and a line per topic-partition.
func printKafka(w io.Writer, k *kafka.Status) {
	state := clean(k.State)
	if !k.Connected {
		state += ", not connected"
	}
	fmt.Fprintf(w, "kafka %s (cluster %s): %s; topics %s\n", clean(k.Name), clean(k.Cluster), state, clean(strings.Join(k.Topics, ",")))
	var counts []string
	for _, v := range kafka.Verdicts {
		counts = append(counts, fmt.Sprintf("%d %s", k.Records[v.String()], v))
	}
	fmt.Fprintf(w, "  records: %s; %d batch errors; last fetch %s\n", strings.Join(counts, ", "), k.BatchErrors, whenOrNever(k.LastFetch))
	if k.TokenExpires != nil {
		fmt.Fprintf(w, "  token expires %s\n", whenOrNever(*k.TokenExpires))
	}
	if k.LastError != "" {
		fmt.Fprintf(w, "  last error: %s\n", clean(k.LastError))
	}
	for _, p := range k.Partitions {
		last := "never"
		if p.LastRecord != nil {
			last = whenOrNever(*p.LastRecord)
		}
		lag := "?"
		if p.Next >= 0 && p.HighWatermark >= 0 {
			lag = strconv.FormatInt(p.Lag, 10)
		}
		fmt.Fprintf(w, "  %s[%d]: next %s, high watermark %s, lag %s, last record %s\n",
			clean(p.Topic), p.Partition, offsetOrUnknown(p.Next), offsetOrUnknown(p.HighWatermark), lag, last)
	}
}

func whenOrNever(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func offsetOrUnknown(o int64) string {
	if o < 0 {
		return "?"
	}
	return strconv.FormatInt(o, 10)
}
