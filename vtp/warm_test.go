package vtp

import (
	"context"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"
)

// TestWaitingConnectionGoroutinesAreBounded: goroutines that served an
// author's connection wait for the next one, but no more than warmGoroutines,
// however many connections came at once; the next connection is
// served by one of them; and Shutdown ends them all.
func TestWaitingConnectionGoroutinesAreBounded(t *testing.T) {
	const burst = 4 * warmGoroutines
	b := New(Config{LocalIVO: brokerIVO, Logger: discardLogger(), Seen: newMemSeen().check})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	served := make(chan struct{})
	go func() { b.ServeAuthors(l); close(served) }()
	settle := func(want int) int {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		return runtime.NumGoroutine()
	}
	// A burst of authors connected at the same time, each answered.
	var wg sync.WaitGroup
	for i := range burst {
		wg.Go(func() {
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			if a := exchange(t, c, testEvent(ivorn("burst"), "test", ""))[0]; a.Role != RoleAck {
				t.Errorf("author %d: %s %v", i, a.Role, a.Results)
			}
		})
	}
	wg.Wait()
	// The accept loop and at most warmGoroutines waiting.
	if n := settle(base + 1 + warmGoroutines); n > base+1+warmGoroutines {
		t.Errorf("after %d connections, %d goroutines remain, want at most %d", burst, n-base, 1+warmGoroutines)
	}
	mustAck(t, l.Addr().String(), testEvent(ivorn("next"), "test", ""))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	<-served
	if n := settle(base); n > base {
		t.Errorf("after Shutdown, %d goroutines remain", n-base)
	}
}
