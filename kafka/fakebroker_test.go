package kafka

import (
	"bufio"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeCluster is a small Kafka cluster inside the test process, speaking
// the subset of the protocol the consumer uses, through this package's
// codec (requests read with wire.go's reader, responses written with the
// encoders of wire_fuzz_test.go). Each node listens on its own TCP port
// on 127.0.0.1, and every connection has its own goroutine. The log of
// every partition lives in the cluster, so a leader move loses nothing;
// what a node answers depends only on whether it leads the partition.
//
// Its faults are set by the test: error codes for a partition's next
// fetches, a log start moved up (retention), a leader moved, connections
// dropped or refused, a last batch cut short, damaged or hostile
// answers, SASL sessions that expire.
type fakeCluster struct {
	t     testing.TB
	nodes []*fakeNode
	tls   *tls.Config // nil: plain TCP
	wg    sync.WaitGroup

	mu        sync.Mutex
	sasl      fakeSASL
	changed   chan struct{} // closed and replaced whenever a log grows
	topics    map[string][]*fakePartition
	forbidden map[string]bool
	tokens    map[string]time.Time // bearer tokens the cluster takes, and their expiry
	conns     map[*fakeConn]struct{}
	closed    bool
	refuse    bool                    // accept connections and close them at once
	down      map[int32]bool          // nodes that close every connection at once
	latency   map[int32]time.Duration // added before each answer of a node
	hostile   map[apiKey][]func(corr int32) []byte
	stats     fakeStats
}

// fakeStats is what the cluster counted; Stats returns a copy.
type fakeStats struct {
	Requests map[apiKey]int
	// Accepted counts connections accepted, refused ones included;
	// Refused those closed at once by setRefuse or setDown.
	Accepted, Refused int
	// Expired counts connections closed because a request came after
	// the SASL session's lifetime.
	Expired int
	// Reauths counts successful authentications on a connection that
	// was authenticated before.
	Reauths int
	// AuthFailures counts refused authentications.
	AuthFailures int
	// Violations are requests the cluster could not take: unknown or
	// malformed, or sent before authenticating.
	Violations []string
}

// fakeSASL is what the cluster asks of a client.
type fakeSASL struct {
	// mechanism is "" (none), "PLAIN" or "OAUTHBEARER".
	mechanism, user, pass string
	// lifetime, when set, is the session_lifetime_ms a successful
	// SaslAuthenticate v1 answers (for OAUTHBEARER, no longer than the
	// token has left to live).
	lifetime time.Duration
}

type fakeNode struct {
	id   int32
	ln   net.Listener
	host string
	port int32
}

func (n *fakeNode) addr() string { return net.JoinHostPort(n.host, strconv.Itoa(int(n.port))) }

// fakePartition is one partition's log.
type fakePartition struct {
	leader   int32
	logStart int64
	hw       int64 // the next offset to be written
	batches  []fakeBatch
	// faults are error codes for the next fetches of the partition, one
	// fetch each.
	faults []int16
	// truncate is how many of the next fetches that return records cut
	// their last batch in half.
	truncate int
	aborted  []abortedTransaction
}

type fakeBatch struct {
	base, last int64
	maxTs      int64
	raw        []byte
}

// newFakeCluster starts a cluster of nodes nodes (at least 1), stopped
// when t ends. tlsCfg, if set, makes every listener TLS.
func newFakeCluster(t testing.TB, nodes int, tlsCfg *tls.Config) *fakeCluster {
	t.Helper()
	c := &fakeCluster{
		t:         t,
		tls:       tlsCfg,
		changed:   make(chan struct{}),
		topics:    map[string][]*fakePartition{},
		forbidden: map[string]bool{},
		tokens:    map[string]time.Time{},
		down:      map[int32]bool{},
		latency:   map[int32]time.Duration{},
		conns:     map[*fakeConn]struct{}{},
		hostile:   map[apiKey][]func(int32) []byte{},
		stats:     fakeStats{Requests: map[apiKey]int{}},
	}
	for id := range nodes {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		a := ln.Addr().(*net.TCPAddr)
		n := &fakeNode{id: int32(id), ln: ln, host: "127.0.0.1", port: int32(a.Port)}
		c.nodes = append(c.nodes, n)
		c.wg.Add(1)
		go c.accept(n)
	}
	t.Cleanup(c.close)
	return c
}

// bootstrap is the first node's address.
func (c *fakeCluster) bootstrap() string { return c.nodes[0].addr() }

func (c *fakeCluster) close() {
	c.mu.Lock()
	c.closed = true
	for fc := range c.conns {
		fc.drop()
	}
	c.mu.Unlock()
	for _, n := range c.nodes {
		n.ln.Close()
	}
	c.wg.Wait()
}

func (c *fakeCluster) accept(n *fakeNode) {
	defer c.wg.Done()
	for {
		conn, err := n.ln.Accept()
		if err != nil {
			return
		}
		c.mu.Lock()
		c.stats.Accepted++
		if c.closed || c.refuse || c.down[n.id] {
			c.stats.Refused++
			c.mu.Unlock()
			conn.Close()
			continue
		}
		if c.tls != nil {
			conn = tls.Server(conn, c.tls)
		}
		fc := &fakeConn{c: c, node: n, conn: conn, done: make(chan struct{})}
		c.conns[fc] = struct{}{}
		c.wg.Add(1)
		c.mu.Unlock()
		go fc.serve()
	}
}

// ---- one connection ----

// The versions the fake cluster advertises: wider than what the codec
// speaks, as a real broker's are, so the client's choice is exercised.
var fakeVersions = map[apiKey]versionRange{
	apiApiVersions:      {0, 3},
	apiSaslHandshake:    {0, 1},
	apiSaslAuthenticate: {0, 2},
	apiMetadata:         {0, 12},
	apiListOffsets:      {0, 8},
	apiFetch:            {4, 16},
}

// fakeMaxRequest bounds a request the fake reads.
const fakeMaxRequest = 1 << 20

type fakeConn struct {
	c    *fakeCluster
	node *fakeNode
	conn net.Conn
	done chan struct{} // closed when the connection is dropped
	once sync.Once

	mechanism   string    // chosen by SaslHandshake
	authed      bool      // authenticated at least once
	authExpires time.Time // zero: the session does not expire
	challenged  bool      // OAUTHBEARER error challenge sent, \x01 awaited
	reauthing   bool      // SaslHandshake taken on an authenticated connection
}

func (fc *fakeConn) violation(format string, a ...any) {
	fc.c.mu.Lock()
	fc.c.stats.Violations = append(fc.c.stats.Violations, fmt.Sprintf("node %d: ", fc.node.id)+fmt.Sprintf(format, a...))
	fc.c.mu.Unlock()
}

func (fc *fakeConn) serve() {
	c := fc.c
	defer c.wg.Done()
	defer func() {
		fc.drop()
		c.mu.Lock()
		delete(c.conns, fc)
		c.mu.Unlock()
	}()
	br := bufio.NewReader(fc.conn)
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(br, hdr[:]); err != nil {
			return
		}
		size := int32(binary.BigEndian.Uint32(hdr[:]))
		if size < 8 || size > fakeMaxRequest {
			fc.violation("request size %d", size)
			return
		}
		body := make([]byte, size)
		if _, err := io.ReadFull(br, body); err != nil {
			return
		}
		r := &reader{b: body}
		key, v, corr := apiKey(r.int16()), r.int16(), r.int32()
		r.nullableString() // client id
		if r.err != nil {
			fc.violation("request header: %v", r.err)
			return
		}
		c.mu.Lock()
		c.stats.Requests[key]++
		// As Kafka, a session that has run out may still be renewed:
		// SaslHandshake begins a re-authentication, whose
		// SaslAuthenticate goes to the authenticator unchecked.
		expired := !fc.authExpires.IsZero() && time.Now().After(fc.authExpires) &&
			key != apiSaslHandshake && !(key == apiSaslAuthenticate && fc.reauthing)
		if expired {
			c.stats.Expired++
		}
		var hostile func(int32) []byte
		if h := c.hostile[key]; len(h) > 0 {
			hostile, c.hostile[key] = h[0], h[1:]
		}
		sasl := c.sasl
		c.mu.Unlock()
		if expired {
			// Kafka closes a connection whose session has run out
			// without answering.
			return
		}
		if sasl.mechanism != "" && !fc.authed && key != apiApiVersions && key != apiSaslHandshake && key != apiSaslAuthenticate {
			fc.violation("%s before authenticating", key)
			return
		}
		if hostile != nil {
			fc.conn.Write(hostile(corr))
			return
		}
		if vr, ok := supportedVersions[key]; ok && key != apiApiVersions && (v < vr.min || v > vr.max) {
			fc.violation("%s v%d, which the codec does not lay out", key, v)
			return
		}
		resp, keep := fc.handle(key, v, r)
		if resp == nil {
			return
		}
		c.mu.Lock()
		lat := c.latency[fc.node.id]
		c.mu.Unlock()
		if lat > 0 {
			select {
			case <-time.After(lat):
			case <-fc.done:
				return
			}
		}
		out := binary.BigEndian.AppendUint32(nil, uint32(len(resp)+4))
		out = binary.BigEndian.AppendUint32(out, uint32(corr))
		if _, err := fc.conn.Write(append(out, resp...)); err != nil || !keep {
			return
		}
	}
}

// handle answers one request; keep is false when the connection is to
// be closed after the answer, and a nil answer closes it at once.
func (fc *fakeConn) handle(key apiKey, v int16, r *reader) (resp []byte, keep bool) {
	switch key {
	case apiApiVersions:
		keys := make([]apiKey, 0, len(fakeVersions))
		for k := range fakeVersions {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
		av := &apiVersionsResponse{versions: fakeVersions}
		if v > fakeVersions[apiApiVersions].max {
			av.errorCode = int16(ErrUnsupportedVersion)
			return encodeApiVersionsResponse(av, 0, keys), true
		}
		return encodeApiVersionsResponse(av, v, keys), true
	case apiSaslHandshake:
		return fc.saslHandshake(r)
	case apiSaslAuthenticate:
		return fc.saslAuthenticate(v, r)
	case apiMetadata:
		return fc.metadata(r)
	case apiListOffsets:
		return fc.listOffsets(r)
	case apiFetch:
		return fc.fetch(v, r)
	}
	fc.violation("unexpected %s", key)
	return nil, false
}

// leads checks that this node may answer for the partition, giving the
// error code otherwise. c.mu is held.
func (fc *fakeConn) leads(topic string, p int32) (*fakePartition, int16) {
	c := fc.c
	if c.forbidden[topic] {
		return nil, int16(ErrTopicAuthorizationFailed)
	}
	ps, ok := c.topics[topic]
	if !ok || p < 0 || int(p) >= len(ps) {
		return nil, int16(ErrUnknownTopicOrPartition)
	}
	if ps[p].leader != fc.node.id {
		return nil, int16(ErrNotLeaderOrFollower)
	}
	return ps[p], 0
}

func (fc *fakeConn) metadata(r *reader) ([]byte, bool) {
	n := r.arrayLen(2, true)
	var names []string
	for range max(n, 0) {
		names = append(names, r.string())
	}
	r.bool() // allow_auto_topic_creation
	if err := r.done(apiMetadata); err != nil {
		fc.violation("%v", err)
		return nil, false
	}
	c := fc.c
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := &metadataResponse{controllerID: 0}
	for _, nd := range c.nodes {
		resp.brokers = append(resp.brokers, metadataBroker{nodeID: nd.id, host: nd.host, port: nd.port})
	}
	if n < 0 {
		for name := range c.topics {
			if !c.forbidden[name] {
				names = append(names, name)
			}
		}
		sort.Strings(names)
	}
	for _, name := range names {
		mt := metadataTopic{name: name}
		ps, ok := c.topics[name]
		switch {
		case c.forbidden[name]:
			mt.errorCode = int16(ErrTopicAuthorizationFailed)
		case !ok:
			mt.errorCode = int16(ErrUnknownTopicOrPartition)
		default:
			for i, p := range ps {
				mp := metadataPartition{partition: int32(i), leader: p.leader}
				if p.leader < 0 {
					mp.errorCode = int16(ErrLeaderNotAvailable)
				}
				mt.partitions = append(mt.partitions, mp)
			}
		}
		resp.topics = append(resp.topics, mt)
	}
	return encodeMetadataResponse(resp), true
}

func (fc *fakeConn) listOffsets(r *reader) ([]byte, bool) {
	r.int32() // replica id
	r.int8()  // isolation
	type ask struct {
		p  int32
		ts int64
	}
	var topics []string
	var asks [][]ask
	for range r.arrayLen(2+4, false) {
		topics = append(topics, r.string())
		var a []ask
		for range r.arrayLen(12, false) {
			a = append(a, ask{r.int32(), r.int64()})
		}
		asks = append(asks, a)
	}
	if err := r.done(apiListOffsets); err != nil {
		fc.violation("%v", err)
		return nil, false
	}
	c := fc.c
	c.mu.Lock()
	defer c.mu.Unlock()
	resp := &listOffsetsResponse{}
	for i, name := range topics {
		tr := listOffsetsTopicResponse{name: name}
		for _, a := range asks[i] {
			pr := listOffsetsPartitionResponse{partition: a.p, timestamp: -1, offset: -1}
			fp, code := fc.leads(name, a.p)
			switch {
			case code != 0:
				pr.errorCode = code
			case a.ts == offsetEarliest:
				pr.offset = fp.logStart
			case a.ts == offsetLatest:
				pr.offset = fp.hw
			default:
				// The first batch holding a record at or after the
				// time; the tests' batches carry one time each.
				for _, b := range fp.batches {
					if b.maxTs >= a.ts && b.last >= fp.logStart {
						pr.offset, pr.timestamp = max(b.base, fp.logStart), b.maxTs
						break
					}
				}
			}
			tr.partitions = append(tr.partitions, pr)
		}
		resp.topics = append(resp.topics, tr)
	}
	return encodeListOffsetsResponse(resp), true
}

type fakeFetchAsk struct {
	p        int32
	offset   int64
	maxBytes int32
}

func (fc *fakeConn) fetch(v int16, r *reader) ([]byte, bool) {
	r.int32() // replica id
	maxWait := time.Duration(r.int32()) * time.Millisecond
	r.int32() // min bytes
	maxBytes := r.int32()
	isolation := r.int8()
	r.int32() // session id
	r.int32() // session epoch
	var topics []string
	var asks [][]fakeFetchAsk
	for range r.arrayLen(2+4, false) {
		topics = append(topics, r.string())
		var a []fakeFetchAsk
		for range r.arrayLen(28, false) {
			p := r.int32()
			r.int32() // current leader epoch
			off := r.int64()
			r.int64() // log start offset
			a = append(a, fakeFetchAsk{p, off, r.int32()})
		}
		asks = append(asks, a)
	}
	for range r.arrayLen(2+4, false) { // forgotten topics
		r.string()
		r.int32Array()
	}
	if v >= 11 {
		r.string() // rack id
	}
	if err := r.done(apiFetch); err != nil {
		fc.violation("%v", err)
		return nil, false
	}
	if maxWait < 0 || maxWait > time.Minute {
		fc.violation("Fetch max_wait_ms %v", maxWait)
	}
	deadline := time.NewTimer(maxWait)
	defer deadline.Stop()
	for {
		c := fc.c
		c.mu.Lock()
		resp, ready := fc.fetchOnce(topics, asks, maxBytes, isolation)
		changed := c.changed
		c.mu.Unlock()
		if ready {
			return encodeFetchResponse(resp, v), true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return encodeFetchResponse(resp, v), true
		case <-fc.done:
			return nil, false
		}
	}
}

// drop closes the connection and ends its long poll, if one is waiting.
func (fc *fakeConn) drop() {
	fc.once.Do(func() {
		close(fc.done)
		fc.conn.Close()
	})
}

// fetchOnce builds a fetch's answer from the logs as they are; ready is
// true when it carries a record or an error, so that a long poll ends.
// c.mu is held.
func (fc *fakeConn) fetchOnce(topics []string, asks [][]fakeFetchAsk, maxBytes int32, isolation int8) (*fetchResponse, bool) {
	resp := &fetchResponse{}
	ready := false
	total := 0
	for i, name := range topics {
		tr := fetchTopicResponse{name: name}
		for _, a := range asks[i] {
			pr := fetchPartitionResponse{partition: a.p, highWatermark: -1, lastStableOffset: -1,
				logStartOffset: -1, preferredReadReplica: -1}
			fp, code := fc.leads(name, a.p)
			if code == 0 && len(fp.faults) > 0 {
				code, fp.faults = fp.faults[0], fp.faults[1:]
			}
			if code == 0 && (a.offset < fp.logStart || a.offset > fp.hw) {
				code = int16(ErrOffsetOutOfRange)
			}
			if fp != nil {
				pr.highWatermark, pr.lastStableOffset, pr.logStartOffset = fp.hw, fp.hw, fp.logStart
			}
			if code != 0 {
				pr.errorCode = code
				ready = true
				tr.partitions = append(tr.partitions, pr)
				continue
			}
			var recs []byte
			for _, b := range fp.batches {
				if b.last < a.offset {
					continue
				}
				if len(recs) > 0 && (len(recs)+len(b.raw) > int(a.maxBytes) || total+len(recs)+len(b.raw) > int(maxBytes)) {
					break
				}
				recs = append(recs, b.raw...)
				if isolation == readCommitted {
					for _, ab := range fp.aborted {
						if ab.firstOffset >= b.base && ab.firstOffset <= b.last {
							pr.aborted = append(pr.aborted, ab)
						}
					}
				}
			}
			if len(recs) > 0 && fp.truncate > 0 {
				fp.truncate--
				bs := splitBatches(recs)
				lastLen := len(bs[len(bs)-1])
				recs = recs[:len(recs)-lastLen/2]
			}
			if isolation == readCommitted && pr.aborted == nil {
				pr.aborted = []abortedTransaction{}
			}
			if len(recs) > 0 {
				pr.records = recs
				total += len(recs)
				ready = true
			} else {
				pr.records = []byte{}
			}
			tr.partitions = append(tr.partitions, pr)
		}
		resp.topics = append(resp.topics, tr)
	}
	return resp, ready
}
