package voevent

import (
	"bytes"
	"hash/maphash"
	"slices"
	"unicode/utf8"
)

// This file holds the parser's checks of attributes and characters:
// checkAttrs refuses an attribute given twice, attValue reads an
// attribute's value with its references decoded and normalised, char
// checks a non-ASCII character, and reference decodes the five predefined
// entities and character references, the only ones XML allows here.

// attrSeed keys checkAttrs' hash, so that no document can choose names
// that collide.
var attrSeed = maphash.MakeSeed()

// checkAttrs resolves the prefixes of the start tag's attributes, refuses
// an attribute given twice, by name as written or by expanded name (two
// prefixes bound to one URI), and returns how many attributes are not
// namespace declarations. Beyond a few attributes, each is looked up in a
// hash table of those before it rather than compared with all of them.
func (p *parser) checkAttrs() int {
	const few = 8
	var mask uint64
	if len(p.attrs) > few {
		size := 2 * few
		for size < 2*len(p.attrs) {
			size *= 2
		}
		p.dups = slices.Grow(p.dups[:0], size)[:size]
		for i := range p.dups {
			p.dups[i] = -1
		}
		mask = uint64(size - 1)
	}
	n := 0
	for i := range p.attrs {
		a := &p.attrs[i]
		a.uri = -1
		if !a.xmlns {
			n++
			a.uri = 0
			if a.colon > 0 {
				a.uri = p.resolve(p.attrName(a)[:a.colon], int(a.pos), false)
			}
		}
		if mask == 0 {
			for j := range i {
				p.work++
				p.checkPair(a, &p.attrs[j])
			}
			continue
		}
		h := maphash.Bytes(attrSeed, p.attrKey(a)) ^ maphash.Comparable(attrSeed, a.uri)
		for k := h & mask; ; k = (k + 1) & mask {
			p.work++
			j := p.dups[k]
			if j < 0 {
				p.dups[k] = int32(i)
				break
			}
			p.checkPair(a, &p.attrs[j])
		}
	}
	return n
}

// attrKey is what, with its namespace number, identifies an attribute:
// the local part of a prefixed name, else the whole name (declarations
// have number -1).
func (p *parser) attrKey(a *rawAttr) []byte {
	if a.xmlns || a.colon < 0 {
		return p.attrName(a)
	}
	return p.attrName(a)[a.colon+1:]
}

// checkPair fails if attributes a and b (earlier) have one name.
func (p *parser) checkPair(a, b *rawAttr) {
	if a.uri != b.uri || !bytes.Equal(p.attrKey(a), p.attrKey(b)) {
		return
	}
	an, bn := p.attrName(a), p.attrName(b)
	if bytes.Equal(an, bn) {
		p.fail(int(a.pos), "duplicate attribute %s", ClipBytes(an))
	}
	p.fail(int(a.pos), "duplicate attribute %s (same namespace as %s)", ClipBytes(an), ClipBytes(bn))
}

// attValue scans a quoted attribute value at p.i and returns where its
// normalised form (XML 1.0 §3.3.3 for CDATA attributes) is: in src when
// it needs no normalisation (no references, no white space other than
// spaces), else in p.vbuf.
func (p *parser) attValue(name []byte) (v0, v1 int, inSrc bool) {
	if p.i >= len(p.src) || p.src[p.i] != '"' && p.src[p.i] != '\'' {
		p.fail(p.i, "attribute %s: value must be quoted", ClipBytes(name))
	}
	q := p.src[p.i]
	p.i++
	start := p.i
	for p.i < len(p.src) {
		c := p.src[p.i]
		switch {
		case !attrStop[c], c != q && (c == '"' || c == '\''):
			p.i++
			continue
		case c == q:
			p.i++
			return start, p.i - 1, true
		case c >= utf8.RuneSelf:
			p.char()
			continue
		}
		break
	}
	// Slow path: normalise into vbuf.
	v0 = len(p.vbuf)
	p.vbuf = append(p.vbuf, p.src[start:p.i]...)
	for {
		start := p.i
		for p.i < len(p.src) && !attrStop[p.src[p.i]] {
			p.i++
		}
		p.vbuf = append(p.vbuf, p.src[start:p.i]...)
		if p.i >= len(p.src) {
			p.fail(p.i, "unexpected end of document in attribute %s", ClipBytes(name))
		}
		c := p.src[p.i]
		switch {
		case c == q:
			p.i++
			return v0, len(p.vbuf), false
		case c == '"' || c == '\'':
			p.vbuf = append(p.vbuf, c)
			p.i++
		case c == '<':
			p.fail(p.i, "attribute %s: '<' not allowed in a value", ClipBytes(name))
		case c == '&':
			p.vbuf = utf8.AppendRune(p.vbuf, p.reference())
		case c == '\r':
			p.vbuf = append(p.vbuf, ' ')
			p.i++
			if p.i < len(p.src) && p.src[p.i] == '\n' {
				p.i++
			}
		case c == '\t' || c == '\n':
			p.vbuf = append(p.vbuf, ' ')
			p.i++
		case c >= utf8.RuneSelf:
			n := p.char()
			p.vbuf = append(p.vbuf, p.src[p.i-n:p.i]...)
		default:
			p.fail(p.i, "illegal character U+%04X", c)
		}
	}
}

// char checks the non-ASCII character at p.i, steps over it and returns its length.
func (p *parser) char() int {
	r, n := utf8.DecodeRune(p.src[p.i:])
	if r == utf8.RuneError && n == 1 {
		p.fail(p.i, "invalid UTF-8 byte 0x%02X", p.src[p.i])
	}
	if !isChar(r) {
		p.fail(p.i, "illegal character U+%04X", r)
	}
	p.i += n
	return n
}

// reference decodes a character reference or one of the five predefined
// entity references at p.i. Every other entity is refused: we never
// expand entities (no billion laughs, no external entities).
func (p *parser) reference() rune {
	start := p.i
	p.i++ // '&'
	if p.i < len(p.src) && p.src[p.i] == '#' {
		p.i++
		hex := p.i < len(p.src) && p.src[p.i] == 'x'
		if hex {
			p.i++
		}
		var r rune
		digits := 0
		for ; p.i < len(p.src); p.i++ {
			c := p.src[p.i]
			var d rune
			switch {
			case '0' <= c && c <= '9':
				d = rune(c - '0')
			case hex && 'a' <= c && c <= 'f':
				d = rune(c-'a') + 10
			case hex && 'A' <= c && c <= 'F':
				d = rune(c-'A') + 10
			default:
				d = -1
			}
			if d < 0 {
				break
			}
			digits++
			if r <= 0x10FFFF {
				if hex {
					r = r*16 + d
				} else {
					r = r*10 + d
				}
			}
		}
		if digits == 0 || p.i >= len(p.src) || p.src[p.i] != ';' {
			p.fail(start, "malformed character reference")
		}
		p.i++
		if !isChar(r) {
			p.fail(start, "character reference %s to an illegal character", ClipBytes(p.src[start:p.i]))
		}
		return r
	}
	name, colon := p.qname("entity")
	if colon >= 0 || p.i >= len(p.src) || p.src[p.i] != ';' {
		p.fail(start, "malformed entity reference")
	}
	p.i++
	switch string(name) {
	case "lt":
		return '<'
	case "gt":
		return '>'
	case "amp":
		return '&'
	case "apos":
		return '\''
	case "quot":
		return '"'
	}
	p.fail(start, "entity reference &%s; not allowed: only the five predefined entities and character references are", ClipBytes(name))
	return 0
}
