package main

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzKafkaURL: whatever the URL, parseKafkaURL returns in bounded time
// with either one line saying why or a URL that keeps every rule: a
// host, a port from 1 to 65535, valid and distinct topics, tls=off only
// to loopback, a name that is the URL without its options and parses to
// the same source, and an offsets file directly under --eventdb.
func FuzzKafkaURL(f *testing.F) {
	for _, s := range []string{
		"kafka://kafka.gcn.nasa.gov/gcn.classic.voevent.*?auth=/etc/comet/gcn.auth",
		"kafka://[::1]:19092/a,b*?tls=off&from=start",
		"kafka://127.0.0.1:9092/t?from=2026-04-06T00:00:00Z&auth=%2Fx",
		"kafka://user:pw@h/t#x",
		"kafka://h:65536/a,,a",
		"KAFKA://[fe80::1%25eth0]/t?tls=on",
		"kafka://h/" + strings.Repeat("x", 249) + "*",
	} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, s string, topics bool) {
		u, err := parseKafkaURL(s, topics)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("%q: error on more than one line: %q", s, err)
			}
			return
		}
		if u.host == "" || u.port < 1 || u.port > 65535 {
			t.Fatalf("%q: host %q port %d", s, u.host, u.port)
		}
		if topics != (len(u.topics) > 0) {
			t.Fatalf("%q (topics %v): %q", s, topics, u.topics)
		}
		seen := map[string]bool{}
		for _, tp := range u.topics {
			if checkTopic(tp) != nil || seen[tp] {
				t.Fatalf("%q: topic %q taken", s, tp)
			}
			seen[tp] = true
		}
		if u.tlsOff && !isLoopbackHost(u.host) {
			t.Fatalf("%q: tls=off to %q", s, u.host)
		}
		if !strings.HasPrefix(s, u.name) || strings.ContainsAny(u.name, "?#@") {
			t.Fatalf("%q: name %q", s, u.name)
		}
		again, err := parseKafkaURL(u.name, topics)
		if err != nil || again.addr() != u.addr() || !reflect.DeepEqual(again.topics, u.topics) || again.name != u.name {
			t.Fatalf("%q: its name %q parses to %+v, %v", s, u.name, again, err)
		}
		file := u.offsetsFile("/db")
		if base := filepath.Base(file); filepath.Dir(file) != "/db" || len(base) > 255 || strings.ContainsAny(base, "/:\\") {
			t.Fatalf("%q: offsets file %q", s, file)
		}
	})
}
