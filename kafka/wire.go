package kafka

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
)

// apiKey names a Kafka request type; it is the first field of every
// request header.
type apiKey int16

const (
	apiFetch            apiKey = 1
	apiListOffsets      apiKey = 2
	apiMetadata         apiKey = 3
	apiSaslHandshake    apiKey = 17
	apiApiVersions      apiKey = 18
	apiSaslAuthenticate apiKey = 36
)

func (k apiKey) String() string {
	switch k {
	case apiFetch:
		return "Fetch"
	case apiListOffsets:
		return "ListOffsets"
	case apiMetadata:
		return "Metadata"
	case apiSaslHandshake:
		return "SaslHandshake"
	case apiApiVersions:
		return "ApiVersions"
	case apiSaslAuthenticate:
		return "SaslAuthenticate"
	}
	return "api " + strconv.Itoa(int(k))
}

// ErrorCode is a Kafka protocol error code, as a broker puts it in a
// response (per response, per topic or per partition). The consumer
// decides from it whether to refresh metadata, restart from the earliest
// offset, or give up on a topic.
type ErrorCode int16

// The error codes a fetch-only consumer meets.
const (
	ErrUnknownServerError         ErrorCode = -1
	ErrNone                       ErrorCode = 0
	ErrOffsetOutOfRange           ErrorCode = 1
	ErrCorruptMessage             ErrorCode = 2
	ErrUnknownTopicOrPartition    ErrorCode = 3
	ErrLeaderNotAvailable         ErrorCode = 5
	ErrNotLeaderOrFollower        ErrorCode = 6
	ErrRequestTimedOut            ErrorCode = 7
	ErrReplicaNotAvailable        ErrorCode = 9
	ErrNetworkException           ErrorCode = 13
	ErrTopicAuthorizationFailed   ErrorCode = 29
	ErrUnsupportedSaslMechanism   ErrorCode = 33
	ErrIllegalSaslState           ErrorCode = 34
	ErrUnsupportedVersion         ErrorCode = 35
	ErrKafkaStorageError          ErrorCode = 56
	ErrSaslAuthenticationFailed   ErrorCode = 58
	ErrFetchSessionIDNotFound     ErrorCode = 70
	ErrInvalidFetchSessionEpoch   ErrorCode = 71
	ErrFencedLeaderEpoch          ErrorCode = 74
	ErrUnknownLeaderEpoch         ErrorCode = 75
	ErrUnsupportedCompressionType ErrorCode = 76
	ErrOffsetNotAvailable         ErrorCode = 78
)

var errorCodeNames = map[ErrorCode]string{
	ErrUnknownServerError:         "UNKNOWN_SERVER_ERROR",
	ErrNone:                       "NONE",
	ErrOffsetOutOfRange:           "OFFSET_OUT_OF_RANGE",
	ErrCorruptMessage:             "CORRUPT_MESSAGE",
	ErrUnknownTopicOrPartition:    "UNKNOWN_TOPIC_OR_PARTITION",
	ErrLeaderNotAvailable:         "LEADER_NOT_AVAILABLE",
	ErrNotLeaderOrFollower:        "NOT_LEADER_OR_FOLLOWER",
	ErrRequestTimedOut:            "REQUEST_TIMED_OUT",
	ErrReplicaNotAvailable:        "REPLICA_NOT_AVAILABLE",
	ErrNetworkException:           "NETWORK_EXCEPTION",
	ErrTopicAuthorizationFailed:   "TOPIC_AUTHORIZATION_FAILED",
	ErrUnsupportedSaslMechanism:   "UNSUPPORTED_SASL_MECHANISM",
	ErrIllegalSaslState:           "ILLEGAL_SASL_STATE",
	ErrUnsupportedVersion:         "UNSUPPORTED_VERSION",
	ErrKafkaStorageError:          "KAFKA_STORAGE_ERROR",
	ErrSaslAuthenticationFailed:   "SASL_AUTHENTICATION_FAILED",
	ErrFetchSessionIDNotFound:     "FETCH_SESSION_ID_NOT_FOUND",
	ErrInvalidFetchSessionEpoch:   "INVALID_FETCH_SESSION_EPOCH",
	ErrFencedLeaderEpoch:          "FENCED_LEADER_EPOCH",
	ErrUnknownLeaderEpoch:         "UNKNOWN_LEADER_EPOCH",
	ErrUnsupportedCompressionType: "UNSUPPORTED_COMPRESSION_TYPE",
	ErrOffsetNotAvailable:         "OFFSET_NOT_AVAILABLE",
}

// String gives Kafka's own name for the code, so that a log line can be
// looked up in Kafka's documentation; an unknown code is shown as its number.
func (c ErrorCode) String() string {
	if s, ok := errorCodeNames[c]; ok {
		return s
	}
	return "ERROR_CODE_" + strconv.Itoa(int(c))
}

// Error is a non-zero error code a broker answered, with the request it
// answered, so that a log line says both what failed and why.
type Error struct {
	Code ErrorCode
	API  string // the request's name, e.g. "Fetch"
	// Message is the broker's own error message when the response has
	// one (SaslAuthenticate), already made safe for one log line.
	Message string
}

func (e *Error) Error() string {
	s := "kafka: " + e.API + ": " + e.Code.String() + " (" + strconv.Itoa(int(e.Code)) + ")"
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Error makes an ErrorCode usable as errors.Is's target:
// errors.Is(err, ErrOffsetOutOfRange) holds for an *Error of that code.
func (c ErrorCode) Error() string { return "kafka: " + c.String() }

// Is lets errors.Is match an *Error against a bare ErrorCode, whatever
// the API that answered it.
func (e *Error) Is(target error) bool {
	c, ok := target.(ErrorCode)
	return ok && c == e.Code
}

// codeErr turns a response's error code into an *Error, or nil for 0.
func codeErr(k apiKey, c int16) error {
	if c == 0 {
		return nil
	}
	return &Error{Code: ErrorCode(c), API: k.String()}
}

// errShort is what every decoder returns when a response ends before a
// field it must hold; errors.Is finds it under the decoder's context.
var errShort = errors.New("response truncated")

// reader decodes the primitive types of Kafka's non-flexible encoding
// from one response body. Every read is checked against what is left, and
// the first failure sticks, so a decoder reads all its fields and checks
// r.err once. No length or count from the peer is used to allocate before
// it has been checked against the bytes that remain.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.fail(errShort)
		return nil
	}
	p := r.b[:n:n]
	r.b = r.b[n:]
	return p
}

func (r *reader) int8() int8 {
	p := r.take(1)
	if p == nil {
		return 0
	}
	return int8(p[0])
}

func (r *reader) bool() bool { return r.int8() != 0 }

func (r *reader) int16() int16 {
	p := r.take(2)
	if p == nil {
		return 0
	}
	return int16(binary.BigEndian.Uint16(p))
}

func (r *reader) int32() int32 {
	p := r.take(4)
	if p == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(p))
}

func (r *reader) int64() int64 {
	p := r.take(8)
	if p == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(p))
}

// nullableString reads an int16 length (-1 for null) and the bytes.
func (r *reader) nullableString() (s string, null bool) {
	n := r.int16()
	if r.err != nil {
		return "", false
	}
	if n == -1 {
		return "", true
	}
	if n < 0 {
		r.fail(fmt.Errorf("negative string length %d", n))
		return "", false
	}
	return string(r.take(int(n))), false
}

// string reads a string that may not be null.
func (r *reader) string() string {
	s, null := r.nullableString()
	if null {
		r.fail(errors.New("null where a string is required"))
	}
	return s
}

// nullableBytes reads an int32 length (-1 for null) and the bytes, which
// share the response's memory: a caller that keeps them beyond the
// response's life copies them.
func (r *reader) nullableBytes() []byte {
	n := r.int32()
	if r.err != nil || n == -1 {
		return nil
	}
	if n < 0 {
		r.fail(fmt.Errorf("negative bytes length %d", n))
		return nil
	}
	return r.take(int(n))
}

// bytes reads bytes that may not be null.
func (r *reader) bytes() []byte {
	n := r.int32()
	if r.err != nil {
		return nil
	}
	if n < 0 {
		r.fail(fmt.Errorf("bytes length %d", n))
		return nil
	}
	return r.take(int(n))
}

// arrayLen reads an array's int32 count and checks that what is left
// could hold that many elements of at least minSize bytes each, so the
// caller may allocate the count. It returns -1 for a null array if
// nullable is set, and 0 after a failure.
func (r *reader) arrayLen(minSize int, nullable bool) int {
	n := r.int32()
	if r.err != nil {
		return 0
	}
	if n == -1 && nullable {
		return -1
	}
	if n < 0 {
		r.fail(fmt.Errorf("array count %d", n))
		return 0
	}
	if int64(n)*int64(minSize) > int64(len(r.b)) {
		r.fail(fmt.Errorf("array count %d with %d bytes left: %w", n, len(r.b), errShort))
		return 0
	}
	return int(n)
}

// int32Array reads an array of int32.
func (r *reader) int32Array() []int32 {
	n := r.arrayLen(4, false)
	if n == 0 {
		return nil
	}
	a := make([]int32, n)
	for i := range a {
		a[i] = r.int32()
	}
	return a
}

// done reports the first failure, or trailing bytes the version we asked
// for does not have: those mean we and the broker disagree on the layout.
func (r *reader) done(k apiKey) error {
	if r.err == nil && len(r.b) != 0 {
		r.err = fmt.Errorf("%d unexpected bytes at the end", len(r.b))
	}
	if r.err != nil {
		return fmt.Errorf("kafka: %s response: %w", k, r.err)
	}
	return nil
}

// writer encodes the primitive types of Kafka's non-flexible encoding.
// Lengths that do not fit their field are recorded as an error rather
// than written wrong.
type writer struct {
	b   []byte
	err error
}

func (w *writer) int8(v int8) { w.b = append(w.b, byte(v)) }
func (w *writer) bool(v bool) {
	if v {
		w.int8(1)
	} else {
		w.int8(0)
	}
}
func (w *writer) int16(v int16) { w.b = binary.BigEndian.AppendUint16(w.b, uint16(v)) }
func (w *writer) int32(v int32) { w.b = binary.BigEndian.AppendUint32(w.b, uint32(v)) }
func (w *writer) int64(v int64) { w.b = binary.BigEndian.AppendUint64(w.b, uint64(v)) }

func (w *writer) string(s string) {
	if len(s) > math.MaxInt16 {
		w.setErr(fmt.Errorf("string of %d bytes is too long", len(s)))
		w.int16(0)
		return
	}
	w.int16(int16(len(s)))
	w.b = append(w.b, s...)
}

// nullableString writes s, or null when null is set.
func (w *writer) nullableString(s string, null bool) {
	if null {
		w.int16(-1)
		return
	}
	w.string(s)
}

func (w *writer) bytes(p []byte) {
	if len(p) > math.MaxInt32 {
		w.setErr(fmt.Errorf("%d bytes are too long", len(p)))
		w.int32(0)
		return
	}
	w.int32(int32(len(p)))
	w.b = append(w.b, p...)
}

// arrayLen writes an array count; -1 means a null array.
func (w *writer) arrayLen(n int) {
	if n > math.MaxInt32 {
		w.setErr(fmt.Errorf("array of %d elements is too long", n))
		w.int32(0)
		return
	}
	w.int32(int32(n))
}

func (w *writer) setErr(err error) {
	if w.err == nil {
		w.err = err
	}
}

// request is a request body the framing can send.
type request interface {
	key() apiKey
	version() int16
	encode(w *writer)
}

// appendRequest appends one framed request: its size, the request
// header (version 1: key, version, correlation id, client id) and body.
func appendRequest(dst []byte, correlationID int32, clientID string, req request) ([]byte, error) {
	// A version outside what the codec speaks would be framed with a
	// layout the broker reads differently (flexible versions add tagged
	// fields even to the header), so it is refused here.
	if vr, ok := supportedVersions[req.key()]; !ok || req.version() < vr.min || req.version() > vr.max {
		return dst, fmt.Errorf("kafka: %s v%d is not a version this client speaks", req.key(), req.version())
	}
	w := writer{b: dst}
	start := len(w.b)
	w.int32(0) // size, filled in below
	w.int16(int16(req.key()))
	w.int16(req.version())
	w.int32(correlationID)
	w.string(clientID)
	req.encode(&w)
	if w.err != nil {
		return dst, fmt.Errorf("kafka: %s request: %w", req.key(), w.err)
	}
	size := len(w.b) - start - 4
	if size > math.MaxInt32 {
		return dst, fmt.Errorf("kafka: %s request of %d bytes is too large", req.key(), size)
	}
	binary.BigEndian.PutUint32(w.b[start:], uint32(size))
	return w.b, nil
}

// writeRequest sends one framed request in a single Write.
func writeRequest(wr io.Writer, correlationID int32, clientID string, req request) error {
	b, err := appendRequest(nil, correlationID, clientID, req)
	if err != nil {
		return err
	}
	_, err = wr.Write(b)
	return err
}

// readResponse reads one response frame and returns its body, after the
// correlation id. A frame larger than maxSize is refused before anything
// is allocated for it, because the size comes from the peer; the caller
// then closes the connection, as the rest of the frame is still unread.
// A correlation id other than want means the connection is out of step
// and is refused too.
func readResponse(rd io.Reader, maxSize int32, want int32) ([]byte, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(rd, hdr[:4]); err != nil {
		return nil, fmt.Errorf("kafka: reading response size: %w", err)
	}
	size := int32(binary.BigEndian.Uint32(hdr[:4]))
	if size < 4 {
		return nil, fmt.Errorf("kafka: response size %d is too small for a header", size)
	}
	if size > maxSize {
		return nil, fmt.Errorf("kafka: response of %d bytes is larger than the limit of %d bytes", size, maxSize)
	}
	if _, err := io.ReadFull(rd, hdr[4:8]); err != nil {
		return nil, fmt.Errorf("kafka: reading response header: %w", err)
	}
	if got := int32(binary.BigEndian.Uint32(hdr[4:8])); got != want {
		return nil, fmt.Errorf("kafka: response has correlation id %d, want %d", got, want)
	}
	body := make([]byte, size-4)
	if _, err := io.ReadFull(rd, body); err != nil {
		return nil, fmt.Errorf("kafka: reading response body of %d bytes: %w", size-4, err)
	}
	return body, nil
}
