package kafka

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"
)

// The fake cluster is checked here on its own, through the package's
// codec, so that a consumer test failing against it points at the
// consumer and not at the fake.

// dialFake connects to one node of c through the codec's framing.
func dialFake(t *testing.T, c *fakeCluster, node int, tlsCfg *tls.Config) *peerConn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", c.nodes[node].addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg != nil {
		conn = tls.Client(conn, tlsCfg)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	return &peerConn{t: t, conn: conn, br: bufio.NewReader(conn)}
}

func fetchOne(t *testing.T, p *peerConn, topic string, part int32, offset int64, wait time.Duration) fetchPartitionResponse {
	t.Helper()
	body := p.roundTrip(fetchRequest{v: 11, maxWaitMs: int32(wait / time.Millisecond), maxBytes: 1 << 20,
		topics: []fetchTopic{{name: topic, partitions: []fetchPartition{{partition: part, fetchOffset: offset,
			logStartOffset: -1, partitionMaxBytes: 1 << 20}}}}})
	resp, err := decodeFetchResponse(body, 11)
	if err != nil {
		t.Fatal(err)
	}
	return resp.topics[0].partitions[0]
}

func TestFakeClusterServesFixtures(t *testing.T) {
	c := newFakeCluster(t, 2, nil)
	c.createTopic("t", 2)
	fix := readFixture(t, "franz-zstd.bin")
	c.appendBatches("t", 0, fix)
	if _, next := c.appendBatches("t", 0, readFixture(t, "franz-gzip.bin")); next != 8+7 {
		t.Fatalf("after two fixtures the log ends at %d, want 15", next)
	}

	p := dialFake(t, c, 0, nil)
	av, err := decodeApiVersionsResponse(p.roundTrip(newApiVersionsRequest()), 2)
	if err != nil {
		t.Fatal(err)
	}
	if picked, err := pickVersions(av.versions); err != nil || picked[apiFetch] != 11 || picked[apiMetadata] != 5 {
		t.Fatalf("versions %v, %v", picked, err)
	}
	md, err := decodeMetadataResponse(p.roundTrip(metadataRequest{topics: []string{"t", "nope"}}))
	if err != nil || len(md.brokers) != 2 || len(md.topics) != 2 || len(md.topics[0].partitions) != 2 ||
		md.topics[0].partitions[1].leader != 1 || md.topics[1].errorCode != int16(ErrUnknownTopicOrPartition) {
		t.Fatalf("metadata %+v, %v", md, err)
	}
	lo, err := decodeListOffsetsResponse(p.roundTrip(listOffsetsRequest{topics: []listOffsetsTopic{{name: "t",
		partitions: []listOffsetsPartition{{0, offsetEarliest}, {1, offsetLatest}}}}}))
	if err != nil || lo.topics[0].partitions[0].offset != 0 || lo.topics[0].partitions[1].errorCode != int16(ErrNotLeaderOrFollower) {
		t.Fatalf("list offsets %+v, %v", lo, err)
	}

	// From offset 4, inside the batch of five: the broker sends from
	// that batch, and the decoder hands on 4..14.
	fp := fetchOne(t, p, "t", 0, 4, time.Second)
	res, err := decodeRecords(fp.records, 4, 1<<20)
	if err != nil || fp.highWatermark != 15 || len(res.records) != 11 || res.records[0].Offset != 4 || res.next != 15 {
		t.Fatalf("fetch: %d records from %d, next %d, hw %d, %v", len(res.records), res.records[0].Offset, res.next, fp.highWatermark, err)
	}
	// A cut last batch is reported partial.
	c.truncateFetches("t", 0, 1)
	fp = fetchOne(t, p, "t", 0, 8, time.Second)
	if res, err := decodeRecords(fp.records, 8, 1<<20); err != nil || !res.partial || res.next >= 15 {
		t.Fatalf("truncated fetch: %+v, %v", res, err)
	}
	// Faults, in order, then the records again.
	c.failFetches("t", 0, ErrNotLeaderOrFollower, ErrUnknownTopicOrPartition)
	for _, want := range []int16{6, 3, 0} {
		if fp := fetchOne(t, p, "t", 0, 8, time.Second); fp.errorCode != want {
			t.Fatalf("fault: code %d, want %d", fp.errorCode, want)
		}
	}
	c.trim("t", 0, 8)
	if fp := fetchOne(t, p, "t", 0, 3, time.Second); fp.errorCode != int16(ErrOffsetOutOfRange) || fp.logStartOffset != 8 {
		t.Fatalf("after trim: %+v", fp)
	}
	c.moveLeader("t", 0, 1)
	if fp := fetchOne(t, p, "t", 0, 8, time.Second); fp.errorCode != int16(ErrNotLeaderOrFollower) {
		t.Fatalf("after the move the old leader answers %d", fp.errorCode)
	}
	if fp := fetchOne(t, dialFake(t, c, 1, nil), "t", 0, 8, time.Second); fp.errorCode != 0 || len(fp.records) == 0 {
		t.Fatalf("the new leader answers %+v", fp)
	}
	if s := c.Stats(); len(s.Violations) != 0 || s.Requests[apiFetch] != 8 {
		t.Fatalf("stats %+v", s)
	}
}

// A fetch at the end of the log waits until a record is appended, then
// answers at once; with nothing appended it answers after max wait.
func TestFakeClusterLongPoll(t *testing.T) {
	c := newFakeCluster(t, 1, nil)
	c.createTopic("t", 1)
	p := dialFake(t, c, 0, nil)
	start := time.Now()
	if fp := fetchOne(t, p, "t", 0, 0, 200*time.Millisecond); len(fp.records) != 0 || time.Since(start) < 200*time.Millisecond {
		t.Fatalf("empty fetch: %+v after %v", fp, time.Since(start))
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		c.appendBatches("t", 0, readFixture(t, "franz-none.bin"))
	}()
	if fp := fetchOne(t, p, "t", 0, 0, 30*time.Second); len(fp.records) == 0 {
		t.Fatalf("long poll ended without the record: %+v", fp)
	}
	// A drop ends a waiting long poll.
	go func() {
		time.Sleep(100 * time.Millisecond)
		c.dropAll()
	}()
	if _, err := p.send(fetchRequest{v: 11, maxWaitMs: 30000, maxBytes: 1 << 20,
		topics: []fetchTopic{{name: "t", partitions: []fetchPartition{{fetchOffset: 2, logStartOffset: -1, partitionMaxBytes: 1 << 20}}}}}); err == nil {
		t.Fatal("dropped connection answered")
	}
}

func TestFakeClusterSASL(t *testing.T) {
	cert, roots := testCert(t)
	c := newFakeCluster(t, 1, &tls.Config{Certificates: []tls.Certificate{cert}})
	c.setSASL(fakeSASL{mechanism: "OAUTHBEARER", lifetime: 300 * time.Millisecond})
	c.createTopic("t", 1)
	te := c.startTokenEndpoint(t, "id", testSecret, time.Hour)
	ts, err := newTokenSource(&Creds{Mechanism: MechOAuthBearer, ClientID: "id", ClientSecret: testSecret, TokenURL: te.url}, te.roots, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	clientTLS := &tls.Config{RootCAs: roots, ServerName: "127.0.0.1"}

	// A request before authenticating closes the connection.
	p := dialFake(t, c, 0, clientTLS)
	if _, err := p.send(metadataRequest{all: true}); err == nil {
		t.Fatal("metadata answered before authentication")
	}
	// A forged token is refused after the RFC 7628 challenge.
	p = dialFake(t, c, 0, clientTLS)
	m, _ := newOAuthBearer("forged.token.value")
	if _, err := exchange(p, m); err == nil {
		t.Fatal("forged token accepted")
	}
	// The issued token works; the session runs out after its lifetime,
	// and a re-authentication renews it.
	p = dialFake(t, c, 0, clientTLS)
	m, _ = newOAuthBearer(tok.value)
	life, err := exchange(p, m)
	if err != nil || life != 300 {
		t.Fatalf("lifetime %d, %v", life, err)
	}
	p.roundTrip(metadataRequest{all: true})
	time.Sleep(200 * time.Millisecond)
	m, _ = newOAuthBearer(tok.value)
	if _, err := exchange(p, m); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	p.roundTrip(metadataRequest{all: true}) // 400 ms after the first, 200 after the second
	time.Sleep(400 * time.Millisecond)
	if _, err := p.send(metadataRequest{all: true}); err == nil {
		t.Fatal("request after the session's end answered")
	}
	// As with Kafka, a session run out may still be renewed by a
	// re-authentication, which starts with SaslHandshake.
	p = dialFake(t, c, 0, clientTLS)
	m, _ = newOAuthBearer(tok.value)
	if _, err := exchange(p, m); err != nil {
		t.Fatal(err)
	}
	time.Sleep(400 * time.Millisecond)
	m, _ = newOAuthBearer(tok.value)
	if _, err := exchange(p, m); err != nil {
		t.Fatalf("re-authentication after the session's end: %v", err)
	}
	p.roundTrip(metadataRequest{all: true})
	// PLAIN.
	c.setSASL(fakeSASL{mechanism: "PLAIN", user: "alice", pass: testPassword})
	p = dialFake(t, c, 0, clientTLS)
	pl, _ := newPlain("alice", "wrong")
	var kerr *Error
	if _, err := exchange(p, pl); !errors.As(err, &kerr) || kerr.Code != ErrSaslAuthenticationFailed {
		t.Fatalf("wrong password: %v", err)
	}
	p = dialFake(t, c, 0, clientTLS)
	pl, _ = newPlain("alice", testPassword)
	if _, err := exchange(p, pl); err != nil {
		t.Fatal(err)
	}
	p.roundTrip(metadataRequest{all: true})
	if s := c.Stats(); s.Expired != 1 || s.Reauths != 2 || s.AuthFailures != 2 || len(s.Violations) != 1 {
		t.Fatalf("stats %+v", s)
	}
}
