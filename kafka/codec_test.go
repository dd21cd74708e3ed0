package kafka

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// zstdHasContentSize reports whether a zstd frame's header declares the
// decompressed size (librdkafka's frames do not, which makes the decoder
// take a different path).
func zstdHasContentSize(frame []byte) bool {
	fhd := frame[4]
	return fhd>>6 != 0 || fhd&0x20 != 0
}

// Frames written by the zstd command at several levels, with and
// without a declared content size, decode to the document compressed.
func TestZstdCLIFrames(t *testing.T) {
	want := readFixture(t, "voevent.xml")
	for _, name := range []string{"voevent-l3.zst", "voevent-l19.zst", "voevent-ultra22.zst", "voevent-stream.zst"} {
		frame := readFixture(t, name)
		got, err := unzstd(frame, len(want))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: decoded %d bytes, not the document's %d", name, len(got), len(want))
		}
	}
	if zstdHasContentSize(readFixture(t, "voevent-stream.zst")) {
		t.Error("voevent-stream.zst declares its content size; the fixture is meant not to")
	}
	// Two frames one after the other are one payload.
	two := append(readFixture(t, "voevent-l3.zst"), readFixture(t, "voevent-l19.zst")...)
	got, err := unzstd(two, 2*len(want))
	if err != nil || !bytes.Equal(got, append(append([]byte{}, want...), want...)) {
		t.Errorf("two frames: %d bytes, %v", len(got), err)
	}
}

// The limit is exact: output of the limit's size passes, one byte more
// is refused as over the limit, for every codec.
func TestDecompressLimitExact(t *testing.T) {
	want := readFixture(t, "voevent.xml")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(want)
	zw.Close()
	for _, tc := range []struct {
		c   codec
		src []byte
	}{
		{codecNone, want},
		{codecGzip, gz.Bytes()},
		{codecZstd, readFixture(t, "voevent-l3.zst")},
		{codecZstd, readFixture(t, "voevent-stream.zst")},
	} {
		if got, err := decompress(tc.c, tc.src, len(want)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%v at the limit: %d bytes, %v", tc.c, len(got), err)
		}
		if _, err := decompress(tc.c, tc.src, len(want)-1); !errors.Is(err, errOverLimit) {
			t.Errorf("%v one byte over the limit: %v, want a refusal over the limit", tc.c, err)
		}
	}
}

// allocatedBy returns the bytes f allocated in all.
func allocatedBy(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A 33 KB zstd frame of 1 GiB of zeros (made with `zstd` from
// /dev/zero) is refused at the limit, having allocated a few times the
// limit rather than the gigabyte it declares.
func TestZstdBombRefused(t *testing.T) {
	bomb := readFixture(t, "bomb-1gib.zst")
	const limit = 4 << 20
	var err error
	alloc := allocatedBy(func() { _, err = unzstd(bomb, limit) })
	if !errors.Is(err, errOverLimit) {
		t.Fatalf("1 GiB bomb with a 4 MiB limit: %v, want a refusal over the limit", err)
	}
	if alloc > 64<<20 {
		t.Errorf("refusing the bomb allocated %d MiB", alloc>>20)
	}
}

// A gzip bomb (zeros compressed with compress/gzip) is refused at the
// limit without being expanded in full.
func TestGzipBombRefused(t *testing.T) {
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for i := 0; i < 32; i++ {
		zw.Write(zeros)
	}
	zw.Close()
	const limit = 1 << 20
	var err error
	alloc := allocatedBy(func() { _, err = gunzip(gz.Bytes(), limit) })
	if !errors.Is(err, errOverLimit) {
		t.Fatalf("32 MiB gzip bomb (%d bytes) with a 1 MiB limit: %v, want a refusal over the limit", gz.Len(), err)
	}
	if alloc > 16<<20 {
		t.Errorf("refusing the bomb allocated %d MiB", alloc>>20)
	}
}

// A producer may write several gzip members; all of them are the payload.
func TestGzipMultiMember(t *testing.T) {
	var gz bytes.Buffer
	for _, part := range []string{"<VOEvent>", "</VOEvent>"} {
		zw := gzip.NewWriter(&gz)
		zw.Write([]byte(part))
		zw.Close()
	}
	got, err := gunzip(gz.Bytes(), 100)
	if err != nil || string(got) != "<VOEvent></VOEvent>" {
		t.Errorf("two members: %q, %v", got, err)
	}
}

// Damaged zstd frames are refused, never returned as data.
func TestZstdCorruptRefused(t *testing.T) {
	frame := readFixture(t, "voevent-l3.zst")
	flipped := bytes.Clone(frame)
	flipped[len(flipped)/2] ^= 0x40
	checksum := bytes.Clone(frame)
	checksum[len(checksum)-1] ^= 1
	for name, src := range map[string][]byte{
		"byte flipped":     flipped,
		"checksum damaged": checksum,
		"truncated":        frame[:len(frame)-20],
		"garbage":          []byte("<VOEvent>not zstd at all</VOEvent>"),
		"magic only":       frame[:4],
		"trailing garbage": append(bytes.Clone(frame), "junk"...),
	} {
		if got, err := unzstd(src, 1<<20); err == nil {
			t.Errorf("%s: decoded %d bytes without an error", name, len(got))
		} else if errors.Is(err, errOverLimit) {
			t.Errorf("%s: %v, refused as over the limit rather than damaged", name, err)
		}
	}
}

// Damaged gzip streams are refused.
func TestGzipCorruptRefused(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(readFixture(t, "voevent.xml"))
	zw.Close()
	good := gz.Bytes()
	crc := bytes.Clone(good)
	crc[len(crc)-6] ^= 1
	for name, src := range map[string][]byte{
		"crc damaged":      crc,
		"truncated":        good[:len(good)-10],
		"garbage":          []byte("not gzip"),
		"trailing garbage": append(bytes.Clone(good), "junk"...),
	} {
		if got, err := gunzip(src, 1<<20); err == nil {
			t.Errorf("%s: decoded %d bytes without an error", name, len(got))
		}
	}
}

// snappy and lz4 are refused with an error that names the codec, so
// that an operator knows what the producer used.
func TestUnsupportedCodecsNamed(t *testing.T) {
	for _, c := range []codec{codecSnappy, codecLZ4, 5, 7} {
		_, err := decompress(c, []byte("x"), 100)
		if !errors.Is(err, errUnsupportedCodec) {
			t.Errorf("%v: %v, want unsupported", c, err)
		}
		if err != nil && !strings.Contains(err.Error(), c.String()) {
			t.Errorf("%v: %q does not name the codec", c, err)
		}
	}
}
