package vtp

import (
	"net/netip"
	"testing"
)

func TestParseNetwork(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"10.0.0.0/8", "10.0.0.0/8"},
		{"10.1.2.3/8", "10.0.0.0/8"}, // host bits allowed
		{"127.0.0.1/255.255.255.255", "127.0.0.1/32"},
		{"192.168.0.0/255.255.0.0", "192.168.0.0/16"},
		{"127.0.0.1", "127.0.0.1/32"},
		{"0.0.0.0/0", "0.0.0.0/0"},
		{"::1", "::1/128"},
		{"2001:db8::1/32", "2001:db8::/32"},
		{"::/0", "::/0"},
		{"::ffff:10.0.0.1/32", "10.0.0.1/32"},
	}
	for _, tt := range tests {
		got, err := ParseNetwork(tt.in)
		if err != nil || got.String() != tt.want {
			t.Errorf("ParseNetwork(%q) = %v, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "10.0.0.0/33", "10.0.0/8", "example.org", "10.0.0.0/255.0.255.0", "::1/255.255.255.0", "10.0.0.0/-1", "10.0.0.0/x", "fe80::1%eth0"} {
		if p, err := ParseNetwork(bad); err == nil {
			t.Errorf("ParseNetwork(%q) = %v, want an error", bad, p)
		}
	}
}

func TestWhitelistAllows(t *testing.T) {
	addr := netip.MustParseAddr
	var all Whitelist
	for _, a := range []string{"127.0.0.1", "::1", "2001:db8::5", "8.8.8.8"} {
		if !all.Allows(addr(a)) {
			t.Errorf("empty whitelist refused %s", a)
		}
	}
	wl := Whitelist{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("2001:db8::/32")}
	for a, want := range map[string]bool{
		"127.0.0.1": true, "::ffff:127.0.0.1": true, "127.0.0.2": false, "::1": false,
		"2001:db8::5": true, "2001:db9::5": false,
	} {
		if got := wl.Allows(addr(a)); got != want {
			t.Errorf("Allows(%s) = %v, want %v", a, got, want)
		}
	}
}
