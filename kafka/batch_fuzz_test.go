package kafka

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzLimit bounds decompressed output in the fuzz targets: small enough
// that a bomb found by the fuzzer costs little, large enough for every
// fixture.
const fuzzLimit = 1 << 20

func addFixtures(f *testing.F, pattern string) {
	names, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil {
		f.Fatal(err)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// FuzzBatches decodes arbitrary records bytes: never a panic, output
// within the budget, and records and next consistent with the fetch
// offset whatever the bytes say.
func FuzzBatches(f *testing.F) {
	addFixtures(f, "*.bin")
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, from := range []int64{0, 3} {
			res, err := decodeRecords(b, from, fuzzLimit)
			if res.next < from {
				t.Fatalf("next %d below the fetch offset %d", res.next, from)
			}
			var be *batchError
			if err != nil && !errors.As(err, &be) {
				t.Fatalf("error not a batchError: %v", err)
			}
			if be != nil && be.resume != -1 && be.resume <= be.base {
				t.Fatalf("resume %d not after the batch start %d", be.resume, be.base)
			}
			prev := int64(-1)
			size := 0
			for _, r := range res.records {
				if r.Offset < from || r.Offset <= prev || r.Offset >= res.next {
					t.Fatalf("record offset %d (previous %d, from %d, next %d)", r.Offset, prev, from, res.next)
				}
				prev = r.Offset
				size += len(r.Key) + len(r.Value)
			}
			if size > fuzzLimit {
				t.Fatalf("%d bytes of records over the budget", size)
			}
		}
	})
}

// FuzzZstd decodes arbitrary bytes as zstd: never a panic, never more
// output than the limit.
func FuzzZstd(f *testing.F) {
	addFixtures(f, "*.zst")
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := unzstd(b, fuzzLimit)
		if len(out) > fuzzLimit || (err != nil && out != nil) {
			t.Fatalf("%d bytes out, %v", len(out), err)
		}
	})
}

// FuzzGzip decodes arbitrary bytes as gzip: never a panic, never more
// output than the limit.
func FuzzGzip(f *testing.F) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`<voe:VOEvent ivorn="ivo://nasa.gsfc.gcn/TEST#fuzz"/>`))
	zw.Close()
	f.Add(gz.Bytes())
	f.Add(append(bytes.Clone(gz.Bytes()), gz.Bytes()...))
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := gunzip(b, fuzzLimit)
		if len(out) > fuzzLimit || (err != nil && out != nil) {
			t.Fatalf("%d bytes out, %v", len(out), err)
		}
	})
}
