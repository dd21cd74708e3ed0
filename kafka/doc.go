// Package kafka is the client side of the small part of the Kafka
// protocol a fetch-only consumer needs, so that comet can take VOEvents
// from a Kafka cluster (GCN publishes its alerts only there) with the
// standard library alone. It does not produce, and it does not join
// consumer groups: it fetches assigned topic-partitions and leaves
// keeping positions to its caller.
//
// What is in it, by file:
//
//   - wire.go, wire_msgs.go: request and response framing and the
//     bounds-checked reader and writer of Kafka's primitive types
//     (wire.go); the requests and responses of ApiVersions,
//     SaslHandshake, SaslAuthenticate, Metadata, ListOffsets and Fetch,
//     in the non-flexible versions the consumer uses (wire_msgs.go).
//   - batch.go, codec.go: record batches (magic 2) with their CRC-32C
//     checked, and their codecs: none, gzip and zstd, each with its
//     output bounded.
//   - sasl.go, token.go, creds.go: SASL PLAIN, SCRAM-SHA-256/512 and
//     OAUTHBEARER; OAuth client-credentials tokens; the credentials file.
//
// Every length a peer sends is checked against what is left of its
// message before anything is allocated.
//
// Its limits today: these are the consumer's parts, each tested on its
// own, against recorded fixtures and against a local cluster; the
// consumer that joins them (connections, metadata, the fetch loop,
// stored offsets) and its wiring into the broker are not written yet, so
// nothing in the broker imports this package.
package kafka
