package vtp

import (
	"net/netip"
	"sync"
)

// conns counts the connections a broker has accepted, so that one peer
// cannot use up the process's file descriptors and memory: at most max in
// all, and at most perAddr from one IP address on one port. Unix-socket
// peers have no address and count only towards the total. Connections the
// broker makes itself (to remote brokers) are not counted.
type conns struct {
	mu     sync.Mutex
	total  int
	byAddr map[connKey]int
}

type connKey struct {
	port string // "receive" or "broadcast"
	addr netip.Addr
}

// Why admit refuses a connection; fixed texts, so that the warnings they
// cause are rate-limited as one kind each.
const (
	refusedTotal   = "connection refused: the broker has as many connections as --max-connections allows"
	refusedPerAddr = "connection refused: this address has as many connections to this port as --max-connections-per-address allows"
)

// admit counts a new connection, or returns why it must be refused.
func (c *conns) admit(port string, addr netip.Addr, max, perAddr int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.total >= max {
		return refusedTotal
	}
	k := connKey{port, addr}
	if addr.IsValid() {
		if c.byAddr[k] >= perAddr {
			return refusedPerAddr
		}
		if c.byAddr == nil {
			c.byAddr = map[connKey]int{}
		}
		c.byAddr[k]++
	}
	c.total++
	return ""
}

// release uncounts a connection admit let in.
func (c *conns) release(port string, addr netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if !addr.IsValid() {
		return
	}
	k := connKey{port, addr}
	if c.byAddr[k] <= 1 {
		delete(c.byAddr, k)
	} else {
		c.byAddr[k]--
	}
}

// open returns the number of connections counted.
func (c *conns) open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}
