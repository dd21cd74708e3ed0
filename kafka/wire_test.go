package kafka

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// unhex reads hex written with spaces, newlines and // comments, so the
// golden frames below can be laid out field by field.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	var clean strings.Builder
	for line := range strings.SplitSeq(s, "\n") {
		if i := strings.Index(line, "//"); i >= 0 {
			line = line[:i]
		}
		clean.WriteString(strings.Join(strings.Fields(line), ""))
	}
	b, err := hex.DecodeString(clean.String())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func frame(t *testing.T, corr int32, req request) []byte {
	t.Helper()
	b, err := appendRequest(nil, corr, "comet", req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The golden frames are written by hand from Kafka's protocol schemas
// (FetchRequest.json, MetadataRequest.json, ...), not from this encoder,
// so a field in the wrong place or of the wrong width fails here.

func TestFetchV11RequestGolden(t *testing.T) {
	got := frame(t, 7, fetchRequest{v: 11, maxWaitMs: 500, maxBytes: 50 << 20, isolation: readCommitted,
		topics: []fetchTopic{{name: "t", partitions: []fetchPartition{
			{partition: 2, fetchOffset: 5, logStartOffset: -1, partitionMaxBytes: 1 << 20}}}}})
	want := unhex(t, `
		00000055                 // size: 85
		0001 000b 00000007       // Fetch, v11, correlation id 7
		0005 636f6d6574          // client id "comet"
		ffffffff                 // replica_id -1
		000001f4                 // max_wait_ms 500
		00000001                 // min_bytes 1
		03200000                 // max_bytes 50 MiB
		01                       // isolation_level read_committed
		00000000                 // session_id 0
		ffffffff                 // session_epoch -1
		00000001 0001 74         // topics: 1, "t"
		00000001                 // partitions: 1
		00000002                 // partition 2
		ffffffff                 // current_leader_epoch -1
		0000000000000005         // fetch_offset 5
		ffffffffffffffff         // log_start_offset -1
		00100000                 // partition_max_bytes 1 MiB
		00000000                 // forgotten_topics_data: 0
		0000                     // rack_id ""
	`)
	if !bytes.Equal(got, want) {
		t.Fatalf("Fetch v11 request\n got %x\nwant %x", got, want)
	}
}

func TestMetadataRequestGolden(t *testing.T) {
	named := frame(t, 1, metadataRequest{topics: []string{"a", "bc"}})
	want := unhex(t, `
		0000001b                 // size: 27
		0003 0005 00000001       // Metadata, v5, correlation id 1
		0005 636f6d6574          // client id "comet"
		00000002 0001 61 0002 6263 // topics "a", "bc"
		00                       // allow_auto_topic_creation false
	`)
	if !bytes.Equal(named, want) {
		t.Fatalf("Metadata request for named topics\n got %x\nwant %x", named, want)
	}
	all := frame(t, 2, metadataRequest{all: true})
	want = unhex(t, `
		00000014 0003 0005 00000002 0005 636f6d6574
		ffffffff                 // topics: null, every topic
		00
	`)
	if !bytes.Equal(all, want) {
		t.Fatalf("Metadata request for all topics\n got %x\nwant %x", all, want)
	}
	// An empty list asks for no topic at all, which is not "all".
	none := frame(t, 3, metadataRequest{})
	if got := none[len(none)-5 : len(none)-1]; !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Fatalf("Metadata request for no topics has count %x", got)
	}
}

func TestSmallRequestsGolden(t *testing.T) {
	for _, c := range []struct {
		name string
		req  request
		want string
	}{
		{"ApiVersions v2", newApiVersionsRequest(), `0000000f 0012 0002 00000009 0005 636f6d6574`},
		{"SaslHandshake v1", saslHandshakeRequest{mechanism: "PLAIN"},
			`00000016 0011 0001 00000009 0005 636f6d6574 0005 504c41494e`},
		{"SaslAuthenticate v1", saslAuthenticateRequest{v: 1, authBytes: []byte{1}},
			`00000014 0024 0001 00000009 0005 636f6d6574 00000001 01`},
		{"ListOffsets v2", listOffsetsRequest{topics: []listOffsetsTopic{{name: "t",
			partitions: []listOffsetsPartition{{partition: 0, timestamp: offsetEarliest}}}}},
			`0000002b 0002 0002 00000009 0005 636f6d6574
			 ffffffff 00                  // replica_id -1, read_uncommitted
			 00000001 0001 74 00000001    // topic "t", 1 partition
			 00000000 fffffffffffffffe    // partition 0, timestamp -2 (earliest)`},
	} {
		if got, want := frame(t, 9, c.req), unhex(t, c.want); !bytes.Equal(got, want) {
			t.Errorf("%s\n got %x\nwant %x", c.name, got, want)
		}
	}
}

// A Fetch v11 response written by hand from FetchResponse.json, so the
// decoder is checked against the schema and not only against the test
// encoder.
func TestFetchV11ResponseGolden(t *testing.T) {
	b := unhex(t, `
		00000000 0000 00000000   // throttle 0, error 0, session 0
		00000001 0001 74         // topics: 1, "t"
		00000001                 // partitions: 1
		00000003 0000            // partition 3, no error
		0000000000000064         // high watermark 100
		0000000000000063         // last stable offset 99
		000000000000000a         // log start offset 10
		00000001 0000000000000007 0000000000000050 // aborted: producer 7 from offset 80
		00000002                 // preferred read replica 2
		00000003 616263          // records "abc"
	`)
	resp, err := decodeFetchResponse(b, 11)
	if err != nil {
		t.Fatal(err)
	}
	want := fetchPartitionResponse{partition: 3, highWatermark: 100, lastStableOffset: 99, logStartOffset: 10,
		aborted: []abortedTransaction{{7, 80}}, preferredReadReplica: 2, records: []byte("abc")}
	if len(resp.topics) != 1 || resp.topics[0].name != "t" || len(resp.topics[0].partitions) != 1 ||
		!reflect.DeepEqual(resp.topics[0].partitions[0], want) {
		t.Fatalf("decoded %+v", resp)
	}
}

func TestResponsesRoundTrip(t *testing.T) {
	s := sampleResponses()

	av, err := decodeApiVersionsResponse(s["apiversions.v2"], 2)
	if err != nil || av.throttleMs != 3 || !reflect.DeepEqual(av.versions, supportedVersions) {
		t.Errorf("ApiVersions v2: %+v, %v", av, err)
	}
	av, err = decodeApiVersionsResponse(s["apiversions.v0"], 0)
	if err != nil || !reflect.DeepEqual(av.versions, supportedVersions) {
		t.Errorf("ApiVersions v0: %+v, %v", av, err)
	}

	hs, err := decodeSaslHandshakeResponse(s["saslhandshake"])
	if err != nil || !reflect.DeepEqual(hs.mechanisms, []string{"OAUTHBEARER", "PLAIN"}) {
		t.Errorf("SaslHandshake: %+v, %v", hs, err)
	}

	sa, err := decodeSaslAuthenticateResponse(s["saslauth.v1"], 1)
	if err != nil || string(sa.authBytes) != `{"status":"invalid_token"}` || sa.sessionLifetimeMs != 3600000 {
		t.Errorf("SaslAuthenticate v1: %+v, %v", sa, err)
	}

	md, err := decodeMetadataResponse(s["metadata"])
	wantMD := &metadataResponse{
		brokers:      []metadataBroker{{0, "kafka1", 9092}, {1, "kafka2", 9093}},
		controllerID: 1,
		topics: []metadataTopic{{name: "t", partitions: []metadataPartition{{partition: 0, leader: 1}}},
			{name: "u", errorCode: int16(ErrUnknownTopicOrPartition)}},
	}
	if err != nil || !reflect.DeepEqual(md, wantMD) {
		t.Errorf("Metadata:\n got %+v, %v\nwant %+v", md, err, wantMD)
	}

	lo, err := decodeListOffsetsResponse(s["listoffsets"])
	if err != nil || len(lo.topics) != 1 || lo.topics[0].partitions[0].offset != 42 {
		t.Errorf("ListOffsets: %+v, %v", lo, err)
	}

	for _, v := range []int16{10, 11} {
		name := "fetch.v10"
		if v == 11 {
			name = "fetch.v11"
		}
		f, err := decodeFetchResponse(s[name], v)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p := f.topics[0].partitions
		if len(p) != 2 || string(p[0].records) != "batch bytes" || p[0].highWatermark != 10 ||
			!reflect.DeepEqual(p[0].aborted, []abortedTransaction{{9, 4}}) ||
			p[1].records != nil || p[1].aborted != nil || p[1].errorCode != int16(ErrNotLeaderOrFollower) ||
			p[1].preferredReadReplica != -1 {
			t.Errorf("%s: %+v", name, f)
		}
	}
}

func TestApiVersionsUnsupportedVersionFallback(t *testing.T) {
	// A broker that does not serve our ApiVersions version answers in
	// version 0's layout, without throttle_time_ms.
	resp := &apiVersionsResponse{errorCode: int16(ErrUnsupportedVersion),
		versions: map[apiKey]versionRange{apiApiVersions: {0, 1}}}
	b := encodeApiVersionsResponse(resp, 0, []apiKey{apiApiVersions})
	got, err := decodeApiVersionsResponse(b, 2)
	var kerr *Error
	if !errors.As(err, &kerr) || kerr.Code != ErrUnsupportedVersion || got == nil ||
		got.versions[apiApiVersions] != (versionRange{0, 1}) {
		t.Fatalf("got %+v, %v; want UNSUPPORTED_VERSION with the broker's range", got, err)
	}
}

func TestPickVersions(t *testing.T) {
	broker := map[apiKey]versionRange{
		apiApiVersions: {0, 4}, apiSaslHandshake: {0, 1}, apiSaslAuthenticate: {0, 2},
		apiMetadata: {0, 12}, apiListOffsets: {1, 9}, apiFetch: {4, 17}, 19: {0, 7},
	}
	got, err := pickVersions(broker)
	want := map[apiKey]int16{apiApiVersions: 2, apiSaslHandshake: 1, apiSaslAuthenticate: 1,
		apiMetadata: 5, apiListOffsets: 2, apiFetch: 11}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, %v; want %v", got, err, want)
	}

	// A broker that serves Fetch only from v12 and has no SaslHandshake.
	broker[apiFetch] = versionRange{12, 17}
	delete(broker, apiSaslHandshake)
	_, err = pickVersions(broker)
	if err == nil || !strings.Contains(err.Error(), "Fetch (broker serves v12-v17, we speak v10-v11)") ||
		!strings.Contains(err.Error(), "SaslHandshake (not served)") {
		t.Fatalf("got %v; want both Fetch and SaslHandshake named", err)
	}
	// An older broker: Fetch v10 but not v11.
	broker[apiFetch] = versionRange{0, 10}
	broker[apiSaslHandshake] = versionRange{0, 1}
	if got, err := pickVersions(broker); err != nil || got[apiFetch] != 10 {
		t.Fatalf("got %v, %v; want Fetch v10", got, err)
	}
}

func TestErrorCodes(t *testing.T) {
	for code, name := range map[ErrorCode]string{0: "NONE", 1: "OFFSET_OUT_OF_RANGE", 3: "UNKNOWN_TOPIC_OR_PARTITION",
		5: "LEADER_NOT_AVAILABLE", 6: "NOT_LEADER_OR_FOLLOWER", 29: "TOPIC_AUTHORIZATION_FAILED",
		33: "UNSUPPORTED_SASL_MECHANISM", 35: "UNSUPPORTED_VERSION", 58: "SASL_AUTHENTICATION_FAILED",
		76: "UNSUPPORTED_COMPRESSION_TYPE", 999: "ERROR_CODE_999"} {
		if got := code.String(); got != name {
			t.Errorf("%d: %q, want %q", code, got, name)
		}
	}
	// A top-level Fetch error comes back as an *Error naming the API.
	b := encodeFetchResponse(&fetchResponse{errorCode: int16(ErrFetchSessionIDNotFound)}, 11)
	_, err := decodeFetchResponse(b, 11)
	var kerr *Error
	if !errors.As(err, &kerr) || kerr.Code != ErrFetchSessionIDNotFound || kerr.API != "Fetch" ||
		err.Error() != "kafka: Fetch: FETCH_SESSION_ID_NOT_FOUND (70)" {
		t.Fatalf("got %v", err)
	}
	if !errors.Is(err, ErrFetchSessionIDNotFound) || errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("errors.Is does not match %v by its code alone", err)
	}
	// A broker's SASL message is kept, on one line.
	b = encodeSaslAuthenticateResponse(&saslAuthenticateResponse{errorCode: int16(ErrSaslAuthenticationFailed),
		errorMessage: "bad\ntoken\r\x1b[31m"}, 1, false)
	_, err = decodeSaslAuthenticateResponse(b, 1)
	if !errors.As(err, &kerr) || kerr.Code != ErrSaslAuthenticationFailed || strings.ContainsAny(err.Error(), "\n\r\x1b") {
		t.Fatalf("got %q", err)
	}
}

func TestReadResponseFraming(t *testing.T) {
	mk := func(size, corr int32, body []byte) []byte {
		b := binary.BigEndian.AppendUint32(nil, uint32(size))
		b = binary.BigEndian.AppendUint32(b, uint32(corr))
		return append(b, body...)
	}
	body, err := readResponse(bytes.NewReader(mk(7, 5, []byte("abc"))), 100, 5)
	if err != nil || string(body) != "abc" {
		t.Fatalf("good frame: %q, %v", body, err)
	}
	for _, c := range []struct {
		name  string
		in    []byte
		limit int32
		want  string
	}{
		{"over the limit", mk(1<<30, 5, nil), 1 << 20, "larger than the limit of 1048576 bytes"},
		{"negative size", mk(-1, 5, nil), 100, "too small"},
		{"size below the header", mk(3, 5, nil), 100, "too small"},
		{"other correlation id", mk(7, 6, []byte("abc")), 100, "correlation id 6, want 5"},
		{"body cut short", mk(7, 5, []byte("ab")), 100, "reading response body"},
		{"size cut short", []byte{0, 0}, 100, "reading response size"},
	} {
		_, err := readResponse(bytes.NewReader(c.in), c.limit, 5)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}

// Every strict prefix of a valid response is refused by its decoder:
// none reads past the end, and none takes a short response as whole.
func TestResponsesTruncatedAtEveryByte(t *testing.T) {
	decoders := map[string]func([]byte) error{
		"apiversions.v0": func(b []byte) error { _, err := decodeApiVersionsResponse(b, 0); return err },
		"apiversions.v2": func(b []byte) error { _, err := decodeApiVersionsResponse(b, 2); return err },
		"saslhandshake":  func(b []byte) error { _, err := decodeSaslHandshakeResponse(b); return err },
		"saslauth.v0":    func(b []byte) error { _, err := decodeSaslAuthenticateResponse(b, 0); return err },
		"saslauth.v1":    func(b []byte) error { _, err := decodeSaslAuthenticateResponse(b, 1); return err },
		"metadata":       func(b []byte) error { _, err := decodeMetadataResponse(b); return err },
		"listoffsets":    func(b []byte) error { _, err := decodeListOffsetsResponse(b); return err },
		"fetch.v10":      func(b []byte) error { _, err := decodeFetchResponse(b, 10); return err },
		"fetch.v11":      func(b []byte) error { _, err := decodeFetchResponse(b, 11); return err },
	}
	for name, b := range sampleResponses() {
		dec := decoders[name]
		if err := dec(b); err != nil {
			t.Fatalf("%s: whole response refused: %v", name, err)
		}
		for i := range len(b) {
			if err := dec(b[:i:i]); err == nil {
				t.Errorf("%s: accepted when cut to %d of %d bytes", name, i, len(b))
			}
		}
		// One byte more is refused too: we asked for this layout.
		if err := dec(append(bytes.Clone(b), 0)); err == nil {
			t.Errorf("%s: accepted with a trailing byte", name)
		}
	}
}

// Negative lengths and counts where the schema allows none are refused.
func TestNegativeLengthsRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		b    string
		dec  func([]byte) error
	}{
		{"string length -2", "0000 00000001 fffe",
			func(b []byte) error { _, err := decodeSaslHandshakeResponse(b); return err }},
		{"null mechanism", "0000 00000001 ffff",
			func(b []byte) error { _, err := decodeSaslHandshakeResponse(b); return err }},
		{"mechanism count -1", "0000 ffffffff",
			func(b []byte) error { _, err := decodeSaslHandshakeResponse(b); return err }},
		{"auth bytes length -1", "0000 ffff ffffffff 0000000000000000",
			func(b []byte) error { _, err := decodeSaslAuthenticateResponse(b, 1); return err }},
		{"records length -2", "00000000 0000 00000000 00000001 0001 74 00000001 00000000 0000" +
			" 0000000000000000 0000000000000000 0000000000000000 ffffffff ffffffff fffffffe",
			func(b []byte) error { _, err := decodeFetchResponse(b, 11); return err }},
		{"aborted count -2", "00000000 0000 00000000 00000001 0001 74 00000001 00000000 0000" +
			" 0000000000000000 0000000000000000 0000000000000000 fffffffe ffffffff ffffffff",
			func(b []byte) error { _, err := decodeFetchResponse(b, 11); return err }},
		{"inverted version range", "0000 00000001 0001 000b 000a 00000000",
			func(b []byte) error { _, err := decodeApiVersionsResponse(b, 2); return err }},
	} {
		if err := c.dec(unhex(t, c.b)); err == nil {
			t.Errorf("%s: accepted", c.name)
		}
	}
}

// hugeCountResponses are 100-byte responses whose first array claims
// count elements, for every decoder with an array of structures.
func hugeCountResponses(count uint32) map[string]func() error {
	pad := func(b []byte) []byte { return append(b, make([]byte, 100-len(b))...) }
	n := binary.BigEndian.AppendUint32(nil, count)
	cat := func(parts ...[]byte) []byte { return pad(bytes.Join(parts, nil)) }
	fetchHead := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 't'}
	fetch := cat(fetchHead, n)
	fetchTopics := cat(fetchHead[:10], n)
	// throttle, no brokers, null cluster id, controller, one topic
	mdHead := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 't', 0}
	md := cat(mdHead, n)
	mdBrokers := cat([]byte{0, 0, 0, 0}, n)
	lo := cat([]byte{0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 't'}, n)
	av := cat([]byte{0, 0}, n)
	return map[string]func() error{
		"fetch partitions": func() error { _, err := decodeFetchResponse(fetch, 11); return err },
		"fetch topics":     func() error { _, err := decodeFetchResponse(fetchTopics, 11); return err },
		"metadata parts":   func() error { _, err := decodeMetadataResponse(md); return err },
		"metadata brokers": func() error { _, err := decodeMetadataResponse(mdBrokers); return err },
		"listoffsets":      func() error { _, err := decodeListOffsetsResponse(lo); return err },
		"apiversions":      func() error { _, err := decodeApiVersionsResponse(av, 2); return err },
	}
}

// A response claiming 2^31-1 (or a million) elements in 100 bytes is
// refused before anything is allocated for them: a few small allocations
// at most, and well under a megabyte in all.
func TestHugeCountsNotAllocated(t *testing.T) {
	for _, count := range []uint32{1<<31 - 1, 1_000_000} {
		for name, dec := range hugeCountResponses(count) {
			if err := dec(); err == nil || !errors.Is(err, errShort) {
				t.Errorf("%s claiming %d: got %v, want a truncation error", name, count, err)
				continue
			}
			if allocs := testing.AllocsPerRun(20, func() { _ = dec() }); allocs > 32 {
				t.Errorf("%s claiming %d: %v allocations per decode", name, count, allocs)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range 10 {
				_ = dec()
			}
			runtime.ReadMemStats(&after)
			if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
				t.Errorf("%s claiming %d: %d bytes allocated for 10 decodes", name, count, got)
			}
		}
	}
}

// A request over the limits of its fields, or in a version the codec
// does not lay out, is refused, not written wrong.
func TestRequestRefusedRatherThanMisframed(t *testing.T) {
	long := strings.Repeat("x", 1<<15)
	if _, err := appendRequest(nil, 1, long, newApiVersionsRequest()); err == nil {
		t.Error("a client id of 32768 bytes was written")
	}
	if _, err := appendRequest(nil, 1, "c", metadataRequest{topics: []string{long}}); err == nil {
		t.Error("a topic name of 32768 bytes was written")
	}
	// A version the codec does not lay out is refused, not framed wrong.
	for _, req := range []request{fetchRequest{v: 12}, fetchRequest{v: 9}, saslAuthenticateRequest{v: 2}} {
		if _, err := appendRequest(nil, 1, "c", req); err == nil {
			t.Errorf("%s v%d was written", req.key(), req.version())
		}
	}
	if err := writeRequest(io.Discard, 1, "c", saslHandshakeRequest{mechanism: "PLAIN"}); err != nil {
		t.Error(err)
	}
}

// Responses a real broker implementation wrote decode to what was asked
// and produced, and every strict prefix of each is refused.
func TestKafkapeerFixtures(t *testing.T) {
	const topic = "gcn.classic.voevent.TEST"
	av, err := decodeApiVersionsResponse(readWireFixture(t, "apiversions-v2.bin"), 2)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := pickVersions(av.versions); err != nil || v[apiFetch] != 11 {
		t.Errorf("versions %v, %v", v, err)
	}
	hs, err := decodeSaslHandshakeResponse(readWireFixture(t, "saslhandshake-v1.bin"))
	if err != nil || !slices.Equal(hs.mechanisms, []string{"PLAIN"}) {
		t.Errorf("SaslHandshake %+v, %v", hs, err)
	}
	if sa, err := decodeSaslAuthenticateResponse(readWireFixture(t, "saslauthenticate-v1.bin"), 1); err != nil ||
		sa.sessionLifetimeMs != 0 {
		t.Errorf("SaslAuthenticate %+v, %v", sa, err)
	}
	md, err := decodeMetadataResponse(readWireFixture(t, "metadata-v5.bin"))
	if err != nil || len(md.brokers) != 1 || md.brokers[0].host != "127.0.0.1" || len(md.topics) != 2 ||
		md.topics[0].name != topic || len(md.topics[0].partitions) != 1 || md.topics[0].partitions[0].leader != 0 ||
		md.topics[1].errorCode != int16(ErrUnknownTopicOrPartition) {
		t.Errorf("Metadata %+v, %v", md, err)
	}
	lo, err := decodeListOffsetsResponse(readWireFixture(t, "listoffsets-v2.bin"))
	if err != nil || lo.topics[0].partitions[0].offset != 2 {
		t.Errorf("ListOffsets %+v, %v", lo, err)
	}
	// Two VOEvents produced in one zstd batch.
	fr, err := decodeFetchResponse(readWireFixture(t, "fetch-v11.bin"), 11)
	if err != nil {
		t.Fatal(err)
	}
	p := fr.topics[0].partitions[0]
	if fr.topics[0].name != topic || p.errorCode != 0 || p.highWatermark != 2 || p.lastStableOffset != 2 ||
		p.logStartOffset != 0 || p.aborted != nil || p.preferredReadReplica != -1 || len(p.records) != 2348 {
		t.Errorf("Fetch partition %+v", p)
	}
	// The records are one batch: base offset 0, its length the rest, magic 2, codec zstd.
	if r := p.records; len(r) < 23 || binary.BigEndian.Uint64(r) != 0 ||
		int(binary.BigEndian.Uint32(r[8:]))+12 != len(r) || r[16] != 2 || r[22]&7 != 4 {
		t.Errorf("records do not start with one whole zstd batch: % x", p.records[:min(len(p.records), 32)])
	}

	decoders := map[string]func([]byte) error{
		"apiversions-v2.bin":      func(b []byte) error { _, err := decodeApiVersionsResponse(b, 2); return err },
		"saslhandshake-v1.bin":    func(b []byte) error { _, err := decodeSaslHandshakeResponse(b); return err },
		"saslauthenticate-v1.bin": func(b []byte) error { _, err := decodeSaslAuthenticateResponse(b, 1); return err },
		"metadata-v5.bin":         func(b []byte) error { _, err := decodeMetadataResponse(b); return err },
		"listoffsets-v2.bin":      func(b []byte) error { _, err := decodeListOffsetsResponse(b); return err },
		"fetch-v11.bin":           func(b []byte) error { _, err := decodeFetchResponse(b, 11); return err },
	}
	for name, dec := range decoders {
		b := readWireFixture(t, name)
		for i := range len(b) {
			if dec(b[:i:i]) == nil {
				t.Errorf("%s: accepted when cut to %d of %d bytes", name, i, len(b))
			}
		}
	}
}

// readWireFixture reads a response body kafkapeer (franz-go's kfake,
// with real franz-go producer batches) sent to this codec's requests,
// captured once into testdata/wire so the test needs no peer.
func readWireFixture(t testing.TB, name string) []byte {
	return readFixture(t, filepath.Join("wire", name))
}

// Kafka 2.0 and 2.1 advertise OffsetForLeaderEpoch (23) with its minimum
// above its maximum in some builds: an API the consumer never uses must
// not make it refuse the broker, while an inverted range of one it uses
// still does (above).
func TestInvertedRangeOfUnusedAPIIgnored(t *testing.T) {
	resp, err := decodeApiVersionsResponse(unhex(t, "0000 00000002 0017 0003 0002 0001 000a 000b 00000000"), 2)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	if got := resp.versions[apiFetch]; got != (versionRange{10, 11}) {
		t.Errorf("Fetch versions %v, want 10-11", got)
	}
}
