// Package kafka is a fetch-only Kafka consumer, so that comet can take
// VOEvents from a Kafka cluster (GCN publishes its alerts only there)
// with the standard library alone. It does not produce, and it does not
// join consumer groups: a Source reads the topic-partitions it is given
// and keeps their positions in a file of its own.
//
// What is in it, by file:
//
//   - source.go: the API: Config, Verdict, From, Status.
//   - consumer.go, fetch.go: the Source. One goroutine per broker that
//     leads any of its partitions long-polls them (a fetch is answered
//     as soon as a record arrives, or after 20 s); each record's value
//     goes to Config.Submit, and a position moves past a record only
//     once its verdict is final (accepted, duplicate or refused). Leader
//     moves, lost connections and unknown topics end a round, which
//     starts again from metadata after a backoff. A batch that fails
//     its checksum is fetched again twice, then passed over, with an
//     error in the log.
//   - cluster.go: metadata, topic prefixes (PREFIX*), ListTopics.
//   - conn.go: one broker connection: TLS, the versions the broker
//     serves, SASL, and authenticating again before the session the
//     broker granted runs out.
//   - offsets.go: the positions file, written whole and renamed, with a
//     checksum; a damaged one is refused, never taken as empty.
//   - wire.go, wire_msgs.go: request and response framing and the
//     bounds-checked reader and writer of Kafka's primitive types
//     (wire.go); the requests and responses of ApiVersions,
//     SaslHandshake, SaslAuthenticate, Metadata, ListOffsets and Fetch,
//     in the non-flexible versions the consumer uses (wire_msgs.go).
//   - batch.go, codec.go: record batches (magic 2) with their CRC-32C
//     checked, and their codecs: none, gzip and zstd (the standard
//     library's decoder, reached through debug/elf), each with its
//     output bounded.
//   - sasl.go, token.go, creds.go: SASL PLAIN, SCRAM-SHA-256/512 and
//     OAUTHBEARER; OAuth client-credentials tokens, renewed at 80% of
//     their life; the credentials file.
//
// Every length a peer sends is checked against what is left of its
// message before anything is allocated; a response is refused beyond a
// bound fixed by the fetch size, and a batch's decompressed output is
// bounded too.
//
// Its limits: Fetch v10-v11 only (the first that carry zstd), so Kafka
// 2.1 or newer; snappy and lz4 batches are refused, with one error per
// partition. It reads committed records only, as librdkafka's consumers
// do by default: records of aborted transactions are left out, and those
// of open ones wait for their commit.
package kafka
