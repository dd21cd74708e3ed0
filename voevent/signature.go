package voevent

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// A signature travels as one XML comment after the root element's end
// tag, so it survives every relay that forwards the bytes unchanged, and
// covers exactly the root element's span (Event.Element): from the '<' of
// the VOEvent start tag to the '>' of its end tag. The XML declaration and
// anything outside the element are not signed. What signed bytes mean
// depends on the encoding they are read in, which the unsigned declaration
// names, so a signature holds only on an event read as UTF-8: with no
// declaration, or one naming UTF-8 or US-ASCII (which reads every document
// it accepts as UTF-8 does). A relay that declares ISO-8859-1 instead would
// change how non-ASCII text reads without touching the signed bytes; every
// signature on such an event is invalid. The comment's form, single
// spaces and all, is
//
//	<!-- voevent-signature v=1 alg=ed25519 key=KEY sig=SIG -->
//
// KEY is the standard base64 (padded) of the 32-byte Ed25519 public key,
// SIG that of the 64-byte signature.

// MaxSignatures is how many signature comments one event may carry. Each
// costs a verification; an event with more is a malformed signature.
const MaxSignatures = 8

const (
	sigMarker = "voevent-signature"
	sigHead   = " voevent-signature v=1 alg=ed25519 key="
	sigMid    = " sig="
	keyB64Len = 44 // base64 of 32 bytes
	sigB64Len = 88 // base64 of 64 bytes
)

// Signature is one parsed signature comment.
type Signature struct {
	Key ed25519.PublicKey
	Sig []byte
}

// KeyString is the key as the comment and the trust file write it.
func (s Signature) KeyString() string { return base64.StdEncoding.EncodeToString(s.Key) }

// Verify reports whether s is a valid signature of element.
func (s Signature) Verify(element []byte) bool { return ed25519.Verify(s.Key, element, s.Sig) }

// ErrMalformedSignature wraps every reason a signature comment is refused.
var ErrMalformedSignature = errors.New("malformed signature")

// ParseSignatures returns the signature comments in tail, the bytes after
// the root element's end tag (Event.Raw[Event.End:]). Comments that do not
// start with "voevent-signature" and processing instructions are skipped.
// A signature comment that does not have exactly the carrier's form, more
// than MaxSignatures of them, or bytes that are not white space, comments
// or processing instructions, are an error wrapping
// ErrMalformedSignature; the signatures parsed before it are returned
// with it. The work is linear in len(tail) and stops at the first error.
func ParseSignatures(tail []byte) ([]Signature, error) {
	var sigs []Signature
	for i := 0; ; {
		for i < len(tail) && isSpace(tail[i]) {
			i++
		}
		rest := tail[i:]
		switch {
		case len(rest) == 0:
			return sigs, nil
		case bytes.HasPrefix(rest, []byte("<!--")):
			end := bytes.Index(rest[4:], []byte("-->"))
			if end < 0 {
				return sigs, malformed("unterminated comment after the root element")
			}
			body := rest[4 : 4+end]
			i += 4 + end + 3
			if !bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte(sigMarker)) {
				continue
			}
			if len(sigs) == MaxSignatures {
				return sigs, malformed(fmt.Sprintf("more than %d signature comments", MaxSignatures))
			}
			s, err := parseSignature(body)
			if err != nil {
				return sigs, err
			}
			sigs = append(sigs, s)
		case bytes.HasPrefix(rest, []byte("<?")):
			end := bytes.Index(rest, []byte("?>"))
			if end < 0 {
				return sigs, malformed("unterminated processing instruction after the root element")
			}
			i += end + 2
		default:
			return sigs, malformed("unexpected bytes after the root element")
		}
	}
}

func malformed(why string) error { return fmt.Errorf("%w: %s", ErrMalformedSignature, why) }

// parseSignature parses the body of one comment (between "<!--" and
// "-->") that starts with the marker. Lengths are checked before any
// decoding, so a huge value costs nothing.
func parseSignature(body []byte) (Signature, error) {
	want := len(sigHead) + keyB64Len + len(sigMid) + sigB64Len + 1
	if !bytes.HasPrefix(body, []byte(sigHead)) {
		return Signature{}, malformed(`want "<!--` + sigHead + `KEY sig=SIG -->" (version 1, ed25519, single spaces)`)
	}
	if len(body) != want || !bytes.Equal(body[len(sigHead)+keyB64Len:len(sigHead)+keyB64Len+len(sigMid)], []byte(sigMid)) || body[len(body)-1] != ' ' {
		return Signature{}, malformed(fmt.Sprintf("want a %d-character key and a %d-character sig, single spaces", keyB64Len, sigB64Len))
	}
	k := body[len(sigHead) : len(sigHead)+keyB64Len]
	v := body[len(sigHead)+keyB64Len+len(sigMid) : len(body)-1]
	key, ok := decodeExact(k, ed25519.PublicKeySize)
	if !ok {
		return Signature{}, malformed("key is not the base64 of 32 bytes")
	}
	sig, ok := decodeExact(v, ed25519.SignatureSize)
	if !ok {
		return Signature{}, malformed("sig is not the base64 of 64 bytes")
	}
	return Signature{Key: key, Sig: sig}, nil
}

// decodeExact decodes canonical, padded standard base64 that must hold
// exactly n bytes. (Unpadded input of the same length decodes to more.)
func decodeExact(src []byte, n int) ([]byte, bool) {
	dst := make([]byte, base64.StdEncoding.DecodedLen(len(src)))
	m, err := base64.StdEncoding.Strict().Decode(dst, src)
	return dst[:m], err == nil && m == n
}

// EncodingProblem says why ev, read in the encoding its declaration names,
// cannot carry a valid signature, or returns "" if it is read as UTF-8.
func EncodingProblem(ev *Event) string {
	switch ev.Encoding {
	case "utf-8", "us-ascii":
		return ""
	}
	return fmt.Sprintf("the event declares encoding %s, and a signature holds only on an event read as UTF-8 "+
		"(the declaration is not signed, and in another encoding the signed bytes read differently)", Clip(strings.ToUpper(ev.Encoding)))
}

// SignatureComment returns the carrier comment for key's signature of element.
func SignatureComment(key ed25519.PrivateKey, element []byte) []byte {
	pub := key.Public().(ed25519.PublicKey)
	var b bytes.Buffer
	b.WriteString("<!--" + sigHead)
	b.WriteString(base64.StdEncoding.EncodeToString(pub))
	b.WriteString(sigMid)
	b.WriteString(base64.StdEncoding.EncodeToString(ed25519.Sign(key, element)))
	b.WriteString(" -->")
	return b.Bytes()
}

// Sign returns ev's bytes with key's signature comment appended on a line
// of its own. ev must be a VOEvent whose signature comments, if any, parse
// and leave room for one more (a signature added to a malformed set would
// be refused with it); its bytes are not modified.
func Sign(ev *Event, key ed25519.PrivateKey) ([]byte, error) {
	if !ev.IsVOEvent() {
		return nil, fmt.Errorf("root element is %q, not VOEvent: only VOEvents are signed", Clip(ev.Root))
	}
	if why := EncodingProblem(ev); why != "" {
		return nil, fmt.Errorf("%s: convert it to UTF-8 and declare encoding=\"UTF-8\" (or none) before signing", why)
	}
	sigs, err := ParseSignatures(ev.Raw[ev.End:])
	switch {
	case err != nil:
		return nil, fmt.Errorf("the event already carries a %v", err)
	case len(sigs) == MaxSignatures:
		return nil, fmt.Errorf("the event already carries %d signatures, the most an event may have", MaxSignatures)
	}
	out := make([]byte, 0, len(ev.Raw)+200)
	out = append(out, ev.Raw...)
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	out = append(out, SignatureComment(key, ev.Element())...)
	return append(out, '\n'), nil
}
