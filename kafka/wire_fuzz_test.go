package kafka

import (
	"bytes"
	"path/filepath"
	"testing"
)

// The encoders below write responses as a broker would, for round trips,
// truncation tests and fuzz seeds. They are test-only: the consumer never
// writes a response.

func encodeApiVersionsResponse(resp *apiVersionsResponse, v int16, keys []apiKey) []byte {
	var w writer
	w.int16(resp.errorCode)
	w.arrayLen(len(keys))
	for _, k := range keys {
		vr := resp.versions[k]
		w.int16(int16(k))
		w.int16(vr.min)
		w.int16(vr.max)
	}
	if v >= 1 {
		w.int32(resp.throttleMs)
	}
	return w.b
}

func encodeSaslHandshakeResponse(resp *saslHandshakeResponse) []byte {
	var w writer
	w.int16(resp.errorCode)
	w.arrayLen(len(resp.mechanisms))
	for _, m := range resp.mechanisms {
		w.string(m)
	}
	return w.b
}

func encodeSaslAuthenticateResponse(resp *saslAuthenticateResponse, v int16, nullMessage bool) []byte {
	var w writer
	w.int16(resp.errorCode)
	w.nullableString(resp.errorMessage, nullMessage)
	w.bytes(resp.authBytes)
	if v >= 1 {
		w.int64(resp.sessionLifetimeMs)
	}
	return w.b
}

func encodeMetadataResponse(resp *metadataResponse) []byte {
	var w writer
	w.int32(0) // throttle
	w.arrayLen(len(resp.brokers))
	for _, b := range resp.brokers {
		w.int32(b.nodeID)
		w.string(b.host)
		w.int32(b.port)
		w.nullableString("rack-a", b.nodeID%2 == 0)
	}
	w.nullableString("cluster", false)
	w.int32(resp.controllerID)
	w.arrayLen(len(resp.topics))
	for _, t := range resp.topics {
		w.int16(t.errorCode)
		w.string(t.name)
		w.bool(t.internal)
		w.arrayLen(len(t.partitions))
		for _, p := range t.partitions {
			w.int16(p.errorCode)
			w.int32(p.partition)
			w.int32(p.leader)
			for range 3 { // replicas, isr, offline
				w.arrayLen(1)
				w.int32(p.leader)
			}
		}
	}
	return w.b
}

func encodeListOffsetsResponse(resp *listOffsetsResponse) []byte {
	var w writer
	w.int32(0) // throttle
	w.arrayLen(len(resp.topics))
	for _, t := range resp.topics {
		w.string(t.name)
		w.arrayLen(len(t.partitions))
		for _, p := range t.partitions {
			w.int32(p.partition)
			w.int16(p.errorCode)
			w.int64(p.timestamp)
			w.int64(p.offset)
		}
	}
	return w.b
}

func encodeFetchResponse(resp *fetchResponse, v int16) []byte {
	var w writer
	w.int32(resp.throttleMs)
	w.int16(resp.errorCode)
	w.int32(resp.sessionID)
	w.arrayLen(len(resp.topics))
	for _, t := range resp.topics {
		w.string(t.name)
		w.arrayLen(len(t.partitions))
		for _, p := range t.partitions {
			w.int32(p.partition)
			w.int16(p.errorCode)
			w.int64(p.highWatermark)
			w.int64(p.lastStableOffset)
			w.int64(p.logStartOffset)
			if p.aborted == nil {
				w.arrayLen(-1)
			} else {
				w.arrayLen(len(p.aborted))
				for _, a := range p.aborted {
					w.int64(a.producerID)
					w.int64(a.firstOffset)
				}
			}
			if v >= 11 {
				w.int32(p.preferredReadReplica)
			}
			if p.records == nil {
				w.int32(-1)
			} else {
				w.bytes(p.records)
			}
		}
	}
	return w.b
}

// sampleResponses are valid responses of every decoder, by name, with no
// error code set, so that every strict prefix of each is malformed.
func sampleResponses() map[string][]byte {
	av := &apiVersionsResponse{versions: map[apiKey]versionRange{}, throttleMs: 3}
	var keys []apiKey
	for k, vr := range supportedVersions {
		av.versions[k] = vr
		keys = append(keys, k)
	}
	fetch := &fetchResponse{sessionID: 0, topics: []fetchTopicResponse{{
		name: "gcn.classic.voevent.TEST",
		partitions: []fetchPartitionResponse{
			{partition: 0, highWatermark: 10, lastStableOffset: 10, logStartOffset: 2,
				aborted:              []abortedTransaction{{producerID: 9, firstOffset: 4}},
				preferredReadReplica: -1, records: []byte("batch bytes")},
			{partition: 1, errorCode: int16(ErrNotLeaderOrFollower), highWatermark: -1,
				lastStableOffset: -1, logStartOffset: -1, preferredReadReplica: -1},
		},
	}}}
	return map[string][]byte{
		"apiversions.v0": encodeApiVersionsResponse(av, 0, keys),
		"apiversions.v2": encodeApiVersionsResponse(av, 2, keys),
		"saslhandshake":  encodeSaslHandshakeResponse(&saslHandshakeResponse{mechanisms: []string{"OAUTHBEARER", "PLAIN"}}),
		"saslauth.v0":    encodeSaslAuthenticateResponse(&saslAuthenticateResponse{authBytes: []byte("x")}, 0, true),
		"saslauth.v1": encodeSaslAuthenticateResponse(&saslAuthenticateResponse{
			authBytes: []byte(`{"status":"invalid_token"}`), sessionLifetimeMs: 3600000}, 1, false),
		"metadata": encodeMetadataResponse(&metadataResponse{
			brokers:      []metadataBroker{{nodeID: 0, host: "kafka1", port: 9092}, {nodeID: 1, host: "kafka2", port: 9093}},
			controllerID: 1,
			topics: []metadataTopic{{name: "t", partitions: []metadataPartition{{partition: 0, leader: 1}}},
				{name: "u", errorCode: int16(ErrUnknownTopicOrPartition)}},
		}),
		"listoffsets": encodeListOffsetsResponse(&listOffsetsResponse{topics: []listOffsetsTopicResponse{{
			name: "t", partitions: []listOffsetsPartitionResponse{{partition: 0, timestamp: -1, offset: 42}}}}}),
		"fetch.v10": encodeFetchResponse(fetch, 10),
		"fetch.v11": encodeFetchResponse(fetch, 11),
	}
}

// decodeAll runs every response decoder, in every version it takes, on b
// and returns how many accepted it.
func decodeAll(b []byte) int {
	ok := 0
	count := func(err error) {
		if err == nil {
			ok++
		}
	}
	for v := int16(0); v <= 2; v++ {
		_, err := decodeApiVersionsResponse(b, v)
		count(err)
	}
	_, err := decodeSaslHandshakeResponse(b)
	count(err)
	for v := int16(0); v <= 1; v++ {
		_, err := decodeSaslAuthenticateResponse(b, v)
		count(err)
	}
	_, err = decodeMetadataResponse(b)
	count(err)
	_, err = decodeListOffsetsResponse(b)
	count(err)
	for v := int16(10); v <= 11; v++ {
		_, err := decodeFetchResponse(b, v)
		count(err)
	}
	_, err = readResponse(bytes.NewReader(b), 1<<16, 0)
	count(err)
	return ok
}

// FuzzResponses feeds arbitrary bytes to every response decoder and to
// the response framing: none may panic, and memory stays bounded by the
// input because every count is checked before it is allocated.
func FuzzResponses(f *testing.F) {
	for _, b := range sampleResponses() {
		f.Add(b)
	}
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "wire", "*.bin"))
	for _, name := range fixtures {
		f.Add(readWireFixture(f, filepath.Base(name)))
	}
	f.Add([]byte{0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeAll(b)
	})
}
