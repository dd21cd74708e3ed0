package vtp

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestPeerKeyGroupsIPv6By64: the per-address limit counts one IPv6 /64 as
// one peer, since one host commonly holds a whole /64; IPv4 addresses
// count one by one, and an IPv4-mapped IPv6 address as its IPv4 address.
func TestPeerKeyGroupsIPv6By64(t *testing.T) {
	same := func(a, b string) bool {
		return peerKey(netip.MustParseAddr(a)) == peerKey(netip.MustParseAddr(b))
	}
	for _, pair := range [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:fffe"},
		{"2001:db8:1:2::1", "2001:db8:1:2:dead:beef::7"},
		{"::ffff:192.0.2.1", "192.0.2.1"},
	} {
		if !same(pair[0], pair[1]) {
			t.Errorf("%s and %s counted as different peers", pair[0], pair[1])
		}
	}
	for _, pair := range [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
		{"192.0.2.1", "192.0.2.2"},
		{"::1", "127.0.0.1"},
	} {
		if same(pair[0], pair[1]) {
			t.Errorf("%s and %s counted as one peer", pair[0], pair[1])
		}
	}

	// One host walking through its /64 meets the limit as one peer would,
	// and its neighbour in the next /64 does not.
	var c conns
	const perAddr = 3
	for i := range perAddr {
		a := netip.MustParseAddr(fmt.Sprintf("2001:db8:1:2::%x", i+1))
		if why := c.admit("broadcast", a, 1000, perAddr); why != "" {
			t.Fatalf("connection %d refused: %s", i+1, why)
		}
	}
	if why := c.admit("broadcast", netip.MustParseAddr("2001:db8:1:2:aaaa::1"), 1000, perAddr); why != refusedPerAddr {
		t.Errorf("a fourth address of one /64 admitted (%q)", why)
	}
	if why := c.admit("broadcast", netip.MustParseAddr("2001:db8:1:3::1"), 1000, perAddr); why != "" {
		t.Errorf("the next /64 refused: %s", why)
	}
	// Releasing by any address of the /64 frees its count.
	c.release("broadcast", netip.MustParseAddr("2001:db8:1:2::2"))
	if why := c.admit("broadcast", netip.MustParseAddr("2001:db8:1:2:bbbb::9"), 1000, perAddr); why != "" {
		t.Errorf("after a release: %s", why)
	}
}

// TestPortReserve: every port but one keeps part of the total for the
// other, whatever --max-connections is.
func TestPortReserve(t *testing.T) {
	for _, tt := range []struct{ max, reserve int }{{1, 0}, {2, 1}, {3, 1}, {8, 1}, {9, 2}, {4096, 512}} {
		if got := portReserve(tt.max); got != tt.reserve {
			t.Errorf("portReserve(%d) = %d, want %d", tt.max, got, tt.reserve)
		}
	}
}

// TestSubscribersCannotLockOutAuthors fills the subscriber port from many
// addresses, each within --max-connections-per-address, until the broker
// refuses more; an author can still connect and publish, and the
// subscribers get the event.
func TestSubscribersCannotLockOutAuthors(t *testing.T) {
	const max = 8
	tb := startBroker(t, brokerIVO, func(c *Config) { c.MaxConns, c.MaxConnsPerAddr = max, 2 })
	var subs []*testSub
	for i := range max - portReserve(max) {
		c := holdConn(t, fmt.Sprintf("127.0.0.%d", 1+i/2), tb.bcast)
		subs = append(subs, subscribeOn(t, tb, c, subOpts{}))
	}
	// The subscriber port has its share: one more is refused, from a
	// fresh address, though the total is not reached.
	extra := holdConn(t, "127.0.0.100", tb.bcast)
	if refused(t, extra, 5*time.Second) {
		tb.log.waitLog(t, refusedPort)
	} else {
		t.Error("the subscriber port took the connections kept for authors")
	}

	author, err := net.Dial("tcp", tb.recv)
	if err != nil {
		t.Fatal(err)
	}
	defer author.Close()
	id := ivorn("author-gets-in")
	if a := exchange(t, author, testEvent(id, "test", ""))[0]; a.Role != RoleAck {
		t.Fatalf("author's event answered %q %v", a.Role, a.Results)
	}
	for _, s := range subs {
		if got := s.nextIVORN(t); got != id {
			t.Fatalf("a subscriber got %s, want %s", got, id)
		}
	}
}
