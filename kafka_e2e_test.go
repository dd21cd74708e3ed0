package main

import (
	"bytes"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"comet/status"

	"comet/internal/kafkapeertest"
)

// testToken is the token the test's OAuth endpoint hands out: a secret
// too, and, like every JWT, starting "eyJ".
const testToken = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjb21ldCJ9.s3cr3t-TOKEN-9b7e"

// skipWithoutConsumer skips t while the Kafka consumer behind the API is
// not there yet: comet then stops at start saying so.
func skipWithoutConsumer(t *testing.T, p *proc) {
	t.Helper()
	select {
	case <-p.exited:
		if strings.Contains(p.stderr.String(), "not implemented yet") {
			t.Skip("the Kafka consumer is not in this tree yet")
		}
	default:
	}
}

// statusAddr waits for the broker's status listener and returns its
// address.
func (p *proc) statusAddr(t *testing.T) string {
	t.Helper()
	var addr string
	p.waitFor(t, "the status listener", func() bool {
		if m := statusRE.FindStringSubmatch(p.stderr.String()); m != nil {
			addr = m[1]
			return true
		}
		skipWithoutConsumer(t, p)
		return false
	})
	return addr
}

// pages fetches /status, /metrics, / and /healthz, joined.
func pages(t *testing.T, addr string) string {
	t.Helper()
	var all strings.Builder
	for _, path := range []string{"/status", "/metrics", "/", "/healthz"} {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		all.Write(b)
	}
	return all.String()
}

// assertNoSecret fails t if text holds any of secrets, or anything that
// looks like a JWT.
func assertNoSecret(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, "eyJ") {
		if strings.Contains(text, s) {
			t.Errorf("%s holds the secret %q", where, s)
		}
	}
}

// stop sends SIGTERM and waits for exit 0.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.waitExit(t); code != 0 {
		t.Errorf("exit %d after SIGTERM:\n%s", code, p.stderr)
	}
}

// TestKafkaSecretsNeverShown runs comet with an OAuth Kafka source whose
// token endpoint first refuses the client, echoing its secret back in the
// error, then hands out a token the cluster does not take. The cluster
// is a listener that hangs up on every connection, or kafkapeer, which
// refuses the token after the SASL exchange. While the source fails and
// retries, no page of --status and no log line holds the client secret
// or the token.
func TestKafkaSecretsNeverShown(t *testing.T) {
	if testing.Short() {
		t.Skip("runs comet as a process for several seconds")
	}
	var tokenCalls atomic.Int64
	tokens := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if tokenCalls.Add(1) == 1 {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "client secret " + testClientSecret + " is wrong"})
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"access_token": testToken, "expires_in": 3600, "token_type": "Bearer"})
	}))
	defer tokens.Close()
	tokenCA := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tokens.Certificate().Raw})
	auth := writeCreds(t, "mechanism=oauthbearer\nclient_id=comet-test\nclient_secret="+testClientSecret+"\ntoken_url="+tokens.URL+"/oauth2/token\n", 0o600)

	run := func(t *testing.T, url, caPEM string, done func() bool) {
		caFile := filepath.Join(t.TempDir(), "ca.pem")
		writeTestFile(t, caFile, []byte(caPEM))
		p := startBare(t, "--subscribe="+url+"auth="+auth, "--tls-ca="+caFile, "--eventdb="+t.TempDir(), "--status=tcp:0", "--remote-backoff-max=1")
		addr := p.statusAddr(t)
		p.waitFor(t, "the source to fail twice", done)
		text := pages(t, addr)
		if !strings.Contains(text, "kafka_sources") || !strings.Contains(text, "comet_kafka_connected") {
			t.Errorf("the pages do not show the source:\n%s", text)
		}
		assertNoSecret(t, "a status page", text, testClientSecret, testToken)
		p.stop(t)
		assertNoSecret(t, "the log", p.stderr.String(), testClientSecret, testToken)
	}

	t.Run("hang-up", func(t *testing.T) {
		var conns atomic.Int64
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				conns.Add(1)
				c.SetReadDeadline(time.Now().Add(time.Second))
				c.Read(make([]byte, 512))
				c.Close()
			}
		}()
		run(t, "kafka://"+l.Addr().String()+"/gcn.classic.voevent.TEST?tls=off&", string(tokenCA), func() bool { return conns.Load() >= 2 })
	})
	t.Run("kafkapeer", func(t *testing.T) {
		pr := startPeer(t, kafkapeerBin(t), "gcn.classic.voevent.TEST:1", "another-secret")
		peerCA, err := os.ReadFile(filepath.Join(pr.dir, "ca.pem"))
		if err != nil {
			t.Fatal(err)
		}
		// The first answer echoes the secret; the next ones hand out a
		// token the cluster refuses.
		before := tokenCalls.Load()
		run(t, "kafka://"+pr.broker+"/gcn.classic.voevent.TEST?", string(tokenCA)+string(peerCA), func() bool { return tokenCalls.Load() >= before+3 })
	})
}

// kafkapeerBin returns a kafkapeer binary, built from
// ../shared/tools/kafkapeer (its own module, never imported) once per
// test process, or skips t saying why.
func kafkapeerBin(t testing.TB) string {
	return kafkapeertest.Bin(t, "../shared/tools/kafkapeer")
}

// peer is a running kafkapeer: its directory and control API.
type peer struct {
	dir, broker, control string
}

// startPeer starts kafkapeer with one broker serving topics
// ("name[:partitions],..."), TLS and OAUTHBEARER with the client secret
// given; it stops when t ends.
func startPeer(t *testing.T, bin, topics, secret string) *peer {
	t.Helper()
	p := kafkapeertest.Start(t, bin, "-brokers=1", "-topics="+topics, "-sasl=oauthbearer", "-tls=true",
		"-client-id=comet-test", "-client-secret="+secret)
	return &peer{dir: p.Dir, broker: p.Brokers[0], control: p.Control}
}

// produce sends value as one zstd record to topic.
func (p *peer) produce(t *testing.T, topic string, value []byte) {
	t.Helper()
	resp, err := http.Post(p.control+"/produce?topic="+topic+"&compression=zstd", "application/octet-stream", bytes.NewReader(value))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("produce: %s %s", resp.Status, b)
	}
}

// kafkaReport reads /status.
func kafkaReport(t *testing.T, addr string) status.Report {
	t.Helper()
	var r status.Report
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatal(err)
	}
	return r
}

// TestKafkaEndToEnd runs comet against kafkapeer (TLS, OAUTHBEARER with a
// token endpoint, zstd batches): an event produced to the topic is
// accepted and shown in /status and /metrics; after a restart, comet goes
// on from its stored position, so the next event is taken and the first
// is not taken again; and no page or log line holds the client secret
// or a token.
func TestKafkaEndToEnd(t *testing.T) {
	bin := kafkapeerBin(t)
	const topic = "gcn.classic.voevent.TEST"
	pr := startPeer(t, bin, topic+":1", testClientSecret)
	db := t.TempDir()
	args := []string{"--subscribe=kafka://" + pr.broker + "/gcn.classic.voevent.*?auth=" + filepath.Join(pr.dir, "credentials"),
		"--tls-ca=" + filepath.Join(pr.dir, "ca.pem"), "--eventdb=" + db, "--status=tcp:0", "--remote-backoff-max=1", "-v"}
	ev, err := os.ReadFile("testdata/voevent/event-1k.xml")
	if err != nil {
		t.Fatal(err)
	}
	accepted := func(addr string, n int64) func() bool {
		return func() bool {
			r := kafkaReport(t, addr)
			return len(r.Kafka) == 1 && r.Kafka[0].Records["accepted"] == n && len(r.Kafka[0].Partitions) == 1 &&
				r.Kafka[0].Partitions[0].Lag == 0 && r.Kafka[0].Partitions[0].Next >= 0
		}
	}

	p := startBare(t, args...)
	addr := p.statusAddr(t)
	p.waitFor(t, "the partition assigned", func() bool {
		r := kafkaReport(t, addr)
		return len(r.Kafka) == 1 && len(r.Kafka[0].Partitions) == 1 && r.Kafka[0].Partitions[0].Next >= 0
	})
	pr.produce(t, topic, ev)
	p.waitFor(t, "the event accepted", accepted(addr, 1))
	text := pages(t, addr)
	if r := kafkaReport(t, addr); r.Counters.AcceptedFromAuthors != 1 || r.Kafka[0].Partitions[0].Topic != topic || !r.Kafka[0].Connected {
		t.Errorf("after one event: %+v %+v", r.Counters, r.Kafka)
	}
	assertNoSecret(t, "a status page", text, testClientSecret)
	p.stop(t)
	assertNoSecret(t, "the log", p.stderr.String(), testClientSecret)
	if strings.Contains(p.stderr.String(), "still stopping") {
		t.Errorf("the source did not stop with the broker:\n%s", p.stderr)
	}

	// The second event, produced while comet is down, is taken on restart;
	// the first is not taken again.
	second := bytes.Replace(ev, []byte("#GRB-1201696"), []byte("#GRB-1201697"), 1)
	if bytes.Equal(second, ev) {
		t.Fatal("the sample event's ivorn changed: update the test")
	}
	pr.produce(t, topic, second)
	p = startBare(t, args...)
	addr = p.statusAddr(t)
	p.waitFor(t, "the second event accepted", accepted(addr, 1))
	if r := kafkaReport(t, addr); r.Kafka[0].Records["duplicate"] != 0 || r.Kafka[0].Partitions[0].Next != 2 {
		t.Errorf("after a restart: %+v", r.Kafka[0])
	}
	assertNoSecret(t, "a status page", pages(t, addr), testClientSecret)
	p.stop(t)
	assertNoSecret(t, "the log", p.stderr.String(), testClientSecret)
}

// TestTopicsAgainstKafkapeer: comet topics lists what the credential can
// read, sorted, with partition counts; a wrong secret is exit status 1
// with one line that shows neither secret.
func TestTopicsAgainstKafkapeer(t *testing.T) {
	pr := startPeer(t, kafkapeerBin(t), "gcn.classic.voevent.TEST:1,gcn.notices.svom.voevent.grm:3,igwn.gwalert:2", testClientSecret)
	ca := "--tls-ca=" + filepath.Join(pr.dir, "ca.pem")
	var stdout, stderr bytes.Buffer
	if code := run([]string{"topics", ca, "kafka://" + pr.broker + "?auth=" + filepath.Join(pr.dir, "credentials")}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if want := "gcn.classic.voevent.TEST 1\ngcn.notices.svom.voevent.grm 3\nigwn.gwalert 2\n"; stdout.String() != want {
		t.Errorf("comet topics printed %q, want %q", stdout.String(), want)
	}
	creds, err := os.ReadFile(filepath.Join(pr.dir, "credentials"))
	if err != nil {
		t.Fatal(err)
	}
	wrong := writeCreds(t, strings.Replace(string(creds), testClientSecret, testPassword, 1), 0o600)
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"topics", ca, "kafka://" + pr.broker + "?auth=" + wrong}, &stdout, &stderr)
	msg := stderr.String()
	if code != 1 || strings.Count(msg, "\n") != 1 || stdout.Len() != 0 {
		t.Errorf("a wrong secret: exit %d, stdout %q, stderr %q; want exit 1 and one line", code, stdout.String(), msg)
	}
	assertNoSecret(t, "comet topics' error", msg, testClientSecret, testPassword)
	t.Logf("a wrong secret: %s", msg)
	// Without --tls-ca the peer's certificate is not trusted.
	stderr.Reset()
	if code := run([]string{"topics", "kafka://" + pr.broker + "?auth=" + filepath.Join(pr.dir, "credentials")}, &stdout, &stderr); code != 1 || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("an untrusted cluster: exit %d, %q", code, stderr.String())
	}
	t.Logf("an untrusted cluster: %s", stderr.String())
}
