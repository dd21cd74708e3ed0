package kafka

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startKafkapeer builds and starts the shared kafkapeer (a local Kafka
// cluster, franz-go's kfake behind a front) as a separate process, plain
// TCP, SASL PLAIN as user "u" with password "p", one broker. It skips the
// test, saying why, when the peer cannot be built or started: it needs
// the Go module proxy or a warm module cache. KAFKAPEER may name a binary
// already built. It returns the broker address and the control API URL.
func startKafkapeer(t *testing.T) (broker, control string) {
	t.Helper()
	if testing.Short() {
		t.Skip("kafkapeer: skipped in -short mode")
	}
	bin := os.Getenv("KAFKAPEER")
	if bin == "" {
		src, err := filepath.Abs("../../shared/tools/kafkapeer")
		if err == nil {
			_, err = os.Stat(filepath.Join(src, "go.mod"))
		}
		if err != nil {
			t.Skipf("kafkapeer: source not found beside the worktree (%v); set KAFKAPEER to a built binary", err)
		}
		bin = filepath.Join(t.TempDir(), "kafkapeer")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Dir = src
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			t.Skipf("kafkapeer: cannot be built (is the Go module proxy reachable?): %v\n%s", err, out)
		}
	}
	dir := t.TempDir()
	cmd := exec.Command(bin, "serve", "-dir", dir, "-tls=false", "-sasl=plain",
		"-username=u", "-password=p", "-brokers=1", "-topics=gcn.classic.voevent.TEST:1")
	if err := cmd.Start(); err != nil {
		t.Skipf("kafkapeer: cannot be started: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	// Wait for DIR/ready, which the peer writes last; give up (skip) after
	// a minute, or at once if it exits.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			t.Skipf("kafkapeer: exited before it was ready: %v", err)
		case <-giveUp:
			t.Skip("kafkapeer: not ready within a minute")
		case <-tick.C:
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(b))
	}
	return strings.Split(read("bootstrap"), ",")[0], read("control")
}

// peerConn is one connection to the peer, with the correlation ids kept.
type peerConn struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
	corr int32
}

func (c *peerConn) roundTrip(req request) []byte {
	c.t.Helper()
	c.corr++
	if err := writeRequest(c.conn, c.corr, "comet-test", req); err != nil {
		c.t.Fatalf("%s: %v", req.key(), err)
	}
	body, err := readResponse(c.br, 1<<20, c.corr)
	if err != nil {
		c.t.Fatalf("%s: %v", req.key(), err)
	}
	return body
}

// TestAgainstKafkapeer speaks every request of this codec to a real
// broker implementation over a socket: the broker must understand each
// request, and each of its answers must decode.
func TestAgainstKafkapeer(t *testing.T) {
	broker, control := startKafkapeer(t)
	const topic = "gcn.classic.voevent.TEST"
	resp, err := http.Post(control+"/produce?topic="+topic+"&compression=none", "application/octet-stream",
		strings.NewReader("<voe:VOEvent/>"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("produce: %s", resp.Status)
	}

	conn, err := net.Dial("tcp", broker)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The test stops by itself if the peer stops answering.
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c := &peerConn{t: t, conn: conn, br: bufio.NewReader(conn)}

	av, err := decodeApiVersionsResponse(c.roundTrip(newApiVersionsRequest()), 2)
	if err != nil {
		t.Fatal(err)
	}
	versions, err := pickVersions(av.versions)
	if err != nil {
		t.Fatal(err)
	}
	if versions[apiFetch] != 11 || versions[apiMetadata] != 5 {
		t.Fatalf("picked %v", versions)
	}

	hs, err := decodeSaslHandshakeResponse(c.roundTrip(saslHandshakeRequest{mechanism: "PLAIN"}))
	if err != nil {
		t.Fatalf("SaslHandshake: %v (%+v)", err, hs)
	}
	sa, err := decodeSaslAuthenticateResponse(c.roundTrip(saslAuthenticateRequest{
		v: versions[apiSaslAuthenticate], authBytes: []byte("\x00u\x00p")}), versions[apiSaslAuthenticate])
	if err != nil {
		t.Fatalf("SaslAuthenticate: %v", err)
	}
	t.Logf("authenticated, session lifetime %d ms", sa.sessionLifetimeMs)

	md, err := decodeMetadataResponse(c.roundTrip(metadataRequest{all: true}))
	if err != nil {
		t.Fatal(err)
	}
	if len(md.brokers) != 1 || md.brokers[0].port == 0 {
		t.Fatalf("Metadata brokers %+v", md.brokers)
	}
	found := false
	for _, tp := range md.topics {
		if tp.name == topic {
			found = len(tp.partitions) == 1 && tp.partitions[0].leader == md.brokers[0].nodeID
		}
	}
	if !found {
		t.Fatalf("Metadata for all topics lacks %s led by broker %d: %+v", topic, md.brokers[0].nodeID, md.topics)
	}
	md, err = decodeMetadataResponse(c.roundTrip(metadataRequest{topics: []string{topic, "no.such.topic"}}))
	if err != nil || len(md.topics) != 2 || md.topics[1].errorCode != int16(ErrUnknownTopicOrPartition) {
		t.Fatalf("Metadata for named topics: %+v, %v", md, err)
	}

	lo, err := decodeListOffsetsResponse(c.roundTrip(listOffsetsRequest{topics: []listOffsetsTopic{{
		name: topic, partitions: []listOffsetsPartition{{partition: 0, timestamp: offsetLatest}}}}}))
	if err != nil || len(lo.topics) != 1 || len(lo.topics[0].partitions) != 1 ||
		lo.topics[0].partitions[0].errorCode != 0 || lo.topics[0].partitions[0].offset != 1 {
		t.Fatalf("ListOffsets latest: %+v, %v; want offset 1", lo, err)
	}

	fr, err := decodeFetchResponse(c.roundTrip(fetchRequest{v: 11, maxWaitMs: 100, maxBytes: 1 << 20,
		topics: []fetchTopic{{name: topic, partitions: []fetchPartition{
			{partition: 0, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1 << 20}}}}}), 11)
	if err != nil {
		t.Fatal(err)
	}
	p := fr.topics[0].partitions[0]
	if p.errorCode != 0 || p.highWatermark != 1 || !strings.Contains(string(p.records), "<voe:VOEvent/>") {
		t.Fatalf("Fetch: %+v", p)
	}
}
