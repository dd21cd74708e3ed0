package journal

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"

	"comet/internal/storedir"
	"comet/seen"
)

// Journal file layout; see the package documentation ("On disk").
const (
	journalMagic   = "COMETJN\x00"
	journalIDName  = "journal.id"
	journalIDTmp   = journalIDName + ".tmp"
	segPrefix      = "journal-"
	segSuffix      = ".seg"
	jHeaderSize    = 56 // length 4 + seq 8 + Unix nanoseconds 8 + key 32 + CRC-32C 4
	idSize         = 16
	idFileSize     = idSize + 4 // the identity and its CRC-32C
	maxJournalBody = 1 << 30    // no frame the broker accepts comes near
)

// Record is one event as the journal holds it.
type Record struct {
	Seq      uint64
	Received int64    // Unix nanoseconds
	Key      seen.Key // the event's seen-store key
	Raw      []byte   // the frame's payload as received
}

// appendRecord appends the record of raw, whose seen-store key is
// key, received at unixNano with sequence number seq: a 56-byte header
// (big-endian uint32 length of raw, uint64 seq, int64 Unix nanoseconds,
// the 32-byte key, CRC-32C of those 52 bytes and raw), then raw. The key
// lets Open restore a seen record that a crash kept from being written
// after its journal record was (see [Journal.Recent]).
func appendRecord(dst []byte, seq uint64, unixNano int64, key *seen.Key, raw []byte) []byte {
	start := len(dst)
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(raw)))
	dst = binary.BigEndian.AppendUint64(dst, seq)
	dst = binary.BigEndian.AppendUint64(dst, uint64(unixNano))
	dst = append(dst, key[:]...)
	crc := storedir.CRC(dst[start : start+52])
	crc = storedir.CRCUpdate(crc, raw)
	dst = binary.BigEndian.AppendUint32(dst, crc)
	return append(dst, raw...)
}

// journalHead is a decoded record header.
type journalHead struct {
	length   uint32
	seq      uint64
	unixNano int64
	key      seen.Key
	crc      uint32
}

// decodeJournalHead reads the header at the start of b, which must hold
// jHeaderSize bytes. ok is false for a length no record can have.
func decodeJournalHead(b []byte) (h journalHead, ok bool) {
	h.length = binary.BigEndian.Uint32(b[0:4])
	h.seq = binary.BigEndian.Uint64(b[4:12])
	h.unixNano = int64(binary.BigEndian.Uint64(b[12:20]))
	copy(h.key[:], b[20:52])
	h.crc = binary.BigEndian.Uint32(b[52:56])
	return h, h.length <= maxJournalBody && h.seq != 0
}

// checks reports whether body, the h.length bytes after the header hb,
// match the header's checksum.
func (h journalHead) checks(hb, body []byte) bool {
	return storedir.CRCUpdate(storedir.CRC(hb[:52]), body) == h.crc
}

// segName is the file name of the segment whose first record is seq first:
// zero-padded so that names sort as numbers.
func segName(first uint64) string {
	return fmt.Sprintf("%s%020d%s", segPrefix, first, segSuffix)
}

// parseSegName returns the first sequence number a segment file name
// holds, or false for a name that is not a segment's.
func parseSegName(name string) (uint64, bool) {
	rest, ok := strings.CutPrefix(name, segPrefix)
	if !ok {
		return 0, false
	}
	digits, ok := strings.CutSuffix(rest, segSuffix)
	if !ok || len(digits) != 20 {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n == 0 {
		return 0, false
	}
	return n, true
}
