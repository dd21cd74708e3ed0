package seen

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestIndexMatchesMap runs random operations against the index and a map.
// Keys share a few buckets so buckets grow, shift and shrink.
func TestIndexMatchesMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := newIndex()
	ref := map[prefix]uint32{}
	randKey := func() prefix {
		var p prefix
		p[0] = byte(rng.IntN(3))
		p[1] = byte(rng.IntN(2))
		p[2+rng.IntN(14)] = byte(rng.IntN(64)) // ~3000 distinct keys
		return p
	}
	for i := range 200000 {
		p := randKey()
		switch op := rng.IntN(10); {
		case op < 5:
			ts := rng.Uint32()
			x.put(&p, ts)
			ref[p] = ts
		case op < 8:
			x.del(&p)
			delete(ref, p)
		default:
			got, ok := x.get(&p)
			want, wok := ref[p]
			if ok != wok || got != want {
				t.Fatalf("op %d: get(%x) = %d, %v; want %d, %v", i, p, got, ok, want, wok)
			}
		}
		if x.len() != len(ref) {
			t.Fatalf("op %d: len %d, want %d", i, x.len(), len(ref))
		}
	}
	for p, want := range ref {
		if got, ok := x.get(&p); !ok || got != want {
			t.Fatalf("get(%x) = %d, %v; want %d", p, got, ok, want)
		}
	}
	for bi, b := range x.buckets {
		if !slices.IsSortedFunc(b, func(a, c entry) int { return cmpPrefix(&a.p, &c.p) }) {
			t.Fatalf("bucket %d not sorted", bi)
		}
		if len(b) > 0 && cap(b) > 2*len(b)+8 && cap(b) > growCap(len(b)) {
			t.Fatalf("bucket %d: cap %d for %d entries was not released", bi, cap(b), len(b))
		}
	}
}

func TestLoaderKeepsLatest(t *testing.T) {
	l := newLoader()
	k1, k2 := keyN(1), keyN(2)
	p1, p2 := prefixOf(&k1), prefixOf(&k2)
	adds := []struct {
		p  prefix
		ts uint32
	}{{p1, 10}, {p2, 5}, {p1, 30}, {p1, 20}, {p2, 7}}
	for _, a := range adds {
		l.count(&a.p)
	}
	l.allocate()
	for _, a := range adds {
		l.add(&a.p, a.ts)
	}
	x := l.finish()
	if x.len() != 2 {
		t.Fatalf("len %d, want 2", x.len())
	}
	if ts, _ := x.get(&p1); ts != 30 {
		t.Fatalf("p1 at %d, want 30", ts)
	}
	if ts, _ := x.get(&p2); ts != 7 {
		t.Fatalf("p2 at %d, want 7", ts)
	}
}
