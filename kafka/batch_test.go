package kafka

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"testing"
)

const testMaxOut = 1 << 20

// ivornOf returns the fragment of a test VOEvent's IVORN, which names
// what produced it.
func ivornOf(t *testing.T, v []byte) string {
	t.Helper()
	_, rest, ok := bytes.Cut(v, []byte(`ivorn="ivo://nasa.gsfc.gcn/TEST#`))
	frag, _, ok2 := bytes.Cut(rest, []byte(`"`))
	if !ok || !ok2 {
		t.Fatalf("no test IVORN in %.80q", v)
	}
	return string(frag)
}

type wantRecord struct {
	offset int64
	ivorn  string
	key    string // "" for a null key
}

func checkRecords(t *testing.T, got []Record, want []wantRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		r := got[i]
		if r.Offset != w.offset || ivornOf(t, r.Value) != w.ivorn || string(r.Key) != w.key || (w.key == "") != (r.Key == nil) {
			t.Errorf("record %d: offset %d, ivorn %s, key %q; want %d, %s, %q", i, r.Offset, ivornOf(t, r.Value), r.Key, w.offset, w.ivorn, w.key)
		}
		if r.Timestamp < 1.7e12 || r.Timestamp > 2e12 {
			t.Errorf("record %d: timestamp %d is not a time of this century in ms", i, r.Timestamp)
		}
	}
}

func zstdBatchRecords() []wantRecord {
	w := []wantRecord{{0, "zstd_1", "k1"}, {1, "zstd_2", "k2"}, {2, "zstd_3", "k3"}}
	for i := 0; i < 5; i++ {
		w = append(w, wantRecord{int64(3 + i), fmt.Sprintf("zbatch_%d", i), ""})
	}
	return w
}

// Batches franz-go's producer compressed with zstd (three of one record,
// one of five), as kafkapeer's broker served them to a Fetch v11.
func TestFranzZstdFixture(t *testing.T) {
	res, err := decodeRecords(readFixture(t, "franz-zstd.bin"), 0, testMaxOut)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, res.records, zstdBatchRecords())
	if res.next != 8 || res.partial || res.controlBatches != 0 {
		t.Errorf("next %d, partial %v, control %d; want 8, false, 0", res.next, res.partial, res.controlBatches)
	}
}

// The same batches compressed with gzip.
func TestFranzGzipFixture(t *testing.T) {
	res, err := decodeRecords(readFixture(t, "franz-gzip.bin"), 0, testMaxOut)
	if err != nil {
		t.Fatal(err)
	}
	want := []wantRecord{{0, "gzip_1", ""}, {1, "gzip_2", ""}}
	for i := 0; i < 5; i++ {
		want = append(want, wantRecord{int64(2 + i), fmt.Sprintf("gbatch_%d", i), ""})
	}
	checkRecords(t, res.records, want)
	if res.next != 7 {
		t.Errorf("next %d, want 7", res.next)
	}
}

// Uncompressed batches.
func TestFranzNoneFixture(t *testing.T) {
	res, err := decodeRecords(readFixture(t, "franz-none.bin"), 0, testMaxOut)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, res.records, []wantRecord{{0, "none_1", ""}, {1, "none_2", ""}})
	if res.next != 2 {
		t.Errorf("next %d, want 2", res.next)
	}
}

// librdkafka (kcat -z zstd) batches: one record holding four lines, then
// four records keyed "key" with one header each, compressed in frames
// that declare no content size.
func TestKcatZstdFixture(t *testing.T) {
	b := readFixture(t, "kcat-zstd.bin")
	// The second batch's payload is a zstd frame without a content size.
	second := b[12+binary.BigEndian.Uint32(b[8:]):]
	if frame := second[12+batchHeaderSize:]; zstdHasContentSize(frame) {
		t.Error("the librdkafka fixture's frame declares its content size")
	}
	res, err := decodeRecords(b, 0, testMaxOut)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.records) != 5 || res.next != 5 {
		t.Fatalf("%d records, next %d; want 5, 5", len(res.records), res.next)
	}
	if n := bytes.Count(res.records[0].Value, []byte("<voe:VOEvent")); n != 4 || res.records[0].Headers != 1 {
		t.Errorf("record 0: %d documents, %d headers; want 4, 1", n, res.records[0].Headers)
	}
	want := []wantRecord{{1, "kcat_0", "key"}, {2, "kcat_1", "key"}, {3, "kcat_2", "key"}, {4, "kcat_3", "key"}}
	checkRecords(t, res.records[1:], want)
	for _, r := range res.records[1:] {
		if r.Headers != 1 {
			t.Errorf("offset %d: %d headers, want 1", r.Offset, r.Headers)
		}
	}
}

// A fetch from an offset inside a batch: the broker sends the whole
// batch, and the records below the offset are not handed on again.
func TestRecordsBelowFetchOffsetSkipped(t *testing.T) {
	res, err := decodeRecords(readFixture(t, "franz-zstd-from4.bin"), 4, testMaxOut)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, res.records, zstdBatchRecords()[4:])
	if res.next != 8 {
		t.Errorf("next %d, want 8", res.next)
	}
	res, err = decodeRecords(readFixture(t, "franz-zstd.bin"), 8, testMaxOut)
	if err != nil || len(res.records) != 0 || res.next != 8 {
		t.Errorf("fetch from 8 of data ending at 7: %d records, next %d, %v", len(res.records), res.next, err)
	}
}

// The broker cut the last batch at the fetch's byte limit: the complete
// batches are decoded, and next is the cut batch's start.
func TestTruncatedLastBatch(t *testing.T) {
	res, err := decodeRecords(readFixture(t, "franz-zstd-truncated.bin"), 0, testMaxOut)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, res.records, zstdBatchRecords()[:3])
	if res.next != 3 || !res.partial {
		t.Errorf("next %d, partial %v; want 3, true", res.next, res.partial)
	}
	full := readFixture(t, "franz-zstd.bin")
	for cut := 1; cut < 12; cut++ {
		res, err := decodeRecords(full[:len(full)-343-12+cut], 0, testMaxOut)
		if err != nil || res.next != 3 || !res.partial {
			t.Errorf("last batch cut to %d bytes: next %d, partial %v, %v", cut, res.next, res.partial, err)
		}
	}
}

// A transactional producer's batches (franz-go, kafkapeer): two records,
// a commit marker, one record, an abort marker. The markers are skipped
// and counted, and next passes them, also when a fetch returns nothing
// but a marker.
func TestControlBatchesSkipped(t *testing.T) {
	b := readFixture(t, "franz-txn.bin")
	res, err := decodeRecords(b, 0, testMaxOut)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, res.records, []wantRecord{{0, "txn_0", ""}, {1, "txn_1", ""}, {3, "txn_after", ""}})
	if res.controlBatches != 2 || res.next != 5 {
		t.Errorf("control %d, next %d; want 2, 5", res.controlBatches, res.next)
	}
	res, err = decodeRecords(b, 4, testMaxOut)
	if err != nil || len(res.records) != 0 || res.next != 5 || res.controlBatches != 1 {
		t.Errorf("fetch from the abort marker: %d records, next %d, control %d, %v; want 0, 5, 1", len(res.records), res.next, res.controlBatches, err)
	}
}

// A damaged byte in a record's value fails the batch's CRC-32C: the
// batches before it are kept, next is its start, and the error says
// nothing of it can be trusted.
func TestDamagedBatchRefused(t *testing.T) {
	b := bytes.Clone(readFixture(t, "franz-none.bin"))
	i := bytes.Index(b, []byte("none_2"))
	b[i] = 'N'
	res, err := decodeRecords(b, 0, testMaxOut)
	var be *batchError
	if !errors.As(err, &be) || be.base != 1 || be.resume != -1 || !strings.Contains(err.Error(), "CRC") {
		t.Fatalf("damaged second batch: %v", err)
	}
	checkRecords(t, res.records, []wantRecord{{0, "none_1", ""}})
	if res.next != 1 {
		t.Errorf("next %d, want 1", res.next)
	}
}

// Kafka before 0.11 wrote message sets (magic 0 and 1); they are refused
// with a reason naming the format, not misread as batches.
func TestOldMagicRefused(t *testing.T) {
	for _, magic := range []byte{0, 1} {
		// offset, size, crc, magic, attributes, [timestamp], key, value
		msg := []byte{0, 0, 0, 0, magic, 0}
		if magic == 1 {
			msg = append(msg, make([]byte, 8)...)
		}
		msg = append(msg, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, 'h', 'i')
		binary.BigEndian.PutUint32(msg, crc32.ChecksumIEEE(msg[4:]))
		set := binary.BigEndian.AppendUint64(nil, 7)
		set = binary.BigEndian.AppendUint32(set, uint32(len(msg)))
		set = append(set, msg...)
		_, err := decodeRecords(set, 0, testMaxOut)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("magic %d", magic)) {
			t.Errorf("magic %d: %v", magic, err)
		}
	}
}

// makeBatch builds a magic-2 batch with a correct CRC-32C around
// payload (records, compressed or not, as attrs says).
func makeBatch(base int64, attrs uint16, lastDelta int32, count int32, payload []byte) []byte {
	be := binary.BigEndian
	h := make([]byte, batchHeaderSize)
	h[4] = 2
	be.PutUint16(h[9:], attrs)
	be.PutUint32(h[11:], uint32(lastDelta))
	be.PutUint64(h[15:], 1.8e12)
	be.PutUint64(h[23:], 1.8e12)
	be.PutUint64(h[31:], ^uint64(0))
	be.PutUint32(h[45:], uint32(count))
	body := append(h, payload...)
	be.PutUint32(body[5:], crc32.Checksum(body[9:], castagnoli))
	out := be.AppendUint64(nil, uint64(base))
	out = be.AppendUint32(out, uint32(len(body)))
	return append(out, body...)
}

// makeRecord encodes one record of the given deltas, key and value.
func makeRecord(offDelta int64, key, value []byte) []byte {
	var r []byte
	r = append(r, 0)
	r = binary.AppendVarint(r, 0)
	r = binary.AppendVarint(r, offDelta)
	for _, f := range [][]byte{key, value} {
		if f == nil {
			r = binary.AppendVarint(r, -1)
		} else {
			r = binary.AppendVarint(r, int64(len(f)))
			r = append(r, f...)
		}
	}
	r = binary.AppendVarint(r, 0)
	return append(binary.AppendVarint(nil, int64(len(r))), r...)
}

// A zstd bomb inside a correctly checksummed batch is refused as over
// the limit, and the error says where the batch ends so that the
// consumer can skip it.
func TestBombBatchRefused(t *testing.T) {
	b := makeBatch(10, uint16(codecZstd), 0, 1, readFixture(t, "bomb-1gib.zst"))
	res, err := decodeRecords(b, 10, 4<<20)
	var be *batchError
	if !errors.As(err, &be) || !errors.Is(err, errOverLimit) || be.resume != 11 {
		t.Fatalf("bomb batch: %v", err)
	}
	if res.next != 10 || len(res.records) != 0 {
		t.Errorf("next %d, %d records; want 10, 0", res.next, len(res.records))
	}
}

// When earlier batches spent the output budget, decoding stops before
// the next batch without an error, to be fetched again; a batch that
// alone exceeds the budget is refused.
func TestOutputBudget(t *testing.T) {
	b := readFixture(t, "franz-zstd.bin")
	one, err := decodeRecords(b[:12+294], 0, testMaxOut)
	if err != nil {
		t.Fatal(err)
	}
	size := len(one.records[0].Value) + 20 // a record's bytes, a little more
	res, err := decodeRecords(b, 0, size)
	if err != nil || res.next != 1 || !res.partial || len(res.records) != 1 {
		t.Errorf("budget for one batch: %d records, next %d, partial %v, %v; want 1, 1, true", len(res.records), res.next, res.partial, err)
	}
	_, err = decodeRecords(b, 0, 10)
	if !errors.Is(err, errOverLimit) {
		t.Errorf("budget below one batch: %v, want a refusal over the limit", err)
	}
}

// Lengths a hostile peer sets beyond what is there are refused before
// anything is allocated for them.
func TestHostileLengths(t *testing.T) {
	rec := makeRecord(0, nil, []byte("<VOEvent/>"))
	huge := binary.AppendVarint(nil, 1<<40)
	for name, b := range map[string][]byte{
		"record count 2^31-1":  makeBatch(0, 0, 0, 1<<31-1, rec),
		"negative count":       makeBatch(0, 0, 0, -1, rec),
		"record length 2^40":   makeBatch(0, 0, 0, 1, append(huge, rec[1:]...)),
		"value past the end":   makeBatch(0, 0, 0, 1, append(rec[:len(rec)-1], 0x7e)),
		"count above records":  makeBatch(0, 0, 1, 2, rec),
		"records after count":  makeBatch(0, 0, 1, 1, append(rec, makeRecord(1, nil, nil)...)),
		"offset past last":     makeBatch(0, 0, 0, 1, makeRecord(1, nil, nil)),
		"negative last delta":  makeBatch(0, 0, -1, 1, rec),
		"negative base offset": makeBatch(-5, 0, 0, 1, rec),
		"short header":         {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0, 2},
		"negative length":      {0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xf0},
	} {
		res, err := decodeRecords(b, 0, testMaxOut)
		if err == nil {
			t.Errorf("%s: accepted, %d records", name, len(res.records))
		}
	}
	// A batch length beyond the bytes is a cut batch, not an allocation.
	b := makeBatch(0, 0, 0, 1, rec)
	binary.BigEndian.PutUint32(b[8:], 1<<31-1)
	if res, err := decodeRecords(b, 0, testMaxOut); err != nil || !res.partial || res.next != 0 {
		t.Errorf("batch length 2^31-1: next %d, partial %v, %v", res.next, res.partial, err)
	}
}

// A batch that compaction left empty still moves next past its offsets.
func TestEmptyBatchAdvances(t *testing.T) {
	res, err := decodeRecords(makeBatch(20, 0, 4, 0, nil), 20, testMaxOut)
	if err != nil || len(res.records) != 0 || res.next != 25 {
		t.Errorf("empty batch 20..24: %d records, next %d, %v; want 0, 25", len(res.records), res.next, err)
	}
}

// Log-append time: every record's timestamp is the batch's maximum.
func TestLogAppendTime(t *testing.T) {
	b := makeBatch(0, 0x08, 0, 1, makeRecord(0, nil, []byte("v")))
	binary.BigEndian.PutUint64(b[12+23:], 1.9e12)
	binary.BigEndian.PutUint32(b[12+5:], crc32.Checksum(b[12+9:], castagnoli))
	res, err := decodeRecords(b, 0, testMaxOut)
	if err != nil || len(res.records) != 1 || res.records[0].Timestamp != 1.9e12 {
		t.Errorf("log-append time: %+v, %v", res.records, err)
	}
}

// BenchmarkDecodeZstdBatch decodes a franz-go batch of ten 7.5 KB
// VOEvents compressed with zstd; ns/op divided by ten is the cost of a
// record.
func BenchmarkDecodeZstdBatch(b *testing.B) {
	benchDecode(b, "franz-zstd-voevents.bin")
}

// BenchmarkDecodeZstdBatchLibrdkafka is the same for a librdkafka batch,
// whose frame declares no content size.
func BenchmarkDecodeZstdBatchLibrdkafka(b *testing.B) {
	benchDecode(b, "kcat-zstd-voevents.bin")
}

func benchDecode(b *testing.B, name string) {
	data := readFixture(b, name)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		res, err := decodeRecords(data, 0, 16<<20)
		if err != nil || len(res.records) != 10 {
			b.Fatalf("%d records, %v", len(res.records), err)
		}
	}
}

// An answer repeating a batch (only a faulty or hostile broker sends
// one) does not hand the same offsets on twice.
func TestRepeatedBatchOnce(t *testing.T) {
	b := readFixture(t, "franz-none.bin")
	res, err := decodeRecords(append(bytes.Clone(b), b...), 0, testMaxOut)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, res.records, []wantRecord{{0, "none_1", ""}, {1, "none_2", ""}})
}

// A producer's aborted transaction is left out up to its marker, and its
// next transaction, committed, is not; records outside transactions and
// of other producers are never left out.
func TestDropAborted(t *testing.T) {
	rec := func(off, producer int64) Record { return Record{Offset: off, producer: producer} }
	recs := []Record{
		rec(0, -1), // plain
		rec(1, 7),  // aborted transaction of 7, from 1
		rec(2, 8),  // 8's transaction, committed
		rec(3, 7),
		// 4: 7's abort marker
		rec(5, 7), // 7's next transaction, committed
		// 6: 8's commit marker
		rec(7, 9), // 9's transaction, aborted, its marker not in this answer
		rec(8, -1),
	}
	markers := []marker{{4, 7}, {6, 8}}
	aborted := []abortedTransaction{{producerID: 9, firstOffset: 7}, {producerID: 7, firstOffset: 1}}
	var got []int64
	for _, r := range dropAborted(recs, markers, aborted) {
		got = append(got, r.Offset)
	}
	if want := []int64{0, 2, 5, 8}; !slices.Equal(got, want) {
		t.Errorf("kept %v, want %v", got, want)
	}
}
