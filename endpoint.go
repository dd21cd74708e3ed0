package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// endpoint is where the broker listens: a TCP port on one interface (all
// when empty) or a Unix socket, as Twisted's endpoint strings give them.
type endpoint struct {
	network string // "tcp", "tcp4" (IPv4 only), "unix", "tls" (TCP carrying TLS), or "dir" (a spool directory, --receive only)
	address string // host:port for tcp and tls, path for unix and dir
}

// parseEndpoint reads the endpoint forms Comet accepts after --receive=
// and --broadcast=: "tcp:PORT", "tcp:PORT:interface=ADDR",
// "tcp:port=PORT:interface=ADDR" and "unix:PATH" or "unix:address=PATH";
// and comet's spool directory, "dir:PATH", for --receive only.
// Colons inside values are escaped with a backslash, as in Twisted
// ("tcp:8098:interface=\:\:1").
func parseEndpoint(s string) (endpoint, error) {
	parts := splitEscaped(s)
	kind, args := strings.ToLower(parts[0]), parts[1:]
	pos, kw := []string{}, map[string]string{}
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			kw[k] = v
		} else {
			pos = append(pos, a)
		}
	}
	switch kind {
	case "tls":
		ep, err := parseEndpoint("tcp" + strings.TrimPrefix(s, parts[0]))
		if err != nil {
			return endpoint{}, errors.New(strings.ReplaceAll(err.Error(), "tcp:", "tls:"))
		}
		ep.network = "tls"
		return ep, nil
	case "tcp":
		port, ok := kw["port"]
		if len(pos) > 0 {
			port, ok, pos = pos[0], true, pos[1:]
		}
		if !ok || len(pos) > 0 {
			return endpoint{}, fmt.Errorf("endpoint %q: want tcp:PORT[:interface=ADDR]", s)
		}
		if _, err := parsePort(port); err != nil {
			return endpoint{}, fmt.Errorf("endpoint %q: %v", s, err)
		}
		iface := kw["interface"]
		if iface != "" && net.ParseIP(iface) == nil {
			return endpoint{}, fmt.Errorf("endpoint %q: interface %q is not an IP address", s, iface)
		}
		for k := range kw {
			if k != "port" && k != "interface" && k != "backlog" {
				return endpoint{}, fmt.Errorf("endpoint %q: unknown option %q", s, k)
			}
		}
		return endpoint{"tcp", net.JoinHostPort(iface, port)}, nil
	case "unix":
		path, ok := kw["address"]
		if len(pos) > 0 {
			path, ok, pos = pos[0], true, pos[1:]
		}
		if !ok || path == "" || len(pos) > 0 {
			return endpoint{}, fmt.Errorf("endpoint %q: want unix:PATH", s)
		}
		return endpoint{"unix", path}, nil
	case "dir":
		path := strings.Join(args, ":") // a colon needs no escape
		if path == "" || strings.ContainsAny(path, "\x00\n\r") {
			return endpoint{}, fmt.Errorf("endpoint %q: want dir:PATH, a directory's path", s)
		}
		return endpoint{"dir", path}, nil
	}
	if _, err := parsePort(s); err == nil {
		return endpoint{}, fmt.Errorf("want an endpoint such as tcp:%s, not a bare port (tcp:PORT[:interface=ADDR] or unix:PATH)", s)
	}
	return endpoint{}, fmt.Errorf("endpoint %q: want tcp:PORT[:interface=ADDR], tls:PORT[:interface=ADDR] or unix:PATH", s)
}

// splitEscaped splits on ':' except where a backslash escapes it.
func splitEscaped(s string) []string {
	var parts []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case s[i] == ':':
			parts = append(parts, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(parts, cur.String())
}

func parsePort(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > 65535 {
		return 0, fmt.Errorf("%q is not a port number (0-65535)", s)
	}
	return n, nil
}

// parseRemote reads --remote=HOST[:PORT] (IPv6 as [::1] or [::1]:8099)
// and --subscribe=tcp:HOST:PORT, returning host:port, or
// --subscribe=tls:HOST:PORT, returning tls:host:port.
func parseRemote(s string) (string, error) {
	if rest, ok := strings.CutPrefix(s, "tls:"); ok {
		r, err := parseRemote(rest)
		return "tls:" + r, err
	}
	s = strings.TrimPrefix(s, "tcp:")
	host, port := s, "8099"
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", fmt.Errorf("%q: missing ']'", s)
		}
		host = s[1:end]
		if rest := s[end+1:]; rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return "", fmt.Errorf("%q: want [ADDR]:PORT", s)
			}
			port = rest[1:]
		}
	case strings.Count(s, ":") == 1:
		host, port, _ = strings.Cut(s, ":")
	case strings.Count(s, ":") > 1: // a bare IPv6 address
		if net.ParseIP(s) == nil {
			return "", fmt.Errorf("%q is not HOST[:PORT]", s)
		}
	}
	if host == "" {
		return "", fmt.Errorf("%q: empty host", s)
	}
	if n, err := parsePort(port); err != nil || n == 0 {
		return "", fmt.Errorf("%q: bad port %q", s, port)
	}
	return net.JoinHostPort(host, port), nil
}
