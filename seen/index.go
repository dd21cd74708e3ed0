package seen

import (
	"cmp"
	"encoding/binary"
	"slices"
)

// prefix is the part of a [Key] the index keeps: its first 128 bits.
type prefix [16]byte

func prefixOf(k *Key) prefix { return prefix(k[:16]) }

// entry is one indexed key: 20 bytes, no padding.
type entry struct {
	p  prefix
	ts uint32 // Unix seconds when recorded
}

// bucketBits sets the number of buckets. The key is a uniform hash, so its
// first 16 bits spread keys evenly: 1M keys make buckets of ~15 entries
// (4 comparisons per lookup), 10M of ~150 (8 comparisons, 1.5 kB moved per
// insert).
const bucketBits = 16

// index maps key prefixes to the time they were recorded. It is a fixed
// array of buckets, each a slice of entries sorted by prefix. Compared with
// a map[prefix]uint32 it costs ~22-26 bytes per key instead of 30-45, grows
// by small per-bucket steps instead of doubling (so no pause to rehash a
// million keys under the store's lock), and never hashes: the key already
// is one. It is not safe for concurrent use; the Store's mutex guards it.
type index struct {
	buckets [][]entry
	n       int
}

func newIndex() *index {
	return &index{buckets: make([][]entry, 1<<bucketBits)}
}

func bucketOf(p *prefix) int { return int(p[0])<<8 | int(p[1]) }

// cmpPrefix orders prefixes; comparing two uint64s is faster than bytes.Compare.
func cmpPrefix(a, b *prefix) int {
	a0, b0 := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if a0 != b0 {
		if a0 < b0 {
			return -1
		}
		return 1
	}
	a1, b1 := binary.BigEndian.Uint64(a[8:]), binary.BigEndian.Uint64(b[8:])
	switch {
	case a1 < b1:
		return -1
	case a1 > b1:
		return 1
	}
	return 0
}

// search returns where p is or would be inserted in bucket b.
func search(b []entry, p *prefix) (int, bool) {
	lo, hi := 0, len(b)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmpPrefix(&b[m].p, p) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(b) && b[lo].p == *p
}

// get returns the time p was recorded.
func (x *index) get(p *prefix) (uint32, bool) {
	b := x.buckets[bucketOf(p)]
	if i, ok := search(b, p); ok {
		return b[i].ts, true
	}
	return 0, false
}

// put records p at ts, replacing any earlier time.
func (x *index) put(p *prefix, ts uint32) {
	bi := bucketOf(p)
	b := x.buckets[bi]
	i, ok := search(b, p)
	if ok {
		b[i].ts = ts
		return
	}
	if len(b) == cap(b) {
		// Grow by a quarter rather than append's doubling: buckets fill
		// in step (the keys are uniform), so doubling would double the
		// whole index at once.
		nb := make([]entry, len(b)+1, growCap(len(b)+1))
		copy(nb, b[:i])
		copy(nb[i+1:], b[i:])
		b = nb
	} else {
		b = b[:len(b)+1]
		copy(b[i+1:], b[i:])
	}
	b[i] = entry{*p, ts}
	x.buckets[bi] = b
	x.n++
}

// del forgets p.
func (x *index) del(p *prefix) {
	bi := bucketOf(p)
	b := x.buckets[bi]
	i, ok := search(b, p)
	if !ok {
		return
	}
	copy(b[i:], b[i+1:])
	b = b[:len(b)-1]
	if cap(b) > 2*len(b)+8 {
		// Give memory back after expiry empties a bucket; the margin
		// keeps a bucket from shrinking and growing on alternate calls.
		b = append(make([]entry, 0, growCap(len(b))), b...)
	}
	x.buckets[bi] = b
	x.n--
}

func growCap(n int) int { return n + n/4 + 2 }

// len is the number of keys indexed.
func (x *index) len() int { return x.n }

// loader builds an index from a log in two passes: count announces each
// prefix (valid or not) so buckets can be sized once, add then fills them
// in any order, and finish sorts each bucket and keeps the latest time of
// each prefix.
type loader struct {
	x      *index
	counts []uint32
}

func newLoader() *loader {
	return &loader{x: newIndex(), counts: make([]uint32, 1<<bucketBits)}
}

func (l *loader) count(p *prefix) { l.counts[bucketOf(p)]++ }

// allocate sizes the buckets from the counts; call it between the passes.
func (l *loader) allocate() {
	for i, c := range l.counts {
		if c > 0 {
			l.x.buckets[i] = make([]entry, 0, c)
		}
	}
	l.counts = nil
}

func (l *loader) add(p *prefix, ts uint32) {
	bi := bucketOf(p)
	l.x.buckets[bi] = append(l.x.buckets[bi], entry{*p, ts})
}

// finish sorts and de-duplicates the buckets and returns the index.
func (l *loader) finish() *index {
	x := l.x
	x.n = 0
	for bi, b := range x.buckets {
		if len(b) == 0 {
			x.buckets[bi] = nil
			continue
		}
		slices.SortFunc(b, func(a, c entry) int {
			if r := cmpPrefix(&a.p, &c.p); r != 0 {
				return r
			}
			return cmp.Compare(c.ts, a.ts) // latest first
		})
		b = slices.CompactFunc(b, func(a, c entry) bool { return a.p == c.p })
		if cap(b)-len(b) > len(b)/8+2 {
			// Many dead or duplicate records: release the slack.
			b = append(make([]entry, 0, len(b)), b...)
		}
		x.buckets[bi] = b
		x.n += len(b)
	}
	return x
}
