package kafka

import (
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
)

// Record is one record taken from a partition: what the consumer hands on
// (the value is the VOEvent document) and what it keeps to know where it
// is (the offset).
type Record struct {
	// Offset is the record's position in its partition.
	Offset int64
	// Timestamp is in milliseconds since the Unix epoch: the producer's
	// time, or the broker's when the topic keeps log-append time.
	Timestamp int64
	// Key and Value are nil when the producer sent null. They share
	// memory with the fetched or decompressed bytes.
	Key, Value []byte
	// Headers is how many headers the record carried; they are checked
	// but not kept, as VOEvent carries everything in its value.
	Headers int
	// producer is the id of the producer that wrote the record in a
	// transaction, or -1 outside one: what tells a record of an aborted
	// transaction.
	producer int64
}

// fetched is what decodeRecords makes of one partition's records bytes.
type fetched struct {
	// records are the data records at or above the fetch offset, in
	// offset order.
	records []Record
	// next is where to fetch from next: one past the last offset of the
	// last batch decoded (control batches, empty batches and batches
	// whose records all lie below the fetch offset included), or the
	// start of the batch decoding stopped at; never below the fetch
	// offset.
	next int64
	// controlBatches counts the transaction markers skipped at or above
	// the fetch offset.
	controlBatches int
	// markers are the transaction markers (control batches) met, each
	// ending its producer's transaction, in offset order.
	markers []marker
	// partial is true when the bytes ended inside a batch (a broker cuts
	// the last batch at the fetch's byte limit) or decoding stopped before
	// a batch because the output budget was spent; fetching from next
	// gets the rest.
	partial bool
}

// batchError says why a batch was refused and where it lies, so that
// the consumer can log one line and decide whether to skip it: resume is
// the offset after the batch when its checksum held (the batch's offsets
// are then the producer's and broker's own), or -1 when nothing in the
// batch can be trusted.
type batchError struct {
	base   int64
	resume int64
	// claimed is the offset after the batch as its header says, whether
	// or not the checksum held (-1 if the header says nothing sane): a
	// guess, for a consumer that gives up fetching a damaged batch again.
	claimed int64
	err     error
}

func (e *batchError) Error() string {
	return fmt.Sprintf("record batch at offset %d: %v", e.base, e.err)
}

func (e *batchError) Unwrap() error { return e.err }

// batchHeaderSize is the size of a magic-2 batch's header after its
// baseOffset and batchLength fields.
const batchHeaderSize = 49

// minRecordSize is the fewest bytes one record can take (length,
// attributes, timestamp delta, offset delta, key length, value length,
// header count, each at least one byte); a batch claiming more records
// than its bytes could hold is refused before anything is allocated.
const minRecordSize = 7

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// decodeRecords decodes the records bytes of one partition of a Fetch
// response, as a consumer that asked for fetchOffset needs them. maxOut
// bounds the record bytes of the batches decoded in the call, compressed
// or not, so that what one fetch can make the broker hold does not
// depend on how well a hostile payload compresses, and a message's fate
// does not depend on whether its producer chose to compress it: a batch
// that would take more than what earlier batches left ends decoding
// early (fetching again from next gets it with the whole budget), and
// one that alone would take more than maxOut is refused.
//
// On error, the result holds the records of the batches before the
// refused one and next is that batch's start (or the fetch offset, if
// later); the error is a *batchError.
func decodeRecords(b []byte, fetchOffset int64, maxOut int) (fetched, error) {
	res := fetched{next: fetchOffset}
	budget := maxOut
	for len(b) > 0 {
		if len(b) < 12 {
			res.partial = true
			return res, nil
		}
		base := int64(binary.BigEndian.Uint64(b))
		length := int32(binary.BigEndian.Uint32(b[8:]))
		if length < 0 {
			return res, &batchError{base: base, resume: -1, err: fmt.Errorf("negative batch length %d", length)}
		}
		if int64(len(b)-12) < int64(length) {
			res.partial = true
			return res, nil
		}
		batch := b[12 : 12+int(length)]
		b = b[12+int(length):]
		if len(batch) >= 5 && batch[4] != 2 {
			return res, &batchError{base: base, resume: -1, err: fmt.Errorf("message format magic %d (Kafka before 0.11) is not supported: only magic 2", int8(batch[4]))}
		}
		if len(batch) < batchHeaderSize {
			return res, &batchError{base: base, resume: -1, err: fmt.Errorf("batch of %d bytes is shorter than its header", length)}
		}
		// Records below next were handed on from an earlier batch of
		// this answer or lie below the fetch offset: a batch repeated or
		// overlapping, which only a faulty broker sends, yields nothing
		// twice.
		recs, last, spent, err := decodeBatch(base, batch, res.next, budget)
		if err != nil {
			if errors.Is(err, errOverLimit) && budget < maxOut {
				res.partial = true
				return res, nil
			}
			resume, claimed := int64(-1), int64(-1)
			if last >= 0 {
				resume = last + 1
			}
			if d := int64(int32(binary.BigEndian.Uint32(batch[11:]))); base >= 0 && d >= 0 && base < math.MaxInt64-d {
				claimed = base + d + 1
			}
			return res, &batchError{base: base, resume: resume, claimed: claimed, err: err}
		}
		budget -= spent
		if isControl(batch) {
			res.markers = append(res.markers, marker{offset: base, producer: int64(binary.BigEndian.Uint64(batch[31:]))})
			if last >= res.next {
				res.controlBatches++
			}
		}
		res.records = append(res.records, recs...)
		if last+1 > res.next {
			res.next = last + 1
		}
	}
	return res, nil
}

// marker is a transaction marker: where it lies and whose transaction
// it ends.
type marker struct {
	offset, producer int64
}

// dropAborted removes from recs the records of aborted transactions, as
// a read_committed consumer must: aborted lists, for each such
// transaction the answer touches, its producer and first offset (from
// the fetch answer), and a producer's transaction ends at its next
// marker. recs and markers are in offset order.
func dropAborted(recs []Record, markers []marker, aborted []abortedTransaction) []Record {
	if len(aborted) == 0 {
		return recs
	}
	aborted = slices.Clone(aborted)
	slices.SortFunc(aborted, func(a, b abortedTransaction) int { return cmp.Compare(a.firstOffset, b.firstOffset) })
	open := map[int64]bool{}
	out := recs[:0]
	for _, r := range recs {
		for len(markers) > 0 && markers[0].offset < r.Offset || len(aborted) > 0 && aborted[0].firstOffset <= r.Offset {
			// Whichever comes first: a transaction that starts, or a marker.
			if len(aborted) > 0 && (len(markers) == 0 || aborted[0].firstOffset <= markers[0].offset) {
				open[aborted[0].producerID] = true
				aborted = aborted[1:]
			} else {
				delete(open, markers[0].producer)
				markers = markers[1:]
			}
		}
		if r.producer >= 0 && open[r.producer] {
			continue
		}
		out = append(out, r)
	}
	return out
}

func isControl(batch []byte) bool {
	return binary.BigEndian.Uint16(batch[9:])&0x20 != 0
}

// decodeBatch decodes one magic-2 batch (the bytes after batchLength).
// It returns the records at or above fetchOffset, the batch's last
// offset (-1 when the checksum failed, so that nothing in it is trusted),
// and how many decompressed bytes it used.
func decodeBatch(base int64, batch []byte, fetchOffset int64, budget int) ([]Record, int64, int, error) {
	be := binary.BigEndian
	want := be.Uint32(batch[5:])
	if got := crc32.Checksum(batch[9:], castagnoli); got != want {
		return nil, -1, 0, fmt.Errorf("CRC-32C %08x, header says %08x: damaged", got, want)
	}
	attrs := be.Uint16(batch[9:])
	lastDelta := int32(be.Uint32(batch[11:]))
	if base < 0 || lastDelta < 0 || base > math.MaxInt64-int64(lastDelta)-1 {
		return nil, -1, 0, fmt.Errorf("offsets out of range (base %d, last delta %d)", base, lastDelta)
	}
	last := base + int64(lastDelta)
	baseTime := int64(be.Uint64(batch[15:]))
	maxTime := int64(be.Uint64(batch[23:]))
	count := int32(be.Uint32(batch[45:]))
	if attrs&0x20 != 0 {
		return nil, last, 0, nil
	}
	if last < fetchOffset {
		return nil, last, 0, nil
	}
	c := codec(attrs & 7)
	data, err := decompress(c, batch[batchHeaderSize:], budget)
	if err != nil {
		return nil, last, 0, err
	}
	spent := len(data)
	if count < 0 || int64(count) > int64(len(data)/minRecordSize) {
		return nil, last, spent, fmt.Errorf("%d records claimed in %d bytes", count, len(data))
	}
	logAppend := attrs&0x08 != 0
	producer := int64(-1)
	if attrs&0x10 != 0 {
		producer = int64(be.Uint64(batch[31:]))
	}
	recs := make([]Record, 0, count)
	prev := int64(-1)
	for i := int32(0); i < count; i++ {
		var r Record
		var delta, offDelta int64
		var n int
		if r, delta, offDelta, n, err = decodeRecord(data); err != nil {
			return nil, last, spent, fmt.Errorf("record %d: %w", i, err)
		}
		data = data[n:]
		if offDelta < 0 || offDelta > int64(lastDelta) || offDelta <= prev {
			return nil, last, spent, fmt.Errorf("record %d: offset delta %d outside the batch's 0..%d or not increasing", i, offDelta, lastDelta)
		}
		prev = offDelta
		r.Offset = base + offDelta
		r.producer = producer
		r.Timestamp = baseTime + delta
		if logAppend {
			r.Timestamp = maxTime
		}
		if r.Offset >= fetchOffset {
			recs = append(recs, r)
		}
	}
	if len(data) != 0 {
		return nil, last, spent, fmt.Errorf("%d bytes after the batch's %d records", len(data), count)
	}
	return recs, last, spent, nil
}

// decodeRecord decodes the record at the start of b, returning it with
// its timestamp and offset deltas and the bytes it took. Every length is
// checked against what is left of the record before it is used.
func decodeRecord(b []byte) (r Record, tsDelta, offDelta int64, n int, err error) {
	size, k := binary.Varint(b)
	if k <= 0 {
		return r, 0, 0, 0, errors.New("bad length varint")
	}
	if size < 0 || size > int64(len(b)-k) {
		return r, 0, 0, 0, fmt.Errorf("length %d with %d bytes left", size, len(b)-k)
	}
	n = k + int(size)
	rb := b[k:n]
	if len(rb) < 1 {
		return r, 0, 0, 0, errors.New("empty record")
	}
	rb = rb[1:] // attributes: unused by magic 2
	if tsDelta, rb, err = varlong(rb, "timestamp delta"); err != nil {
		return r, 0, 0, 0, err
	}
	if offDelta, rb, err = varint32(rb, "offset delta"); err != nil {
		return r, 0, 0, 0, err
	}
	if r.Key, rb, err = nullableBytes(rb, "key"); err != nil {
		return r, 0, 0, 0, err
	}
	if r.Value, rb, err = nullableBytes(rb, "value"); err != nil {
		return r, 0, 0, 0, err
	}
	var h int64
	if h, rb, err = varint32(rb, "header count"); err != nil {
		return r, 0, 0, 0, err
	}
	if h < 0 || h > int64(len(rb)/2) {
		return r, 0, 0, 0, fmt.Errorf("%d headers in %d bytes", h, len(rb))
	}
	for i := int64(0); i < h; i++ {
		var key []byte
		if key, rb, err = nullableBytes(rb, "header key"); err != nil {
			return r, 0, 0, 0, err
		}
		if key == nil {
			return r, 0, 0, 0, fmt.Errorf("header %d: null key", i)
		}
		if _, rb, err = nullableBytes(rb, "header value"); err != nil {
			return r, 0, 0, 0, err
		}
	}
	if len(rb) != 0 {
		return r, 0, 0, 0, fmt.Errorf("%d bytes left inside the record", len(rb))
	}
	r.Headers = int(h)
	return r, tsDelta, offDelta, n, nil
}

func varlong(b []byte, what string) (int64, []byte, error) {
	v, k := binary.Varint(b)
	if k <= 0 {
		return 0, b, fmt.Errorf("bad %s varint", what)
	}
	return v, b[k:], nil
}

// varint32 reads a zigzag varint that Kafka defines as 32-bit.
func varint32(b []byte, what string) (int64, []byte, error) {
	v, rest, err := varlong(b, what)
	if err == nil && (v < math.MinInt32 || v > math.MaxInt32) {
		err = fmt.Errorf("%s %d out of 32-bit range", what, v)
	}
	return v, rest, err
}

// nullableBytes reads a varint length (-1 for null) and that many bytes.
func nullableBytes(b []byte, what string) ([]byte, []byte, error) {
	l, rest, err := varint32(b, what+" length")
	if err != nil {
		return nil, b, err
	}
	if l == -1 {
		return nil, rest, nil
	}
	if l < 0 || l > int64(len(rest)) {
		return nil, b, fmt.Errorf("%s length %d with %d bytes left", what, l, len(rest))
	}
	return rest[:l:l], rest[l:], nil
}
