package vtp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"
)

func TestReadFrame(t *testing.T) {
	le := make([]byte, 4)
	binary.LittleEndian.PutUint32(le, 3000)
	tests := []struct {
		name    string
		in      []byte
		max     int
		want    []byte
		wantErr error
	}{
		{"empty stream", nil, 16, nil, io.EOF},
		{"empty frame", []byte{0, 0, 0, 0}, 16, []byte{}, nil},
		{"one frame", append([]byte{0, 0, 0, 5}, "<a/>\n"...), 16, []byte("<a/>\n"), nil},
		{"at the limit", append([]byte{0, 0, 0, 16}, bytes.Repeat([]byte("x"), 16)...), 16, bytes.Repeat([]byte("x"), 16), nil},
		{"over the limit", append([]byte{0, 0, 0, 17}, bytes.Repeat([]byte("x"), 17)...), 16, nil, ErrFrameTooLarge},
		{"little-endian prefix", append(le, bytes.Repeat([]byte("x"), 3000)...), DefaultMaxFrame, nil, ErrFrameTooLarge},
		{"2^31-1", []byte{0x7f, 0xff, 0xff, 0xff, '<'}, DefaultMaxFrame, nil, ErrFrameTooLarge},
		{"half a header", []byte{0, 0}, 16, nil, io.ErrUnexpectedEOF},
		{"half a frame", []byte{0, 0, 0, 10, '<', 'a'}, 16, nil, io.ErrUnexpectedEOF},
		{"header only", []byte{0, 0, 0, 10}, 16, nil, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadFrame(bufio.NewReader(bytes.NewReader(tt.in)), tt.max)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !bytes.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFrameRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	msgs := [][]byte{[]byte("<a/>"), {}, bytes.Repeat([]byte("é"), 5000)}
	for _, m := range msgs {
		if err := WriteFrame(&buf, m); err != nil {
			t.Fatal(err)
		}
	}
	r := bufio.NewReader(&buf)
	for _, m := range msgs {
		got, err := ReadFrame(r, DefaultMaxFrame)
		if err != nil || !bytes.Equal(got, m) {
			t.Fatalf("got %q, %v; want %q", got, err, m)
		}
	}
	if _, err := ReadFrame(r, DefaultMaxFrame); err != io.EOF {
		t.Fatalf("after last frame: %v, want EOF", err)
	}
}

// FuzzReadFrame feeds arbitrary byte streams to the frame reader: it must
// never panic, never return more than the limit, and return exactly what
// the header declared.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 4, '<', 'a', '/', '>'})
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff})
	f.Add([]byte{4, 0, 0, 0, '<', 'a', '/', '>'})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 1, 'x'})
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		const max = 64
		readFrameFuzz(t, in, max, func(r *bufio.Reader) ([]byte, error) { return ReadFrame(r, max) })
		// The subscriber's reader: a borrowed buffer, taken once the
		// length has arrived, reused for every frame that fits in it.
		buf := make([]byte, 16)
		readFrameFuzz(t, in, max, func(r *bufio.Reader) ([]byte, error) {
			if err := awaitFrame(r); err != nil {
				return nil, err
			}
			got, err := readFrame(r, max, buf)
			if err == nil && len(got) > 0 && len(got) <= len(buf) && &got[0] != &buf[0] {
				t.Fatalf("a frame of %d bytes was not read into the %d-byte buffer", len(got), len(buf))
			}
			return got, err
		})
	})
}

// readFrameFuzz reads every frame of in with read and checks each
// against the bytes it came from.
func readFrameFuzz(t *testing.T, in []byte, max int, read func(*bufio.Reader) ([]byte, error)) {
	r := bufio.NewReader(bytes.NewReader(in))
	rest := in
	for {
		got, err := read(r)
		if err != nil {
			if len(rest) >= 4 && uint64(binary.BigEndian.Uint32(rest)) > uint64(max) && !errors.Is(err, ErrFrameTooLarge) {
				t.Fatalf("oversized frame gave %v", err)
			}
			return
		}
		n := binary.BigEndian.Uint32(rest)
		if len(got) > max || int(n) != len(got) || !bytes.Equal(got, rest[4:4+n]) {
			t.Fatalf("frame of %d bytes from header %d", len(got), n)
		}
		rest = rest[4+n:]
	}
}

// TestReadFrameAllocatesWhatArrives: a peer announcing a large frame and
// sending a few bytes must not make the reader allocate the whole frame.
func TestReadFrameAllocatesWhatArrives(t *testing.T) {
	in := append([]byte{0, 0x10, 0, 0}, "<VOEvent"...) // announces 1 MiB
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		if _, err := ReadFrame(bufio.NewReader(bytes.NewReader(in)), DefaultMaxFrame); err != io.ErrUnexpectedEOF {
			t.Fatalf("err = %v", err)
		}
	}
	runtime.ReadMemStats(&after)
	if perFrame := (after.TotalAlloc - before.TotalAlloc) / 100; perFrame > 256<<10 {
		t.Errorf("%d bytes allocated per truncated 1 MiB frame, want well under 1 MiB", perFrame)
	}
	// A complete large frame still comes back whole.
	big := bytes.Repeat([]byte("x"), 300_000)
	var buf bytes.Buffer
	WriteFrame(&buf, big)
	got, err := ReadFrame(bufio.NewReader(&buf), DefaultMaxFrame)
	if err != nil || !bytes.Equal(got, big) {
		t.Errorf("300 KB frame: %d bytes, %v", len(got), err)
	}
}
