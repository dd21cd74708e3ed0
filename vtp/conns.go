package vtp

import (
	"net/netip"
	"sync"
)

// conns counts the connections a broker has accepted, so that one peer
// cannot use up the process's file descriptors and memory: at most max in
// all, and at most perAddr from one peer on one port. Unix-socket peers
// have no address and count only towards the totals. Connections the
// broker makes itself (to remote brokers) are not counted.
//
// A peer is one IPv4 address, or one IPv6 /64: a single host is commonly
// given a whole /64, and could otherwise open perAddr connections from
// each of its 2^64 addresses.
//
// Neither port may take the last eighth of max (portReserve): that is
// kept for the other one, so that subscribers filling the broadcast port,
// however many hosts they come from, cannot lock the authors who publish
// the events out of the receive port, nor the reverse.
type conns struct {
	mu     sync.Mutex
	total  int
	byPort map[string]int
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
	refusedPort    = "connection refused: this port has all of --max-connections but the part kept for the other port"
	refusedPerAddr = "connection refused: this address has as many connections to this port as --max-connections-per-address allows"
)

// portReserve is how many of max connections one port may not take, kept
// for the other: an eighth, rounded up, and none when max is 1.
func portReserve(max int) int {
	return min((max+7)/8, max/2)
}

// peerKey is what the per-address limit counts a peer address as: the
// address itself for IPv4, its /64 for IPv6.
func peerKey(addr netip.Addr) netip.Addr {
	addr = addr.Unmap()
	if !addr.Is6() {
		return addr
	}
	p, err := addr.Prefix(64)
	if err != nil { // an address that is neither IPv4 nor IPv6 has no prefix
		return addr
	}
	return p.Addr()
}

// admit counts a new connection, or returns why it must be refused.
func (c *conns) admit(port string, addr netip.Addr, max, perAddr int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.total >= max {
		return refusedTotal
	}
	if c.byPort[port] >= max-portReserve(max) {
		return refusedPort
	}
	k := connKey{port, peerKey(addr)}
	if addr.IsValid() {
		if c.byAddr[k] >= perAddr {
			return refusedPerAddr
		}
		if c.byAddr == nil {
			c.byAddr = map[connKey]int{}
		}
		c.byAddr[k]++
	}
	if c.byPort == nil {
		c.byPort = map[string]int{}
	}
	c.byPort[port]++
	c.total++
	return ""
}

// release uncounts a connection admit let in.
func (c *conns) release(port string, addr netip.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if c.byPort[port] <= 1 {
		delete(c.byPort, port)
	} else {
		c.byPort[port]--
	}
	if !addr.IsValid() {
		return
	}
	k := connKey{port, peerKey(addr)}
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
