package kafka

import (
	"encoding/binary"
	"time"
)

// What a test does to the fake cluster of fakebroker_test.go: topics,
// records, and the faults it injects.

// setSASL changes what the cluster asks of new authentications.
func (c *fakeCluster) setSASL(s fakeSASL) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sasl = s
}

// createTopic makes a topic of parts partitions, led in turn by the
// nodes.
func (c *fakeCluster) createTopic(name string, parts int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ps := make([]*fakePartition, parts)
	for i := range ps {
		ps[i] = &fakePartition{leader: int32(i % len(c.nodes))}
	}
	c.topics[name] = ps
}

func (c *fakeCluster) part(topic string, p int32) *fakePartition {
	ps, ok := c.topics[topic]
	if !ok || int(p) >= len(ps) || p < 0 {
		c.t.Fatalf("fake cluster: no partition %s/%d", topic, p)
	}
	return ps[p]
}

// splitBatches cuts records bytes into whole batches; a short tail is
// dropped.
func splitBatches(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 12 {
		n := int(binary.BigEndian.Uint32(b[8:]))
		if n < 0 || 12+n > len(b) {
			break
		}
		out = append(out, b[:12+n:12+n])
		b = b[12+n:]
	}
	return out
}

// appendBatches writes the batches in raw (one or more, as a broker
// stores them) at the end of the partition, renumbering their base
// offsets (which the CRC does not cover) so that they follow on, and
// wakes the fetches waiting. It returns the offsets they took.
func (c *fakeCluster) appendBatches(topic string, p int32, raw []byte) (first, next int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fp := c.part(topic, p)
	first = fp.hw
	for _, b := range splitBatches(raw) {
		b = append([]byte(nil), b...)
		binary.BigEndian.PutUint64(b, uint64(fp.hw))
		lastDelta := int64(binary.BigEndian.Uint32(b[23:]))
		maxTs := int64(binary.BigEndian.Uint64(b[35:]))
		fb := fakeBatch{base: fp.hw, last: fp.hw + lastDelta, maxTs: maxTs, raw: b}
		fp.batches = append(fp.batches, fb)
		fp.hw = fb.last + 1
	}
	c.wake()
	return first, fp.hw
}

// wake ends every long poll waiting, so it looks again. c.mu is held.
func (c *fakeCluster) wake() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// trim moves the log start of a partition up to start, as retention
// does, dropping the batches wholly below it.
func (c *fakeCluster) trim(topic string, p int32, start int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fp := c.part(topic, p)
	fp.logStart = start
	for len(fp.batches) > 0 && fp.batches[0].last < start {
		fp.batches = fp.batches[1:]
	}
	c.wake()
}

// moveLeader makes node lead the partition; the old leader answers
// NOT_LEADER_OR_FOLLOWER from then on. Node -1 leaves the partition
// without a leader (an election under way): Metadata then answers
// LEADER_NOT_AVAILABLE for it.
func (c *fakeCluster) moveLeader(topic string, p int32, node int32) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.part(topic, p).leader = node
	c.wake()
}

// failFetches makes the next len(codes) fetches of the partition answer
// these error codes, one each.
func (c *fakeCluster) failFetches(topic string, p int32, codes ...ErrorCode) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fp := c.part(topic, p)
	for _, code := range codes {
		fp.faults = append(fp.faults, int16(code))
	}
	c.wake()
}

// truncateFetches makes the next k fetches of the partition that carry
// records cut their last batch in half, as a broker does at its byte
// limit.
func (c *fakeCluster) truncateFetches(topic string, p int32, k int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.part(topic, p).truncate += k
}

// setForbidden makes a topic one the credential may not read (or may
// again).
func (c *fakeCluster) setForbidden(topic string, forbidden bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forbidden[topic] = forbidden
	c.wake()
}

// dropAll closes every connection, as a broker restart or a network
// failure does.
func (c *fakeCluster) dropAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for fc := range c.conns {
		fc.drop()
	}
}

// setRefuse makes the listeners close every new connection at once (or
// stop doing so).
func (c *fakeCluster) setRefuse(refuse bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.refuse = refuse
}

// hostileNext makes the next request of key be answered with what frame
// returns (a whole frame, size included) in place of the real answer;
// the connection is closed after it.
func (c *fakeCluster) hostileNext(key apiKey, frame func(corr int32) []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.hostile[key] = append(c.hostile[key], frame)
}

// Stats returns a copy of what the cluster counted.
func (c *fakeCluster) Stats() fakeStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Requests = map[apiKey]int{}
	for k, v := range c.stats.Requests {
		s.Requests[k] = v
	}
	s.Violations = append([]string(nil), c.stats.Violations...)
	return s
}

// highWatermark is the offset the partition's next record will get.
func (c *fakeCluster) highWatermark(topic string, p int32) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.part(topic, p).hw
}

// setDown takes one node down (its connections dropped, new ones closed
// at once) or brings it back; the other nodes go on serving.
func (c *fakeCluster) setDown(node int32, down bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.down[node] = down
	if down {
		for fc := range c.conns {
			if fc.node.id == node {
				fc.drop()
			}
		}
	}
}

// setLatency delays every answer of node by d, as a distant broker's
// answers are.
func (c *fakeCluster) setLatency(node int32, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latency[node] = d
}
