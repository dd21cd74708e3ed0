package vtp

import (
	"strings"
	"testing"
)

func TestQueue(t *testing.T) {
	q := newQueue(5, 100)
	msg := func(n int) item { return item{msg: []byte(strings.Repeat("x", n))} }
	for i := range 5 {
		if err := q.push(msg(10 + i)); err != nil {
			t.Fatalf("push %d: %v", i, err)
		}
	}
	if q.empty() {
		t.Error("queue empty after pushes")
	}
	if err := q.push(msg(1)); err == nil || !strings.Contains(err.Error(), "5 messages") {
		t.Errorf("sixth push: %v, want the item limit", err)
	}
	got := q.take(nil, 2)
	if len(got) != 2 || len(got[0].msg) != 10 || len(got[1].msg) != 11 {
		t.Fatalf("take(2) gave %d items", len(got))
	}
	if q.bytes != 12+13+14 {
		t.Errorf("bytes = %d after taking two", q.bytes)
	}
	if err := q.push(msg(62)); err == nil || !strings.Contains(err.Error(), "100 bytes") {
		t.Errorf("push over the byte limit: %v", err)
	}
	if err := q.push(msg(61)); err != nil {
		t.Errorf("push up to the byte limit: %v", err)
	}
	got = q.take(got, 10)
	var lens []int
	for _, it := range got {
		lens = append(lens, len(it.msg))
	}
	if len(lens) != 4 || lens[0] != 12 || lens[3] != 61 || q.bytes != 0 || len(q.take(nil, 10)) != 0 {
		t.Errorf("rest came out as %v, %d bytes left", lens, q.bytes)
	}
	if !q.empty() {
		t.Error("queue not empty after taking everything")
	}
}

func TestQueueGivesBackBurstMemory(t *testing.T) {
	q := newQueue(100000, 1<<30)
	for range 10000 {
		q.push(item{msg: []byte("x")})
	}
	var batch []item
	for len(q.items) > 10 {
		batch = q.take(batch, maxWriteBatch)
	}
	if cap(q.items) > 1024 {
		t.Errorf("after draining a 10000-item burst the queue still holds %d slots", cap(q.items))
	}
}
