package status

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"comet/voevent"
)

// hostGuard refuses requests whose Host header names another server, so
// that a page in a local browser cannot read the status through DNS
// rebinding (its own name, made to resolve to this machine): such a
// request carries the attacker's name, never an address or "localhost".
// Allowed are "localhost", a loopback address, and the address the server
// listens on (any address when it listens on all of them), each with any
// port or none; a request without a Host header (HTTP/1.0) too. On a Unix
// socket, which no browser reaches, every Host is allowed.
func hostGuard(addr net.Addr, next http.Handler) http.Handler {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return next
	}
	own, _ := netip.AddrFromSlice(ta.IP)
	own = own.Unmap()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(own, r.Host) {
			http.Error(w, fmt.Sprintf("Host %q is not this status server's: ask for localhost, a loopback address or the address it listens on",
				voevent.Clip(r.Host)), http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostAllowed says whether host (a Host header: name or address, maybe
// with a port) may be answered by a server listening on own.
func hostAllowed(own netip.Addr, host string) bool {
	if host == "" {
		return true
	}
	name, ok := hostName(host)
	if !ok {
		return false
	}
	if strings.EqualFold(strings.TrimSuffix(name, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(name)
	if err != nil {
		return false
	}
	ip = ip.WithZone("").Unmap()
	return ip.IsLoopback() || own.IsUnspecified() || ip == own.WithZone("")
}

// hostName takes the port, if any, off a Host header: "name", "name:port",
// "[v6]" or "[v6]:port".
func hostName(host string) (string, bool) {
	name, port := host, ""
	if rest, ok := strings.CutPrefix(host, "["); ok {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", false
		}
		name, port = rest[:end], rest[end+1:]
		if port != "" {
			p, ok := strings.CutPrefix(port, ":")
			if !ok {
				return "", false
			}
			port = p
		}
	} else if i := strings.LastIndexByte(host, ':'); i >= 0 {
		if strings.Count(host, ":") > 1 { // an IPv6 address without brackets
			return "", false
		}
		name, port = host[:i], host[i+1:]
	}
	for _, r := range port {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	return name, name != ""
}
