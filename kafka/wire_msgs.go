package kafka

import (
	"fmt"
	"sort"
	"strings"
)

// The versions this package can encode and decode, per API. All are
// non-flexible: flexible versions (compact strings, tagged fields) would
// double the codec for nothing a fetch-only consumer needs.
var supportedVersions = map[apiKey]versionRange{
	apiApiVersions:      {0, 2},
	apiSaslHandshake:    {1, 1},
	apiSaslAuthenticate: {0, 1},
	apiMetadata:         {5, 5},
	apiListOffsets:      {2, 2},
	// v10 is the first version a broker sends zstd batches to.
	apiFetch: {10, 11},
}

// versionRange is the versions of one API a peer serves, both ends
// included.
type versionRange struct{ min, max int16 }

// ---- ApiVersions ----

type apiVersionsRequest struct{ v int16 }

func (apiVersionsRequest) key() apiKey          { return apiApiVersions }
func (q apiVersionsRequest) version() int16     { return q.v }
func (apiVersionsRequest) encode(*writer)       {}
func newApiVersionsRequest() apiVersionsRequest { return apiVersionsRequest{v: 2} }

type apiVersionsResponse struct {
	versions   map[apiKey]versionRange
	throttleMs int32
	errorCode  int16
}

// decodeApiVersionsResponse decodes an ApiVersions response of version
// v. A broker that does not serve v answers in version 0's layout with
// UNSUPPORTED_VERSION and the versions it does serve, so that layout is
// accepted whatever v was.
func decodeApiVersionsResponse(b []byte, v int16) (*apiVersionsResponse, error) {
	r := reader{b: b}
	resp := &apiVersionsResponse{errorCode: r.int16()}
	n := r.arrayLen(6, false)
	resp.versions = make(map[apiKey]versionRange, n)
	for range n {
		k := apiKey(r.int16())
		vr := versionRange{min: r.int16(), max: r.int16()}
		if _, used := supportedVersions[k]; !used {
			// Not an API we speak: whatever the broker says of it (some
			// releases advertise impossible ranges for APIs they hardly
			// serve) is none of our business.
			continue
		}
		if r.err == nil && vr.min > vr.max {
			r.fail(fmt.Errorf("%s versions %d to %d are inverted", k, vr.min, vr.max))
		}
		resp.versions[k] = vr
	}
	if v >= 1 && !(resp.errorCode == int16(ErrUnsupportedVersion) && r.err == nil && len(r.b) == 0) {
		resp.throttleMs = r.int32()
	}
	if err := r.done(apiApiVersions); err != nil {
		return nil, err
	}
	if err := codeErr(apiApiVersions, resp.errorCode); err != nil {
		return resp, err
	}
	return resp, nil
}

// pickVersions chooses, for every API this package speaks, the highest
// version both it and the broker serve. It names every API the broker
// lacks or serves only in versions we do not, so an operator learns at
// once that the broker is too old or too new, not at the first fetch.
func pickVersions(broker map[apiKey]versionRange) (map[apiKey]int16, error) {
	picked := make(map[apiKey]int16, len(supportedVersions))
	var missing []string
	for k, ours := range supportedVersions {
		theirs, ok := broker[k]
		if !ok {
			missing = append(missing, fmt.Sprintf("%s (not served)", k))
			continue
		}
		hi := min(ours.max, theirs.max)
		lo := max(ours.min, theirs.min)
		if hi < lo {
			missing = append(missing, fmt.Sprintf("%s (broker serves v%d-v%d, we speak v%d-v%d)",
				k, theirs.min, theirs.max, ours.min, ours.max))
			continue
		}
		picked[k] = hi
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("kafka: the broker lacks what a consumer needs: %s", strings.Join(missing, ", "))
	}
	return picked, nil
}

// ---- SaslHandshake v1 ----

type saslHandshakeRequest struct{ mechanism string }

func (saslHandshakeRequest) key() apiKey        { return apiSaslHandshake }
func (saslHandshakeRequest) version() int16     { return 1 }
func (q saslHandshakeRequest) encode(w *writer) { w.string(q.mechanism) }

type saslHandshakeResponse struct {
	errorCode  int16
	mechanisms []string
}

// decodeSaslHandshakeResponse decodes a version 1 response. An error
// code comes back as an *Error beside the response, whose mechanisms say
// what the broker would have taken.
func decodeSaslHandshakeResponse(b []byte) (*saslHandshakeResponse, error) {
	r := reader{b: b}
	resp := &saslHandshakeResponse{errorCode: r.int16()}
	n := r.arrayLen(2, false)
	if n > 0 {
		resp.mechanisms = make([]string, n)
	}
	for i := range n {
		resp.mechanisms[i] = r.string()
	}
	if err := r.done(apiSaslHandshake); err != nil {
		return nil, err
	}
	return resp, codeErr(apiSaslHandshake, resp.errorCode)
}

// ---- SaslAuthenticate v0-v1 ----

type saslAuthenticateRequest struct {
	v         int16
	authBytes []byte
}

func (saslAuthenticateRequest) key() apiKey        { return apiSaslAuthenticate }
func (q saslAuthenticateRequest) version() int16   { return q.v }
func (q saslAuthenticateRequest) encode(w *writer) { w.bytes(q.authBytes) }

type saslAuthenticateResponse struct {
	errorCode    int16
	errorMessage string
	authBytes    []byte
	// sessionLifetimeMs is how long the broker keeps the session
	// authenticated; 0 means for the connection's life. Version 1 only.
	sessionLifetimeMs int64
}

// decodeSaslAuthenticateResponse decodes a response of version v (0 or
// 1). An error code comes back as an *Error carrying the broker's message
// on one line. The error code 0 does not by itself mean success: an
// OAUTHBEARER refusal first comes back as code 0 with a JSON challenge in
// the auth bytes, which the caller must answer.
func decodeSaslAuthenticateResponse(b []byte, v int16) (*saslAuthenticateResponse, error) {
	r := reader{b: b}
	resp := &saslAuthenticateResponse{errorCode: r.int16()}
	resp.errorMessage, _ = r.nullableString()
	resp.authBytes = r.bytes()
	if v >= 1 {
		resp.sessionLifetimeMs = r.int64()
	}
	if err := r.done(apiSaslAuthenticate); err != nil {
		return nil, err
	}
	if resp.errorCode != 0 {
		return resp, &Error{Code: ErrorCode(resp.errorCode), API: apiSaslAuthenticate.String(), Message: oneLine(resp.errorMessage)}
	}
	return resp, nil
}

// oneLine makes a peer's message safe for one log line: control
// characters become spaces and it is cut at 200 bytes.
func oneLine(s string) string {
	const limit = 200
	if len(s) > limit {
		s = s[:limit] + "..."
	}
	return strings.Map(func(c rune) rune {
		if c < 0x20 || c == 0x7f || c == 0xfffd {
			return ' '
		}
		return c
	}, s)
}

// ---- Metadata v5 ----

// metadataRequest asks for the named topics, or, when all is set, for
// every topic the credential may see (a null topic array). Topics are
// never created by asking.
type metadataRequest struct {
	topics []string
	all    bool
}

func (metadataRequest) key() apiKey    { return apiMetadata }
func (metadataRequest) version() int16 { return 5 }
func (q metadataRequest) encode(w *writer) {
	if q.all {
		w.arrayLen(-1)
	} else {
		w.arrayLen(len(q.topics))
		for _, t := range q.topics {
			w.string(t)
		}
	}
	w.bool(false) // allow_auto_topic_creation
}

type metadataBroker struct {
	nodeID int32
	host   string
	port   int32
}

type metadataPartition struct {
	errorCode int16
	partition int32
	leader    int32 // -1 while there is none
}

type metadataTopic struct {
	errorCode  int16
	name       string
	internal   bool
	partitions []metadataPartition
}

type metadataResponse struct {
	brokers      []metadataBroker
	controllerID int32
	topics       []metadataTopic
}

// decodeMetadataResponse decodes a version 5 response. Errors of topics
// and partitions stay in their codes, since one topic's error does not
// spoil the others.
func decodeMetadataResponse(b []byte) (*metadataResponse, error) {
	r := reader{b: b}
	resp := &metadataResponse{}
	r.int32() // throttle_time_ms
	// node id, host length, port, rack length
	n := r.arrayLen(4+2+4+2, false)
	if n > 0 {
		resp.brokers = make([]metadataBroker, n)
	}
	for i := range n {
		br := &resp.brokers[i]
		br.nodeID = r.int32()
		br.host = r.string()
		br.port = r.int32()
		r.nullableString() // rack
	}
	r.nullableString() // cluster_id
	resp.controllerID = r.int32()
	// error code, name length, is_internal, partition count
	n = r.arrayLen(2+2+1+4, false)
	if n > 0 {
		resp.topics = make([]metadataTopic, n)
	}
	for i := range n {
		t := &resp.topics[i]
		t.errorCode = r.int16()
		t.name = r.string()
		t.internal = r.bool()
		// error code, index, leader, three array counts
		np := r.arrayLen(2+4+4+3*4, false)
		if np > 0 {
			t.partitions = make([]metadataPartition, np)
		}
		for j := range np {
			p := &t.partitions[j]
			p.errorCode = r.int16()
			p.partition = r.int32()
			p.leader = r.int32()
			r.int32Array() // replicas
			r.int32Array() // isr
			r.int32Array() // offline replicas
		}
	}
	if err := r.done(apiMetadata); err != nil {
		return nil, err
	}
	return resp, nil
}

// ---- ListOffsets v2 ----

// Timestamps ListOffsets takes besides a time in milliseconds.
const (
	offsetLatest   int64 = -1 // the offset the next record will get
	offsetEarliest int64 = -2 // the first offset still kept
)

// Isolation levels of ListOffsets and Fetch.
const (
	readUncommitted int8 = 0
	readCommitted   int8 = 1
)

type listOffsetsPartition struct {
	partition int32
	timestamp int64 // a time in ms, or offsetLatest or offsetEarliest
}

type listOffsetsTopic struct {
	name       string
	partitions []listOffsetsPartition
}

type listOffsetsRequest struct {
	isolation int8
	topics    []listOffsetsTopic
}

func (listOffsetsRequest) key() apiKey    { return apiListOffsets }
func (listOffsetsRequest) version() int16 { return 2 }
func (q listOffsetsRequest) encode(w *writer) {
	w.int32(-1) // replica_id: a consumer
	w.int8(q.isolation)
	w.arrayLen(len(q.topics))
	for _, t := range q.topics {
		w.string(t.name)
		w.arrayLen(len(t.partitions))
		for _, p := range t.partitions {
			w.int32(p.partition)
			w.int64(p.timestamp)
		}
	}
}

type listOffsetsPartitionResponse struct {
	partition int32
	errorCode int16
	timestamp int64
	offset    int64 // -1 when no record is at or after the time asked
}

type listOffsetsTopicResponse struct {
	name       string
	partitions []listOffsetsPartitionResponse
}

type listOffsetsResponse struct {
	topics []listOffsetsTopicResponse
}

// decodeListOffsetsResponse decodes a version 2 response; errors stay
// per partition.
func decodeListOffsetsResponse(b []byte) (*listOffsetsResponse, error) {
	r := reader{b: b}
	resp := &listOffsetsResponse{}
	r.int32() // throttle_time_ms
	n := r.arrayLen(2+4, false)
	if n > 0 {
		resp.topics = make([]listOffsetsTopicResponse, n)
	}
	for i := range n {
		t := &resp.topics[i]
		t.name = r.string()
		np := r.arrayLen(4+2+8+8, false)
		if np > 0 {
			t.partitions = make([]listOffsetsPartitionResponse, np)
		}
		for j := range np {
			p := &t.partitions[j]
			p.partition = r.int32()
			p.errorCode = r.int16()
			p.timestamp = r.int64()
			p.offset = r.int64()
		}
	}
	if err := r.done(apiListOffsets); err != nil {
		return nil, err
	}
	return resp, nil
}

// ---- Fetch v10-v11 ----

type fetchPartition struct {
	partition         int32
	fetchOffset       int64
	logStartOffset    int64 // -1: we are a consumer, not a follower
	partitionMaxBytes int32
}

type fetchTopic struct {
	name       string
	partitions []fetchPartition
}

// fetchRequest is a full (sessionless) fetch: session id 0 and epoch -1,
// so the broker keeps no state for us between fetches, and min_bytes 1,
// so a long poll ends as soon as one record is there.
type fetchRequest struct {
	v         int16 // 10 or 11
	maxWaitMs int32
	maxBytes  int32
	isolation int8
	topics    []fetchTopic
}

func (fetchRequest) key() apiKey      { return apiFetch }
func (q fetchRequest) version() int16 { return q.v }
func (q fetchRequest) encode(w *writer) {
	w.int32(-1) // replica_id: a consumer
	w.int32(q.maxWaitMs)
	w.int32(1) // min_bytes
	w.int32(q.maxBytes)
	w.int8(q.isolation)
	w.int32(0)  // session_id
	w.int32(-1) // session_epoch: no session
	w.arrayLen(len(q.topics))
	for _, t := range q.topics {
		w.string(t.name)
		w.arrayLen(len(t.partitions))
		for _, p := range t.partitions {
			w.int32(p.partition)
			w.int32(-1) // current_leader_epoch: unknown
			w.int64(p.fetchOffset)
			w.int64(p.logStartOffset)
			w.int32(p.partitionMaxBytes)
		}
	}
	w.arrayLen(0) // forgotten_topics_data
	if q.v >= 11 {
		w.string("") // rack_id
	}
}

type abortedTransaction struct {
	producerID  int64
	firstOffset int64
}

type fetchPartitionResponse struct {
	partition        int32
	errorCode        int16
	highWatermark    int64
	lastStableOffset int64
	logStartOffset   int64
	aborted          []abortedTransaction
	// preferredReadReplica is -1 unless the broker asks us to fetch from
	// another replica (version 11).
	preferredReadReplica int32
	// records is the raw record batches, nil when the broker sent null.
	// They share the response's memory; the last batch may be cut short.
	records []byte
}

type fetchTopicResponse struct {
	name       string
	partitions []fetchPartitionResponse
}

type fetchResponse struct {
	throttleMs int32
	errorCode  int16
	sessionID  int32
	topics     []fetchTopicResponse
}

// decodeFetchResponse decodes a response of version v (10 or 11). A
// top-level error code comes back as an *Error beside the response;
// partition errors stay in their codes.
func decodeFetchResponse(b []byte, v int16) (*fetchResponse, error) {
	r := reader{b: b}
	resp := &fetchResponse{throttleMs: r.int32(), errorCode: r.int16(), sessionID: r.int32()}
	n := r.arrayLen(2+4, false)
	if n > 0 {
		resp.topics = make([]fetchTopicResponse, n)
	}
	// index, error, three offsets, aborted count, records length
	minPart := 4 + 2 + 3*8 + 4 + 4
	if v >= 11 {
		minPart += 4
	}
	for i := range n {
		t := &resp.topics[i]
		t.name = r.string()
		np := r.arrayLen(minPart, false)
		if np > 0 {
			t.partitions = make([]fetchPartitionResponse, np)
		}
		for j := range np {
			p := &t.partitions[j]
			p.partition = r.int32()
			p.errorCode = r.int16()
			p.highWatermark = r.int64()
			p.lastStableOffset = r.int64()
			p.logStartOffset = r.int64()
			na := r.arrayLen(16, true)
			if na > 0 {
				p.aborted = make([]abortedTransaction, na)
			}
			for k := range max(na, 0) {
				p.aborted[k] = abortedTransaction{producerID: r.int64(), firstOffset: r.int64()}
			}
			p.preferredReadReplica = -1
			if v >= 11 {
				p.preferredReadReplica = r.int32()
			}
			p.records = r.nullableBytes()
		}
	}
	if err := r.done(apiFetch); err != nil {
		return nil, err
	}
	return resp, codeErr(apiFetch, resp.errorCode)
}
