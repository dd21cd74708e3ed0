package vtp

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxFrame is the default limit on one message: 1 MiB. Comet 3.1
// refuses frames over 99,999 bytes, so larger events will not pass through
// a Comet peer.
const DefaultMaxFrame = 1 << 20

// ErrFrameTooLarge is returned (wrapped) when a frame declares a length
// over the limit: typically a little-endian prefix, or not VTP at all. The
// connection cannot be resynchronised and must be closed.
var ErrFrameTooLarge = errors.New("vtp: frame too large")

// FrameTooLargeError is the ErrFrameTooLarge that ReadFrame returns: the
// payload has not been read.
type FrameTooLargeError struct {
	Length uint32
	Limit  int
	Prefix [4]byte
}

func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("vtp: frame too large: declared length %d exceeds limit %d (prefix %02x %02x %02x %02x)",
		e.Length, e.Limit, e.Prefix[0], e.Prefix[1], e.Prefix[2], e.Prefix[3])
}

// Is makes errors.Is(err, ErrFrameTooLarge) true.
func (e *FrameTooLargeError) Is(target error) bool { return target == ErrFrameTooLarge }

// maxDrain is the largest oversized frame a broker reads and discards so it
// can answer (a nak to an author) instead of resetting the connection while
// the peer is still writing. Larger lengths are not a real event (a
// little-endian prefix reads as gigabytes): the connection is closed.
const maxDrain = 64 << 20

// skipOversized discards the payload of a frame that was too large, if it
// is plausibly an event, and reports whether the stream is usable again.
func skipOversized(r *bufio.Reader, err error) (*FrameTooLargeError, bool) {
	var big *FrameTooLargeError
	if !errors.As(err, &big) || big.Length > maxDrain {
		return nil, false
	}
	_, err = io.CopyN(io.Discard, r, int64(big.Length))
	return big, err == nil
}

// ReadFrame reads one message: a 4-byte big-endian length, then that many
// bytes. The length is checked against max before anything is allocated.
// A connection that closes mid-frame gives io.ErrUnexpectedEOF.
func ReadFrame(r *bufio.Reader, max int) ([]byte, error) {
	if err := awaitFrame(r); err != nil {
		return nil, err
	}
	return readFrame(r, max, nil)
}

// awaitFrame waits until the next frame's length has arrived.
func awaitFrame(r *bufio.Reader) error {
	h, err := r.Peek(4)
	if err != nil && len(h) > 0 && err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readFrame is ReadFrame once awaitFrame has returned; a frame that fits
// in buf's capacity is read into buf.
func readFrame(r *bufio.Reader, max int, buf []byte) ([]byte, error) {
	// Peek rather than io.ReadFull into an array, which would put the
	// array on the heap for every message.
	h, err := r.Peek(4)
	if err != nil {
		return nil, err
	}
	hdr := [4]byte(h)
	if _, err := r.Discard(4); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if uint64(n) > uint64(max) {
		return nil, &FrameTooLargeError{Length: n, Limit: max, Prefix: hdr}
	}
	if n <= eagerFrame {
		if int(n) <= cap(buf) {
			buf = buf[:n]
		} else {
			buf = make([]byte, n)
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		return buf, nil
	}
	// A large frame's buffer grows with what actually arrives, so a peer
	// that announces a megabyte and sends nothing costs nothing.
	var big bytes.Buffer
	if _, err := io.CopyN(&big, r, int64(n)); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return big.Bytes(), nil
}

// eagerFrame is the largest frame whose buffer is allocated as soon as its
// length is read; nearly all real events are under 8 KB. Connections that
// announce frames and send nothing then hold at most this much each.
const eagerFrame = 16 << 10

// Frame returns payload with its length prefix, in one new buffer, ready
// to write as one message. Subscribers' writers do not use it: they write
// an event's shared bytes as they are, each after a length header of their
// own, so that relaying copies no event.
func Frame(payload []byte) []byte {
	b := make([]byte, 4+len(payload))
	binary.BigEndian.PutUint32(b, uint32(len(payload)))
	copy(b[4:], payload)
	return b
}

// WriteFrame writes one length-prefixed message.
func WriteFrame(w io.Writer, payload []byte) error {
	_, err := w.Write(Frame(payload))
	return err
}
