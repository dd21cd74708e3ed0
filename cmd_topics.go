package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"comet/kafka"
)

// topicsTimeout bounds "comet topics" as a whole: connecting, TLS, a
// token, authentication and the listing.
const topicsTimeout = time.Minute

var topicsCmd = &command{
	name:  "topics",
	args:  "[--tls-ca=FILE] [--tls-cert=FILE --tls-key=FILE] kafka://HOST[:PORT][?auth=FILE&tls=off]",
	short: "list the topics a Kafka cluster lets a credential read",
	long: `Connects to a Kafka cluster as a --subscribe=kafka://... source would, with
the same credentials file and TLS, and lists the topics the credential can
see, sorted, one a line: its name and its number of partitions. Use it to
choose the topics of a --subscribe line (comet help kafka).
Exit status: 0, 1 if the cluster cannot be reached or refuses the
credential (one line says why), 2 for a bad command line or credentials file.
`,
	flags: func(fl *flagList) func([]string, stdio) int {
		var t tlsFlags
		fl.String(&t.ca, "tls-ca", "FILE", "PEM CAs the cluster (and the token endpoint) are verified against [default: the system's]")
		fl.String(&t.cert, "tls-cert", "FILE", "PEM client certificate to offer, with --tls-key")
		fl.String(&t.key, "tls-key", "FILE", "its PEM private key")
		return func(args []string, std stdio) int { return runTopics(args, &t, std) }
	},
}

// runTopics is "comet topics [flags] kafka://HOST[:PORT][?...]".
func runTopics(args []string, t *tlsFlags, std stdio) int {
	if len(args) != 1 {
		return std.fail(2, std.usage)
	}
	u, err := parseKafkaURL(args[0], false)
	if err != nil {
		return std.fail(2, err)
	}
	cfg := &config{kafka: []*kafkaURL{u}, tls: *t}
	if err := cfg.tls.load(cfg); err != nil {
		return std.fail(2, err)
	}
	if err := cfg.loadKafka(); err != nil {
		return std.fail(2, err)
	}
	kc := cfg.kafkaConfig(u, "")
	kc.OffsetsFile = ""
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, topicsTimeout)
	defer cancel()
	topics, err := kafka.ListTopics(ctx, kc)
	if err != nil {
		return std.fail(1, err)
	}
	slices.SortFunc(topics, func(a, b kafka.TopicInfo) int { return strings.Compare(a.Name, b.Name) })
	for _, ti := range topics {
		fmt.Fprintf(std.out, "%s %d\n", clean(ti.Name), ti.Partitions)
	}
	return 0
}
