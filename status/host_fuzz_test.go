package status

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzHostAllowed: any Host header is decided without a panic, and one a
// loopback-only server allows names localhost or a loopback address, so
// no name a rebinding page could use ever gets through.
func FuzzHostAllowed(f *testing.F) {
	for _, s := range []string{"localhost", "localhost:8097", "[::1]:1", "127.0.0.1", "evil.example", "[::1", "[fe80::1%eth0]:2",
		"", ":", "[]:", "localhost.", "127.0.0.1.evil", "::1", "[::ffff:127.0.0.1]"} {
		f.Add(s)
	}
	own := netip.MustParseAddr("127.0.0.1")
	f.Fuzz(func(t *testing.T, host string) {
		if !hostAllowed(own, host) || host == "" {
			return
		}
		name, ok := hostName(host)
		if !ok {
			t.Fatalf("%q allowed but not parsed", host)
		}
		if strings.EqualFold(strings.TrimSuffix(name, "."), "localhost") {
			return
		}
		ip, err := netip.ParseAddr(name)
		if err != nil || !ip.Unmap().IsLoopback() {
			t.Fatalf("%q allowed on a loopback-only server", host)
		}
	})
}
