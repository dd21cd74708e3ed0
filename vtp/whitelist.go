package vtp

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// Whitelist is the set of networks allowed to connect to a port. An empty
// Whitelist admits every IPv4 and IPv6 address (Comet's default,
// 0.0.0.0/0, silently refuses IPv6 peers; we do not).
type Whitelist []netip.Prefix

// ParseNetwork reads a network as --author-whitelist and
// --subscriber-whitelist accept it: CIDR ("10.0.0.0/8", "2001:db8::/32"),
// dot-decimal mask ("127.0.0.1/255.255.255.255") or a bare address. Host
// bits may be set, as with Python's ip_network(strict=False).
func ParseNetwork(s string) (netip.Prefix, error) {
	addrPart, maskPart, hasMask := strings.Cut(s, "/")
	addr, err := netip.ParseAddr(addrPart)
	if err != nil || addr.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("%q is not an IP network", s)
	}
	addr = addr.Unmap()
	bits := addr.BitLen()
	if hasMask {
		if strings.Contains(maskPart, ".") {
			m := net.ParseIP(maskPart).To4()
			if m == nil || !addr.Is4() {
				return netip.Prefix{}, fmt.Errorf("%q: bad netmask %q", s, maskPart)
			}
			ones, total := net.IPMask(m).Size()
			if total == 0 {
				return netip.Prefix{}, fmt.Errorf("%q: netmask %q is not contiguous", s, maskPart)
			}
			bits = ones
		} else {
			n, err := parseBits(maskPart, addr.BitLen())
			if err != nil {
				return netip.Prefix{}, fmt.Errorf("%q: %v", s, err)
			}
			bits = n
		}
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q: %v", s, err)
	}
	return p, nil
}

func parseBits(s string, max int) (int, error) {
	n := 0
	if s == "" || len(s) > 3 {
		return 0, fmt.Errorf("bad prefix length %q", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad prefix length %q", s)
		}
		n = n*10 + int(c-'0')
	}
	if n > max {
		return 0, fmt.Errorf("prefix length %d exceeds %d", n, max)
	}
	return n, nil
}

// Allows reports whether a peer address is admitted.
func (w Whitelist) Allows(addr netip.Addr) bool {
	if len(w) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, p := range w {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// peerAddr extracts the IP address of a connection's remote end; Unix
// socket peers have none.
func peerAddr(c net.Conn) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(c.RemoteAddr().String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}
