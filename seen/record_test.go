package seen

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"testing"

	"comet/internal/storedir"
)

func TestKeyOfIsSHA256(t *testing.T) {
	span := []byte(`<voe:VOEvent ivorn="ivo://example/test#1" role="test"></voe:VOEvent>`)
	if got, want := KeyOf(span), Key(sha256.Sum256(span)); got != want {
		t.Fatalf("KeyOf = %x, want %x", got, want)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	k := keyN(42)
	for _, unix := range []int64{1, 1775044800, math.MaxUint32} {
		r := appendRecord(nil, &k, unix)
		if len(r) != recordSize {
			t.Fatalf("record is %d bytes, want %d", len(r), recordSize)
		}
		gk, gu, ok := decodeRecord(r)
		if !ok || gk != k || gu != unix {
			t.Fatalf("decode(encode(%x, %d)) = %x, %d, %v", k[:4], unix, gk[:4], gu, ok)
		}
	}
}

func TestDecodeRecordRejects(t *testing.T) {
	k := keyN(1)
	good := appendRecord(nil, &k, 1775044800)
	for i := range recordSize * 8 {
		r := bytes.Clone(good)
		r[i/8] ^= 1 << (i % 8)
		if _, _, ok := decodeRecord(r); ok {
			t.Fatalf("record with bit %d flipped decodes", i)
		}
	}
	if _, _, ok := decodeRecord(good[:recordSize-1]); ok {
		t.Fatal("short record decodes")
	}
	if _, _, ok := decodeRecord(make([]byte, recordSize)); ok {
		t.Fatal("zeroed record decodes") // what a power loss can leave
	}
	for _, unix := range []int64{0, -1, math.MaxUint32 + 1} {
		if _, _, ok := decodeRecord(appendRecord(nil, &k, unix)); ok {
			t.Fatalf("record at out-of-range time %d decodes", unix)
		}
	}
}

func TestCheckHeader(t *testing.T) {
	h := header()
	if st, v := checkHeader(h); st != storedir.HeaderOK || v != storedir.Version {
		t.Fatalf("checkHeader(header()) = %v, %d", st, v)
	}
	for n := range headerSize {
		if st, _ := checkHeader(h[:n]); st != storedir.HeaderTorn {
			t.Fatalf("checkHeader(header()[:%d]) = %v, want torn", n, st)
		}
	}
	bad := bytes.Clone(h)
	bad[3] ^= 0x20
	if st, _ := checkHeader(bad); st != storedir.HeaderDamaged {
		t.Fatalf("damaged header = %v", st)
	}
	if st, _ := checkHeader(bad[:5]); st != storedir.HeaderDamaged {
		t.Fatalf("damaged short header = %v", st)
	}
	v2 := bytes.Clone(h)
	binary.BigEndian.PutUint32(v2[8:12], 2)
	binary.BigEndian.PutUint32(v2[12:16], storedir.CRC(v2[:12]))
	if st, v := checkHeader(v2); st != storedir.HeaderUnknownVersion || v != 2 {
		t.Fatalf("storedir.Version 2 header = %v, %d", st, v)
	}
}

// FuzzDecodeRecord: never panics, and whatever decodes re-encodes to the
// same bytes (so the checksum really covers key and time).
func FuzzDecodeRecord(f *testing.F) {
	k := keyN(7)
	f.Add(appendRecord(nil, &k, 1775044800))
	f.Add(make([]byte, recordSize))
	f.Add([]byte{})
	f.Add(header())
	f.Add(append(appendRecord(nil, &k, 1), 0xff))
	f.Fuzz(func(t *testing.T, b []byte) {
		key, unix, ok := decodeRecord(b)
		if !ok {
			return
		}
		if len(b) < recordSize {
			t.Fatalf("decoded a %d-byte record", len(b))
		}
		if again := appendRecord(nil, &key, unix); !bytes.Equal(again, b[:recordSize]) {
			t.Fatalf("re-encoding gives %x, input %x", again, b[:recordSize])
		}
	})
}
