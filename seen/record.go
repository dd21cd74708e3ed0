package seen

import (
	"crypto/sha256"
	"encoding/binary"
	"math"

	"comet/internal/storedir"
)

// Key identifies an event: the SHA-256 of the bytes of the
// <VOEvent>…</VOEvent> element.
type Key [32]byte

// KeyOf hashes an event's VOEvent element span: the bytes from the '<' of
// the VOEvent start tag to the '>' of its end tag.
func KeyOf(span []byte) Key {
	return Key(sha256.Sum256(span))
}

// File layout constants; see the package documentation.
const (
	logName  = "seen.log"
	lockName = "seen.lock"
	tmpName  = logName + ".compact.tmp"
	// corruptName starts the name of a damaged log's copy, which
	// storedir.KeepCopy makes: corruptName + <unix time>[.n].
	corruptName = logName + ".corrupt-"

	magic      = "COMETSN\x00"
	headerSize = storedir.HeaderSize
	recordSize = 44 // key 32 + int64 seconds 8 + CRC-32C 4
)

// header returns the 16-byte file header of seen.log.
func header() []byte { return storedir.Header(magic) }

// checkHeader classifies b, the first min(len(file), headerSize) bytes of
// a log, and returns the version it names when the header is intact.
func checkHeader(b []byte) (storedir.HeaderState, uint32) { return storedir.CheckHeader(b, magic) }

// appendRecord appends the 44-byte record of key recorded at unix seconds.
func appendRecord(dst []byte, key *Key, unix int64) []byte {
	start := len(dst)
	dst = append(dst, key[:]...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(unix))
	return binary.BigEndian.AppendUint32(dst, storedir.CRC(dst[start:]))
}

// decodeRecord decodes the record at the start of b. ok is false when b is
// shorter than a record, its checksum does not match, or its time cannot
// be a time this package wrote (not in 1..2^32-1 Unix seconds).
func decodeRecord(b []byte) (key Key, unix int64, ok bool) {
	if len(b) < recordSize {
		return key, 0, false
	}
	b = b[:recordSize]
	if binary.BigEndian.Uint32(b[40:44]) != storedir.CRC(b[:40]) {
		return key, 0, false
	}
	unix = int64(binary.BigEndian.Uint64(b[32:40]))
	if unix < 1 || unix > math.MaxUint32 {
		return key, 0, false
	}
	copy(key[:], b[:32])
	return key, unix, true
}
