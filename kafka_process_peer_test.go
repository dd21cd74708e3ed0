//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"comet/internal/kafkapeertest"
)

// The Kafka process tests run comet (this test binary, as the other
// process tests do) against kafkapeer, a local Kafka cluster with
// Kafka's SASL servers, a token endpoint and a control API, run as a
// separate process so that comet never imports its module; kafkapeerBin
// (kafka_e2e_test.go) builds it, or skips the test saying why.

// kpeer is one running kafkapeer.
type kpeer struct {
	bin       string
	dir       string   // bootstrap, ca.pem, credentials, control
	bootstrap []string // the brokers' addresses, node 0 first
	control   string   // URL of the control API
}

// startKPeer starts "kafkapeer serve" with args and returns it once
// ready; it is stopped when t ends (see kafkapeertest.Start).
func startKPeer(t testing.TB, args ...string) *kpeer {
	t.Helper()
	bin := kafkapeerBin(t)
	p := kafkapeertest.Start(t, bin, args...)
	return &kpeer{bin: bin, dir: p.Dir, bootstrap: p.Brokers, control: p.Control}
}

// ca is the file holding the CA of the peer's listeners and token
// endpoint, for --tls-ca.
func (p *kpeer) ca() string { return filepath.Join(p.dir, "ca.pem") }

// creds is the peer's credentials file, in the format of comet's auth=.
func (p *kpeer) creds() string { return filepath.Join(p.dir, "credentials") }

// url is the --subscribe value for topics on the peer, starting at the
// beginning of each partition, with the peer's credentials and extra
// options (such as "tls=off").
func (p *kpeer) url(topics string, extra ...string) string {
	opts := append([]string{"auth=" + p.creds(), "from=start"}, extra...)
	return "kafka://" + p.bootstrap[0] + "/" + topics + "?" + strings.Join(opts, "&")
}

// post sends a control request and decodes its JSON answer into out
// (when not nil); an answer other than 200 fails t.
func (p *kpeer) post(t testing.TB, path string, q url.Values, body []byte, out any) {
	t.Helper()
	u := p.control + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	cl := &http.Client{Timeout: 30 * time.Second}
	resp, err := cl.Post(u, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("kafkapeer %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("kafkapeer %s?%s: %s: %s", path, q.Encode(), resp.Status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("kafkapeer %s: %v: %s", path, err, b)
		}
	}
}

// produce puts values into topic's partition as one record batch
// compressed with codec (none, gzip, zstd) and returns their offsets.
func (p *kpeer) produce(t testing.TB, topic string, partition int, codec string, values ...[]byte) []int64 {
	t.Helper()
	strs := make([]string, len(values))
	for i, v := range values {
		strs[i] = string(v)
	}
	body, _ := json.Marshal(strs)
	var ans struct {
		Offsets []int64 `json:"offsets"`
	}
	p.post(t, "/produce", url.Values{"topic": {topic}, "partition": {strconv.Itoa(partition)},
		"compression": {codec}, "batch": {"1"}}, body, &ans)
	if len(ans.Offsets) != len(values) {
		t.Fatalf("kafkapeer produced %d records of %d", len(ans.Offsets), len(values))
	}
	return ans.Offsets
}

// peerStats is the part of kafkapeer's GET /stats the tests look at.
type peerStats struct {
	Connections struct {
		Accepted     int64            `json:"accepted"`
		Open         int64            `json:"open"`
		Closed       int64            `json:"closed"`
		CloseReasons map[string]int64 `json:"close_reasons"`
	} `json:"connections"`
	SASL struct {
		HandshakesFailed int64 `json:"handshakes_failed"`
		AuthOK           int64 `json:"auth_ok"`
		AuthFailed       int64 `json:"auth_failed"`
		ReauthOK         int64 `json:"reauth_ok"`
		ReauthFailed     int64 `json:"reauth_failed"`
	} `json:"sasl"`
	Requests map[string]struct {
		Total    int64            `json:"total"`
		Versions map[string]int64 `json:"versions"`
	} `json:"requests"`
	LastFetch *struct {
		Version   int   `json:"version"`
		MaxWaitMs int32 `json:"max_wait_ms"`
		MinBytes  int32 `json:"min_bytes"`
		MaxBytes  int32 `json:"max_bytes"`
	} `json:"last_fetch"`
	ZstdRefusals  int64          `json:"zstd_refusals"`
	PendingFaults map[string]any `json:"pending_faults"`
	Tokens        struct {
		Issued  int64 `json:"issued"`
		Refused int64 `json:"refused"`
	} `json:"tokens"`
}

// stats reads the peer's counters.
func (p *kpeer) stats(t testing.TB) peerStats {
	t.Helper()
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Get(p.control + "/stats")
	if err != nil {
		t.Fatalf("kafkapeer /stats: %v", err)
	}
	defer resp.Body.Close()
	var s peerStats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("kafkapeer /stats: %v", err)
	}
	return s
}

// peerTool runs a kafkapeer client command (probe, consume) against p
// and returns its exit status and combined output.
func (p *kpeer) tool(t *testing.T, args ...string) (int, string) {
	t.Helper()
	args = append([]string{args[0], "-dir", p.dir}, args[1:]...)
	out, err := exec.Command(p.bin, args...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), string(out)
	}
	if err != nil {
		t.Fatalf("kafkapeer %s: %v", args[0], err)
	}
	return 0, string(out)
}

// template5k is a valid VOEvent of about 5 kB, as GCN's notices are,
// whose ivorn kafkaEvent replaces.
var template5k = sync.OnceValues(func() ([]byte, error) {
	return os.ReadFile("testdata/voevent/event-5k.xml")
})

var ivornAttrRE = regexp.MustCompile(`ivorn="[^"]*"`)

// kafkaEvent is a valid VOEvent of about 5 kB with ivorn id: large
// enough that zstd and gzip batches really are compressed.
func kafkaEvent(t testing.TB, id string) []byte {
	t.Helper()
	tmpl, err := template5k()
	if err != nil {
		t.Fatal(err)
	}
	return ivornAttrRE.ReplaceAll(tmpl, []byte(`ivorn="`+id+`"`))
}

// kafkaIVORN is the ivorn of record i of a test's stream.
func kafkaIVORN(prefix string, i int) string {
	return fmt.Sprintf("ivo://org.example.observatory/alerts#%s-%05d", prefix, i)
}

// kproducer produces records to a topic's partition, a batch of them
// every interval, until stopped, keeping the ivorns in the order Kafka
// took them.
type kproducer struct {
	mu   sync.Mutex
	ids  []string
	stop chan struct{}
	done chan struct{}
}

func startKProducer(t *testing.T, p *kpeer, topic, codec, prefix string, every time.Duration, batch int) *kproducer {
	pr := &kproducer{stop: make(chan struct{}), done: make(chan struct{})}
	tmpl, err := template5k()
	if err != nil {
		t.Fatal(err)
	}
	// t.Fatal may not be called off the test's goroutine: an error ends
	// the producer and is reported when the test ends.
	errs := make(chan string, 1)
	go func() {
		defer close(pr.done)
		cl := &http.Client{Timeout: 30 * time.Second}
		tick := time.NewTicker(every)
		defer tick.Stop()
		q := url.Values{"topic": {topic}, "compression": {codec}, "batch": {"1"}}
		for n := 0; ; {
			select {
			case <-pr.stop:
				return
			case <-tick.C:
			}
			var ids, vals []string
			for range batch {
				id := kafkaIVORN(prefix, n)
				n++
				ids = append(ids, id)
				vals = append(vals, string(ivornAttrRE.ReplaceAll(tmpl, []byte(`ivorn="`+id+`"`))))
			}
			body, _ := json.Marshal(vals)
			resp, err := cl.Post(p.control+"/produce?"+q.Encode(), "application/json", bytes.NewReader(body))
			if err != nil {
				errs <- err.Error()
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- resp.Status + ": " + string(b)
				return
			}
			pr.mu.Lock()
			pr.ids = append(pr.ids, ids...)
			pr.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		select {
		case <-pr.stop:
		default:
			close(pr.stop)
		}
		<-pr.done
		select {
		case e := <-errs:
			t.Errorf("producer: %s", e)
		default:
		}
	})
	return pr
}

func (pr *kproducer) count() int {
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return len(pr.ids)
}

// finish stops the producer and returns the ivorns produced, in order.
func (pr *kproducer) finish() []string {
	close(pr.stop)
	<-pr.done
	pr.mu.Lock()
	defer pr.mu.Unlock()
	return append([]string(nil), pr.ids...)
}

// startKafkaComet starts comet on fixed loopback ports with its Kafka
// source(s) and the peer's CA, plus args; it waits until it listens.
func startKafkaComet(t testing.TB, recv, bcast, db string, p *kpeer, sources []string, args ...string) *proc {
	t.Helper()
	a := []string{"--eventdb=" + db, "--tls-ca=" + p.ca()}
	for _, s := range sources {
		a = append(a, "--subscribe="+s)
	}
	return startAt(t, recv, bcast, append(a, args...)...)
}

// subscribeTo starts a replay subscriber on c's broadcast port and waits
// until c has taken it as a subscriber, so that nothing c relays from
// now on passes it by.
func subscribeTo(t testing.TB, c *proc) *replaySub {
	t.Helper()
	before := strings.Count(c.stderr.String(), `msg="subscriber connected"`)
	s := startReplaySub(t, c.bcast)
	c.waitFor(t, "the subscriber taken", func() bool {
		return strings.Count(c.stderr.String(), `msg="subscriber connected"`) > before
	})
	return s
}

// waitReceived waits until s has received n events, failing with the
// logs after two minutes.
func waitReceived(t testing.TB, s *replaySub, n int, logs ...*proc) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for len(s.received()) < n {
		if time.Now().After(deadline) {
			for _, p := range logs {
				t.Logf("comet log:\n%s", p.stderr)
			}
			t.Fatalf("the subscriber received %d events, want %d, after 2 min", len(s.received()), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkOnce fails t unless got holds every ivorn of want exactly once and
// nothing else; with ordered, also in want's order.
func checkOnce(t *testing.T, got, want []string, ordered bool) {
	t.Helper()
	seen := map[string]int{}
	for i, g := range got {
		if j, dup := seen[g]; dup {
			t.Fatalf("%s received twice (at %d and %d)", g, j, i)
		}
		seen[g] = i
	}
	wanted := map[string]bool{}
	var missing []string
	for _, w := range want {
		wanted[w] = true
		if _, ok := seen[w]; !ok {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d records produced never reached the subscriber, such as %s", len(missing), len(want), missing[0])
	}
	for _, g := range got {
		if !wanted[g] {
			t.Fatalf("the subscriber received %s, which was not produced (or was trimmed)", g)
		}
	}
	if ordered {
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("event %d is %s, want %s: out of offset order", i, got[i], want[i])
			}
		}
	}
}

// nextOffsets is the next offset of each topic-partition ("topic/p") of
// every Kafka source on the /status page at addr.
func nextOffsets(t *testing.T, addr string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, s := range kafkaReport(t, addr).Kafka {
		for _, p := range s.Partitions {
			m[fmt.Sprintf("%s/%d", p.Topic, p.Partition)] = p.Next
		}
	}
	return m
}

// fetchVersions lists the Fetch versions a peer has been asked, lowest
// first.
func fetchVersions(s peerStats) []int {
	var vs []int
	for v := range s.Requests["Fetch"].Versions {
		n, _ := strconv.Atoi(v)
		vs = append(vs, n)
	}
	sort.Ints(vs)
	return vs
}
