package main

import (
	"bytes"
	"crypto/tls"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"comet/kafka"
	"comet/vtp"
)

// TestKafkaURLForms: the forms --subscribe=kafka://... takes, and what
// each becomes.
func TestKafkaURLForms(t *testing.T) {
	at := time.Date(2026, 4, 6, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in     string
		name   string
		addr   string
		topics []string
		auth   string
		tlsOff bool
		from   kafka.From
	}{
		{"kafka://kafka.gcn.nasa.gov/gcn.classic.voevent.*?auth=/etc/comet/gcn.auth", "kafka://kafka.gcn.nasa.gov/gcn.classic.voevent.*",
			"kafka.gcn.nasa.gov:9092", []string{"gcn.classic.voevent.*"}, "/etc/comet/gcn.auth", false, kafka.From{}},
		{"kafka://kafka.scimma.org:9093/a,b_c,d-e.f?from=start", "kafka://kafka.scimma.org:9093/a,b_c,d-e.f",
			"kafka.scimma.org:9093", []string{"a", "b_c", "d-e.f"}, "", false, kafka.From{Start: true}},
		{"kafka://[::1]:19092/t?tls=off&from=2026-04-06T00:00:00Z", "kafka://[::1]:19092/t",
			"[::1]:19092", []string{"t"}, "", true, kafka.From{Time: at}},
		{"kafka://[2001:db8::1]/t", "kafka://[2001:db8::1]/t", "[2001:db8::1]:9092", []string{"t"}, "", false, kafka.From{}},
		{"kafka://127.0.0.5:1/t?tls=off&from=end", "kafka://127.0.0.5:1/t", "127.0.0.5:1", []string{"t"}, "", true, kafka.From{}},
		{"KAFKA://LocalHost./t?tls=off", "KAFKA://LocalHost./t", "LocalHost.:9092", []string{"t"}, "", true, kafka.From{}},
		{"kafka://h/t?auth=/a%26b%3Fc+d", "kafka://h/t", "h:9092", []string{"t"}, "/a&b?c+d", false, kafka.From{}},
		{"kafka://h/" + strings.Repeat("x", 249), "kafka://h/" + strings.Repeat("x", 249), "h:9092", []string{strings.Repeat("x", 249)}, "", false, kafka.From{}},
		{"kafka://h/" + strings.Repeat("x", 249) + "*", "kafka://h/" + strings.Repeat("x", 249) + "*", "h:9092", []string{strings.Repeat("x", 249) + "*"}, "", false, kafka.From{}},
		{"kafka://h/.*,..x", "kafka://h/.*,..x", "h:9092", nil, "", false, kafka.From{}}, // refused below: ..x is under .*
	}
	for _, tt := range tests[:len(tests)-1] {
		u, err := parseKafkaURL(tt.in, true)
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if u.name != tt.name || u.addr() != tt.addr || !reflect.DeepEqual(u.topics, tt.topics) || u.auth != tt.auth || u.tlsOff != tt.tlsOff || !u.from.Time.Equal(tt.from.Time) || u.from.Start != tt.from.Start {
			t.Errorf("%q: got name %q addr %q topics %q auth %q tls=off %v from %+v", tt.in, u.name, u.addr(), u.topics, u.auth, u.tlsOff, u.from)
		}
	}
	if _, err := parseKafkaURL("kafka://h:9000?auth=/f&tls=off", false); err == nil {
		t.Error("comet topics' form took tls=off for a host that is not loopback")
	}
	if u, err := parseKafkaURL("kafka://127.0.0.1:9000?auth=/f&tls=off", false); err != nil || u.auth != "/f" || !u.tlsOff || u.topics != nil {
		t.Errorf("comet topics' form: %+v, %v", u, err)
	}
}

// TestKafkaURLRefused: every malformed or hostile URL is refused with one
// line, and none is taken in part.
func TestKafkaURLRefused(t *testing.T) {
	tests := []struct{ in, want string }{
		{"kafka:/h/t", "not a kafka:// URL"},
		{"kafkax://h/t", "not a kafka:// URL"},
		{"kafka://", "no host"},
		{"kafka:///t", "no host"},
		{"kafka://h", "no topic"},
		{"kafka://h/", "no topic"},
		{"kafka://h/a,,b", "an empty topic"},
		{"kafka://h/a,", "an empty topic"},
		{"kafka://h/a,a", "given twice"},
		{"kafka://h/gcn.*,gcn.x", "already covered by gcn.*"},
		{"kafka://h/gcn.*,gcn.*", "given twice"},
		{"kafka://h/*", "give a prefix"},
		{"kafka://h/a**", "may end in one '*'"},
		{"kafka://h/a*b", "may end in one '*'"},
		{"kafka://h/a/b", "may end in one '*'"},
		{"kafka://h/a%2Fb", "may end in one '*'"},
		{"kafka://h/.", "not a valid topic name"},
		{"kafka://h/..", "not a valid topic name"},
		{"kafka://h/" + strings.Repeat("x", 250), "over 249"},
		{"kafka://h/" + strings.Repeat("x", 250) + "*", "over 249"},
		{"kafka://h/t\u00e9", "may end in one '*'"},
		{"kafka://h/t\x00", "control character"},
		{"kafka://h/t\n--remote=evil", "control character"},
		{"kafka://h /t", "space"},
		{"kafka://user:secret@h/t", "auth= file"},
		{"kafka://user@h/t", "auth= file"},
		{"kafka://h/t#frag", "fragment"},
		{"kafka://h:0/t", "port"},
		{"kafka://h:65536/t", "port"},
		{"kafka://h:+9092/t", "port"},
		{"kafka://h:0x10/t", "port"},
		{"kafka://h:99999999999999999999/t", "port"},
		{"kafka://h:/t", "empty port"},
		{"kafka://::1/t", "brackets"},
		{"kafka://[::1/t", "missing ]"},
		{"kafka://[::1]x/t", "[ADDR]:PORT"},
		{"kafka://[::1]:/t", "[ADDR]:PORT"},
		{"kafka://[127.0.0.1]/t", "not an IPv6 address"},
		{"kafka://[fe80::1%25eth0]/t", "not an IPv6 address"},
		{"kafka://[]/t", "not an IPv6 address"},
		{"kafka://h..x/t", "not a host name"},
		{"kafka://-/t?x", "not NAME=VALUE"},
		{"kafka://h$/t", "not a host name"},
		{"kafka://h%41/t", "not a host name"},
		{"kafka://" + strings.Repeat("a", 64) + ".org/t", "not a host name"},
		{"kafka://" + strings.Repeat("a.", 127) + "ab/t", "not a host name"},
		{"kafka://h/t?", "not NAME=VALUE"},
		{"kafka://h/t?auth", "not NAME=VALUE"},
		{"kafka://h/t?=x", "not NAME=VALUE"},
		{"kafka://h/t?auth=", "empty or malformed"},
		{"kafka://h/t?auth=%zz", "empty or malformed"},
		{"kafka://h/t?auth=a%00b", "empty or malformed"},
		{"kafka://h/t?auth=a%0Ab", "empty or malformed"},
		{"kafka://h/t?auth=/a&auth=/b", "auth given twice"},
		{"kafka://127.0.0.1/t?tls=off&tls=off", "tls given twice"},
		{"kafka://h/t?tls=on", "the only value is off"},
		{"kafka://h/t?tls=OFF", "the only value is off"},
		{"kafka://h/t?from=yesterday", "RFC 3339"},
		{"kafka://h/t?from=start&from=end", "from given twice"},
		{"kafka://h/t?group=comet", `unknown option "group"`},
		{"kafka://h/t?Auth=/f", `unknown option "Auth"`},
		{"kafka://h?from=start", "no topic"},
		{"kafka://kafka.gcn.nasa.gov/t?tls=off", "only for a loopback host"},
		{"kafka://127.0.0.1.example.org/t?tls=off", "only for a loopback host"},
		{"kafka://localhost.example.org/t?tls=off", "only for a loopback host"},
		{"kafka://10.0.0.1/t?tls=off", "only for a loopback host"},
		{"kafka://[::2]/t?tls=off", "only for a loopback host"},
		{"kafka://0.0.0.0/t?tls=off", "only for a loopback host"},
	}
	for _, tt := range tests {
		u, err := parseKafkaURL(tt.in, true)
		if err == nil {
			t.Errorf("%q: taken as %+v", tt.in, u)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tt.want) || strings.ContainsAny(msg, "\n\r") {
			t.Errorf("%q: %q, want one line containing %q", tt.in, msg, tt.want)
		}
	}
	for _, in := range []string{"kafka://h/t", "kafka://127.0.0.1/t?from=start", "kafka://127.0.0.1/?from=start"} {
		if _, err := parseKafkaURL(in, false); err == nil {
			t.Errorf("comet topics' form took %q", in)
		}
	}
}

// TestSubscribeKafkaCommandLine: --subscribe=kafka://... is a source of
// its own on the whole command line: it is enough to run (no "nothing to
// do"), tls=off on a host that is not loopback is refused with one line
// and exit status 2, and so is a second source on the same cluster,
// however its address is spelled.
func TestSubscribeKafkaCommandLine(t *testing.T) {
	cfg, err := parseFlags([]string{"--subscribe=kafka://h/a", "--subscribe=tcp:x:1"})
	if err != nil || len(cfg.kafka) != 1 || !reflect.DeepEqual(cfg.remotes, []string{"x:1"}) {
		t.Fatalf("parsed %+v, %v", cfg, err)
	}
	if err := cfg.check(); err != nil {
		t.Errorf("a Kafka source alone: %v", err)
	}
	cfg, err = parseFlags([]string{"--subscribe=kafka://h/a"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.check(); err != nil {
		t.Errorf("a Kafka source is not counted as something to do: %v", err)
	}

	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--subscribe=kafka://kafka.example.org/t?tls=off"}, []string{"--subscribe", "tls=off", "loopback", "kafka.example.org"}},
		{[]string{"--subscribe=kafka://h/a", "--subscribe=kafka://H.:9092/b"}, []string{"same Kafka cluster", "list all its topics in one --subscribe"}},
		{[]string{"--subscribe=kafka://[::1]/a?tls=off", "--subscribe=kafka://[0:0::1]:9092/b?tls=off"}, []string{"same Kafka cluster"}},
		{[]string{"--subscribe=kafka://h/a?bogus=1"}, []string{"--subscribe", `unknown option "bogus"`}},
		{[]string{"--subscribe=kafka:h/a"}, []string{"--subscribe", "not a kafka:// URL"}},
		{[]string{"--subscribe=kafka://h/a?auth=/nonexistent/comet.auth"}, []string{"--subscribe=kafka://h/a", "/nonexistent/comet.auth"}},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		// --eventdb: were a check missing, the broker would start there.
		code := run(append(tt.args, "--eventdb="+t.TempDir()), &stdout, &stderr)
		msg := stderr.String()
		if code != 2 || strings.Count(msg, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 and one line", tt.args, code, msg)
			continue
		}
		for _, w := range tt.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%q: %q does not say %q", tt.args, msg, w)
			}
		}
	}
	// Two clusters are two sources.
	cfg, err = parseFlags([]string{"--subscribe=kafka://h/a", "--subscribe=kafka://h:9093/a", "--subscribe=kafka://g/a"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.check(); err != nil {
		t.Errorf("three clusters refused: %v", err)
	}
}

// TestKafkaOffsetsFile: one offsets file per cluster, under --eventdb,
// named after the cluster in any spelling of its address, and distinct
// clusters never share one.
func TestKafkaOffsetsFile(t *testing.T) {
	file := func(s string) string {
		t.Helper()
		u, err := parseKafkaURL(s, true)
		if err != nil {
			t.Fatal(err)
		}
		return u.offsetsFile("/var/lib/comet")
	}
	if got := file("kafka://Kafka.GCN.nasa.gov./t"); got != "/var/lib/comet/kafka-kafka.gcn.nasa.gov-9092.offsets" {
		t.Errorf("GCN: %s", got)
	}
	if a, b := file("kafka://[::1]/t?tls=off"), file("kafka://[0::1]:9092/t?tls=off"); a != b || filepath.Dir(a) != "/var/lib/comet" || strings.Contains(filepath.Base(a), ":") {
		t.Errorf("::1 gives %s and %s", a, b)
	}
	seen := map[string]string{}
	long := strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "."
	for _, s := range []string{"kafka://h_3a/t", "kafka://h:1/t", "kafka://h/t", "kafka://[::1]/t", "kafka://__1/t",
		"kafka://_3a_3a1/t", "kafka://1.2.3.4/t", "kafka://[::102:304]/t",
		"kafka://" + long + "x/t", "kafka://" + long + "y/t"} {
		f := file(s)
		if prev, ok := seen[f]; ok {
			t.Errorf("%s and %s share %s", prev, s, f)
		}
		seen[f] = s
		if base := filepath.Base(f); len(base) > 255 || strings.ContainsAny(base, "/:\\") || filepath.Dir(f) != "/var/lib/comet" {
			t.Errorf("%s: file %q", s, f)
		}
	}
}

// TestKafkaConfig: what each source runs with, from the command line.
func TestKafkaConfig(t *testing.T) {
	dir := t.TempDir()
	cfg, err := parseFlags([]string{"--subscribe=kafka://kafka.example.org/a,b*?from=start", "--subscribe=kafka://127.0.0.1:19092/c?tls=off",
		"--max-frame-size=4096", "--remote-backoff-max=5m"})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.check(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.load(); err != nil {
		t.Fatal(err)
	}
	kc := cfg.kafkaConfig(cfg.kafka[0], dir)
	if kc.Name != "kafka://kafka.example.org/a,b*" || kc.Addr != "kafka.example.org:9092" || !reflect.DeepEqual(kc.Topics, []string{"a", "b*"}) ||
		!kc.From.Start || kc.MaxRecord != 4096 || kc.BackoffMax != 5*time.Minute || kc.Creds != nil ||
		kc.OffsetsFile != filepath.Join(dir, "kafka-kafka.example.org-9092.offsets") {
		t.Errorf("config %+v", kc)
	}
	if kc.TLS == nil || kc.TLS.MinVersion != tls.VersionTLS12 || kc.TLS.RootCAs != nil || kc.TokenRoots != nil || kc.TLS.InsecureSkipVerify {
		t.Errorf("TLS %+v, token roots %v: want TLS 1.2+ verified against the system's roots", kc.TLS, kc.TokenRoots)
	}
	if kc := cfg.kafkaConfig(cfg.kafka[1], dir); kc.TLS != nil {
		t.Error("tls=off still speaks TLS")
	}
}

// TestKafkaTLSCA: --tls-ca verifies Kafka brokers and the token endpoint
// alike, and a bad --tls-ca stops comet before it starts.
func TestKafkaTLSCA(t *testing.T) {
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writeTestFile(t, caFile, newTestCA(t, "Test CA").pem)
	cfg, err := parseFlags([]string{"--subscribe=kafka://kafka.example.org/a", "--tls-ca=" + caFile})
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.load(); err != nil {
		t.Fatal(err)
	}
	kc := cfg.kafkaConfig(cfg.kafka[0], t.TempDir())
	if kc.TLS.RootCAs == nil || kc.TokenRoots != kc.TLS.RootCAs {
		t.Errorf("roots %v, token roots %v: want --tls-ca for both", kc.TLS.RootCAs, kc.TokenRoots)
	}
	bad := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(bad, []byte("not PEM"), 0o600)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--subscribe=kafka://kafka.example.org/a", "--tls-ca=" + bad, "--eventdb=" + t.TempDir()}, &stdout, &stderr); code != 2 ||
		!strings.Contains(stderr.String(), "--tls-ca") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("bad --tls-ca: exit %d, %q", code, stderr.String())
	}
}

// TestKafkaSubmitVerdicts: each outcome of the broker's intake becomes
// the verdict of the same meaning, with its reason, and an outcome the
// adapter does not know never lets the source move past a record.
func TestKafkaSubmitVerdicts(t *testing.T) {
	for o, want := range map[vtp.Outcome]kafka.Verdict{
		vtp.OutcomeAccepted: kafka.Accepted, vtp.OutcomeDuplicate: kafka.Duplicate,
		vtp.OutcomeRefused: kafka.Refused, vtp.OutcomeFailed: kafka.Failed, 0: kafka.Failed, 99: kafka.Failed,
	} {
		submit := kafkaSubmit(func(raw []byte, log *slog.Logger) (vtp.Outcome, string) { return o, "why" })
		v, reason := submit([]byte("<x/>"), slog.New(slog.DiscardHandler))
		if v != want || reason == "" {
			t.Errorf("outcome %d: verdict %v %q, want %v", o, v, reason, want)
		}
	}
}
