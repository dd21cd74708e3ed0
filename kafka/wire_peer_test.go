package kafka

import (
	"net/http"
	"strings"
	"testing"
)

// TestAgainstKafkapeer speaks every request of this codec to a real
// broker implementation over a socket: the broker must understand each
// request, and each of its answers must decode.
func TestAgainstKafkapeer(t *testing.T) {
	peer := startKafkapeer(t, kafkapeer(t), peerOpts{sasl: MechPlain, username: "u", password: "p"})
	const topic = peerTopic
	resp, err := http.Post(peer.control+"/produce?topic="+topic+"&compression=none", "application/octet-stream",
		strings.NewReader("<voe:VOEvent/>"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("produce: %s", resp.Status)
	}

	c := peer.dial(t)

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
