package seen

import (
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
	"math"
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
	logName     = "seen.log"
	lockName    = "seen.lock"
	tmpName     = logName + ".compact.tmp"
	corruptName = logName + ".corrupt-"

	magic      = "COMETSN\x00"
	version    = 1
	headerSize = 16
	recordSize = 44 // key 32 + int64 seconds 8 + CRC-32C 4
)

// castagnoli is CRC-32C: hardware-accelerated on amd64 and arm64, and
// better at detecting the burst errors of storage than IEEE CRC-32.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// header returns the 16-byte file header of seen.log.
func header() []byte { return headerFor(magic) }

// headerFor returns a 16-byte file header with the 8-byte magic m: the
// seen log's and the journal segments' differ only in it.
func headerFor(m string) []byte {
	h := make([]byte, headerSize)
	copy(h, m)
	binary.BigEndian.PutUint32(h[8:12], version)
	binary.BigEndian.PutUint32(h[12:16], crc32.Checksum(h[:12], castagnoli))
	return h
}

// headerState classifies the first bytes of a log file.
type headerState int

const (
	headerOK             headerState = iota
	headerTorn                       // shorter than a header but a prefix of ours: a crash at creation
	headerDamaged                    // not our header
	headerUnknownVersion             // ours, but a version this program does not know
)

// checkHeader classifies b, the first min(len(file), headerSize) bytes of
// a log, and returns the version it names when the header is intact.
func checkHeader(b []byte) (headerState, uint32) { return checkHeaderFor(b, magic) }

// checkHeaderFor is checkHeader for a file whose magic is m.
func checkHeaderFor(b []byte, m string) (headerState, uint32) {
	want := headerFor(m)
	if len(b) < headerSize {
		if string(b) == string(want[:len(b)]) {
			return headerTorn, 0
		}
		return headerDamaged, 0
	}
	b = b[:headerSize]
	if string(b[:8]) != m || binary.BigEndian.Uint32(b[12:16]) != crc32.Checksum(b[:12], castagnoli) {
		return headerDamaged, 0
	}
	v := binary.BigEndian.Uint32(b[8:12])
	if v != version {
		return headerUnknownVersion, v
	}
	return headerOK, v
}

// appendRecord appends the 44-byte record of key recorded at unix seconds.
func appendRecord(dst []byte, key *Key, unix int64) []byte {
	start := len(dst)
	dst = append(dst, key[:]...)
	dst = binary.BigEndian.AppendUint64(dst, uint64(unix))
	return binary.BigEndian.AppendUint32(dst, crc32.Checksum(dst[start:], castagnoli))
}

// decodeRecord decodes the record at the start of b. ok is false when b is
// shorter than a record, its checksum does not match, or its time cannot
// be a time this package wrote (not in 1..2^32-1 Unix seconds).
func decodeRecord(b []byte) (key Key, unix int64, ok bool) {
	if len(b) < recordSize {
		return key, 0, false
	}
	b = b[:recordSize]
	if binary.BigEndian.Uint32(b[40:44]) != crc32.Checksum(b[:40], castagnoli) {
		return key, 0, false
	}
	unix = int64(binary.BigEndian.Uint64(b[32:40]))
	if unix < 1 || unix > math.MaxUint32 {
		return key, 0, false
	}
	copy(key[:], b[:32])
	return key, unix, true
}

func crcOf(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

func crcUpdate(crc uint32, b []byte) uint32 { return crc32.Update(crc, castagnoli, b) }
