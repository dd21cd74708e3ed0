package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"comet/kafka"
	"comet/vtp"
)

// This file is the Kafka source's wiring on the command line: the
// kafka:// URL of --subscribe and of "comet topics", the checks between
// sources, reading each source's credentials file at start, and the
// kafka.Config each source runs with.

// kafkaPort is the port of a kafka:// URL that names none.
const kafkaPort = 9092

// maxTopicLen is the longest topic name Kafka allows.
const maxTopicLen = 249

// kafkaURL is one parsed kafka:// URL.
type kafkaURL struct {
	name   string // the URL as given, without its options: the source's name
	host   string // as given, without brackets
	port   int
	topics []string
	auth   string // the credentials file; "" for none
	tlsOff bool
	from   kafka.From

	creds *kafka.Creds // read from auth by load
}

// addr is the bootstrap broker's HOST:PORT.
func (u *kafkaURL) addr() string { return net.JoinHostPort(u.host, strconv.Itoa(u.port)) }

// cluster identifies the cluster the URL names, whatever the case of its
// host or the spelling of its address: two sources with the same cluster
// would keep their offsets in the same file.
func (u *kafkaURL) cluster() string {
	return canonicalHost(u.host) + ":" + strconv.Itoa(u.port)
}

// canonicalHost is host in lower case without a trailing dot, or an IP
// address in its canonical form.
func canonicalHost(host string) string {
	if a, err := netip.ParseAddr(host); err == nil {
		return a.Unmap().String()
	}
	return strings.TrimSuffix(strings.ToLower(host), ".")
}

// offsetsFile is where the source keeps its offsets, under dir: one file
// per cluster, named after it. The host is escaped so that distinct
// hosts give distinct names (every byte but [a-z0-9.-] becomes _XX), and
// a host too long for a file name is cut and followed by a hash of it.
func (u *kafkaURL) offsetsFile(dir string) string {
	h := canonicalHost(u.host)
	var b strings.Builder
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	name := b.String()
	if len(name) > 160 {
		sum := sha256.Sum256([]byte(h))
		name = name[:100] + "~" + hex.EncodeToString(sum[:8])
	}
	return filepath.Join(dir, fmt.Sprintf("kafka-%s-%d.offsets", name, u.port))
}

// parseKafkaURL reads kafka://HOST[:PORT]/TOPIC[,TOPIC...][?OPTION=VALUE&...],
// the form of --subscribe. With topics false it reads the form of "comet
// topics", which names no topic and takes no from=. The error says in one
// line what is wrong, and never repeats an option's value, which names a
// file, in full: only the option.
func parseKafkaURL(s string, topics bool) (*kafkaURL, error) {
	want := "want kafka://HOST[:PORT]/TOPIC[,TOPIC...][?auth=FILE&tls=off&from=WHEN]"
	if !topics {
		want = "want kafka://HOST[:PORT][?auth=FILE&tls=off]"
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%s: %s", fmt.Sprintf(format, a...), want)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !strings.EqualFold(scheme, "kafka") {
		return nil, bad("not a kafka:// URL")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, bad("a space or control character in the URL")
	}
	if strings.Contains(rest, "#") {
		return nil, bad("a fragment (#...) in the URL")
	}
	rest, query, hasQuery := strings.Cut(rest, "?")
	authority, path, _ := strings.Cut(rest, "/")
	if strings.Contains(authority, "@") {
		return nil, bad("a user in the URL; give credentials in an auth= file")
	}
	u := &kafkaURL{name: s[:len(scheme)+3+len(rest)], port: kafkaPort}
	host, port, err := splitKafkaAuthority(authority)
	if err != nil {
		return nil, bad("%v", err)
	}
	u.host = host
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
			return nil, bad("port %q is not from 1 to 65535", port)
		}
		u.port = n
	}

	if topics {
		if path == "" {
			return nil, bad("no topic")
		}
		seen := map[string]bool{}
		for _, t := range strings.Split(path, ",") {
			if err := checkTopic(t); err != nil {
				return nil, bad("%v", err)
			}
			if seen[t] {
				return nil, bad("topic %s given twice", t)
			}
			seen[t] = true
			u.topics = append(u.topics, t)
		}
		// A topic a wildcard already covers would be taken twice.
		for _, t := range u.topics {
			for _, w := range u.topics {
				if p, ok := strings.CutSuffix(w, "*"); ok && w != t && strings.HasPrefix(t, p) {
					return nil, bad("topic %s is already covered by %s", t, w)
				}
			}
		}
	} else if path != "" {
		return nil, bad("a topic in the URL: comet topics lists them all")
	}

	if hasQuery {
		given := map[string]bool{}
		for _, kv := range strings.Split(query, "&") {
			k, raw, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, bad("option %q is not NAME=VALUE", clip(kv, 32))
			}
			if given[k] {
				return nil, bad("option %s given twice", k)
			}
			given[k] = true
			v, err := url.PathUnescape(raw)
			if err != nil || v == "" || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r == 0x7f }) {
				return nil, bad("option %s has an empty or malformed value", k)
			}
			switch k {
			case "auth":
				u.auth = v
			case "tls":
				if v != "off" {
					return nil, bad("tls=%s: the only value is off (TLS is on by default)", clip(v, 32))
				}
				u.tlsOff = true
			case "from":
				if !topics {
					return nil, bad("option from= has no meaning here")
				}
				f, err := kafka.ParseFrom(v)
				if err != nil {
					return nil, bad("from=%s: want end, start or an RFC 3339 time", clip(v, 40))
				}
				u.from = f
			default:
				return nil, bad("unknown option %q", clip(k, 32))
			}
		}
	}
	if u.tlsOff && !isLoopbackHost(u.host) {
		return nil, fmt.Errorf("tls=off is allowed only for a loopback host (127.0.0.0/8, ::1, localhost), not %s: credentials and events would cross the network in clear", u.host)
	}
	return u, nil
}

// splitKafkaAuthority splits HOST[:PORT], HOST being a name, an IPv4
// address or an IPv6 address in brackets, and checks the host.
func splitKafkaAuthority(a string) (host, port string, err error) {
	if strings.HasPrefix(a, "[") {
		end := strings.IndexByte(a, ']')
		if end < 0 {
			return "", "", fmt.Errorf("%q: missing ]", clip(a, 64))
		}
		host, rest := a[1:end], a[end+1:]
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() || addr.Zone() != "" {
			return "", "", fmt.Errorf("%q is not an IPv6 address", clip(host, 64))
		}
		if rest != "" {
			p, ok := strings.CutPrefix(rest, ":")
			if !ok || p == "" {
				return "", "", fmt.Errorf("%q: want [ADDR]:PORT", clip(a, 64))
			}
			port = p
		}
		return host, port, nil
	}
	host = a
	if i := strings.IndexByte(a, ':'); i >= 0 {
		host, port = a[:i], a[i+1:]
		if strings.Contains(port, ":") {
			return "", "", fmt.Errorf("%q: an IPv6 address goes in brackets, [ADDR]:PORT", clip(a, 64))
		}
		if port == "" {
			return "", "", fmt.Errorf("%q: empty port", clip(a, 64))
		}
	}
	if err := checkHostName(host); err != nil {
		return "", "", err
	}
	return host, port, nil
}

// checkHostName accepts a DNS name or an IPv4 address: labels of letters,
// digits, '-' and '_', 1 to 63 bytes each, 253 bytes in all, and an
// optional trailing dot.
func checkHostName(h string) error {
	if h == "" {
		return fmt.Errorf("no host")
	}
	name := strings.TrimSuffix(h, ".")
	if len(name) == 0 || len(name) > 253 {
		return fmt.Errorf("host %q is not a host name", clip(h, 64))
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || strings.Trim(label, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
			return fmt.Errorf("host %q is not a host name", clip(h, 64))
		}
	}
	return nil
}

// checkTopic accepts a Kafka topic name (1 to 249 of [a-zA-Z0-9._-], not
// "." or "..") or such a prefix followed by one '*', which stands for
// every topic whose name starts with the prefix.
func checkTopic(t string) error {
	name, wild := strings.CutSuffix(t, "*")
	switch {
	case t == "":
		return fmt.Errorf("an empty topic")
	case name == "":
		return fmt.Errorf("topic * alone would take every topic, the cluster's own among them; give a prefix")
	case len(name) > maxTopicLen:
		return fmt.Errorf("topic %s... is over %d characters", name[:32], maxTopicLen)
	case strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "":
		return fmt.Errorf("topic %q: a topic has only letters, digits, '.', '_' and '-', and may end in one '*'", clip(t, 64))
	case !wild && (name == "." || name == ".."):
		return fmt.Errorf("topic %q is not a valid topic name", t)
	}
	return nil
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// clip shortens s to n bytes for an error message.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// checkKafka enforces the rules between Kafka sources: one source per
// cluster, because its offsets file is per cluster.
func (c *config) checkKafka() error {
	seen := map[string]string{}
	for _, u := range c.kafka {
		if prev, ok := seen[u.cluster()]; ok {
			return &usageError{fmt.Sprintf("--subscribe=%s and --subscribe=%s name the same Kafka cluster: list all its topics in one --subscribe", prev, u.name)}
		}
		seen[u.cluster()] = u.name
	}
	return nil
}

// loadKafka reads each Kafka source's credentials file, and --tls-ca
// when there is a Kafka source. An error is one line naming the file and
// never shows a secret.
func (c *config) loadKafka() error {
	if len(c.kafka) == 0 {
		return nil
	}
	for _, u := range c.kafka {
		if u.auth == "" {
			continue
		}
		creds, err := kafka.LoadCreds(u.auth, u.host)
		if err != nil {
			return &usageError{fmt.Sprintf("--subscribe=%s: %v", u.name, err)}
		}
		u.creds = creds
	}
	conf, roots, err := kafkaTLS(&c.tls)
	if err != nil {
		return &usageError{err.Error()}
	}
	c.kafkaTLS, c.kafkaRoots = conf, roots
	return nil
}

// kafkaTLS is the TLS configuration of Kafka connections and token
// requests: TLS 1.2 or later, the servers verified against --tls-ca (nil
// roots: the system's), --tls-cert offered if set. kafka.Config's
// ServerName is set per broker by the consumer.
func kafkaTLS(t *tlsFlags) (*tls.Config, *x509.CertPool, error) {
	var roots *x509.CertPool
	if t.ca != "" {
		pool, err := vtp.LoadCAs(t.ca)
		if err != nil {
			return nil, nil, fmt.Errorf("--tls-ca: %v", err)
		}
		roots = pool
	}
	return vtp.ClientConfig(t.certs, roots), roots, nil
}

// kafkaConfig is the kafka.Config of source u, without Submit and Log.
func (c *config) kafkaConfig(u *kafkaURL, eventDB string) kafka.Config {
	kc := kafka.Config{
		Name:        u.name,
		Addr:        u.addr(),
		Topics:      u.topics,
		Creds:       u.creds,
		TokenRoots:  c.kafkaRoots,
		From:        u.from,
		MaxRecord:   c.maxFrame,
		BackoffMax:  c.remoteBackoffMax,
		OffsetsFile: u.offsetsFile(eventDB),
	}
	if !u.tlsOff {
		kc.TLS = c.kafkaTLS
	}
	return kc
}

// kafkaSubmit adapts the broker's intake to a Kafka source: the outcome
// of one submission becomes the verdict that decides whether the source
// moves past the record. An outcome it does not know is Failed, so that
// the record is fetched again rather than skipped.
func kafkaSubmit(submit func([]byte, *slog.Logger) (vtp.Outcome, string)) func([]byte, *slog.Logger) (kafka.Verdict, string) {
	return func(value []byte, log *slog.Logger) (kafka.Verdict, string) {
		o, reason := submit(value, log)
		switch o {
		case vtp.OutcomeAccepted:
			return kafka.Accepted, reason
		case vtp.OutcomeDuplicate:
			return kafka.Duplicate, reason
		case vtp.OutcomeRefused:
			return kafka.Refused, reason
		case vtp.OutcomeFailed:
			return kafka.Failed, reason
		}
		return kafka.Failed, fmt.Sprintf("unknown outcome %d from the broker", o)
	}
}

// newKafkaSources makes the Kafka sources of the command line, each
// submitting through its own intake of broker and keeping its offsets
// under dir. They are not running yet.
func newKafkaSources(cfg *config, broker *vtp.Broker, dir string, log *slog.Logger) ([]*kafka.Source, error) {
	var sources []*kafka.Source
	for _, u := range cfg.kafka {
		kc := cfg.kafkaConfig(u, dir)
		kc.Submit = kafkaSubmit(broker.NewIntake(u.name).Submit)
		kc.Log = log
		src, err := kafka.New(kc)
		if err != nil {
			return nil, fmt.Errorf("--subscribe=%s: %w", u.name, err)
		}
		auth := "none"
		if u.creds != nil {
			auth = u.creds.Mechanism
		}
		log.Info("Kafka source", "kafka", u.name, "topics", strings.Join(u.topics, ","), "tls", kc.TLS != nil,
			"auth", auth, "offsets", kc.OffsetsFile)
		sources = append(sources, src)
	}
	return sources, nil
}

// kafkaStatus returns the status of sources, for the status pages; nil
// without any.
func kafkaStatus(sources []*kafka.Source) func() []kafka.Status {
	if len(sources) == 0 {
		return nil
	}
	return func() []kafka.Status {
		st := make([]kafka.Status, len(sources))
		for i, s := range sources {
			st[i] = s.Status()
		}
		return st
	}
}

// waitGroup waits for wg until ctx is done, and reports whether wg was
// done first.
func waitGroup(ctx context.Context, wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}
