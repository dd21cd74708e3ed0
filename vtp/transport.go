package vtp

import (
	"strings"
	"time"
	"unicode/utf8"

	"comet/voevent"
)

// Transport roles (VTP §3); every other role on a Transport root, and
// every role that is neither a transport nor a VOEvent role, is
// "incomprehensible": logged, not answered.
const (
	RoleAck          = "ack"
	RoleNak          = "nak"
	RoleIAmAlive     = "iamalive"
	RoleAuthenticate = "authenticate"
)

// IsEventRole reports whether role is one of the four VOEvent roles.
func IsEventRole(role string) bool {
	switch role {
	case "observation", "prediction", "utility", "test":
		return true
	}
	return false
}

// The root start tag Comet (lxml) writes: namespace declarations first,
// then role, version and the schema location.
const (
	transportOpen = `<?xml version='1.0' encoding='UTF-8'?>` + "\n" +
		`<trn:Transport xmlns:trn="http://www.telescope-networks.org/xml/Transport/v1.1" ` +
		`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" role="`
	transportAttrs = `" version="1.0" xsi:schemaLocation="http://telescope-networks.org/schema/Transport/v1.1 ` +
		`http://telescope-networks.org/schema/Transport-v1.1.xsd">`
	transportClose = `</trn:Transport>`
)

var escaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "\r", "&#13;", "\n", "&#10;", "\t", "&#9;")

// message builds a Transport message in Comet 3.1's exact shape: Origin,
// Response (omitted when empty), TimeStamp (UTC, seconds), then meta, the
// already-escaped content of <Meta> (omitted when empty).
func message(role, origin, response string, now time.Time, meta string) []byte {
	var b strings.Builder
	b.Grow(len(transportOpen) + len(transportAttrs) + len(origin) + len(response) + len(meta) + 128)
	b.WriteString(transportOpen)
	b.WriteString(role)
	b.WriteString(transportAttrs)
	b.WriteString("<Origin>")
	b.WriteString(escaper.Replace(origin))
	b.WriteString("</Origin>")
	if response != "" {
		b.WriteString("<Response>")
		b.WriteString(escaper.Replace(response))
		b.WriteString("</Response>")
	}
	b.WriteString("<TimeStamp>")
	b.WriteString(now.UTC().Format("2006-01-02T15:04:05Z"))
	b.WriteString("</TimeStamp>")
	if meta != "" {
		b.WriteString("<Meta>")
		b.WriteString(meta)
		b.WriteString("</Meta>")
	}
	b.WriteString(transportClose)
	return []byte(b.String())
}

func resultMeta(result string) string {
	if result == "" {
		return ""
	}
	return "<Result>" + escaper.Replace(result) + "</Result>"
}

// Ack acknowledges the event ivorn on behalf of local; result, if not
// empty, goes in Meta/Result (we use it to say a duplicate was not relayed).
func Ack(ivorn, local, result string, now time.Time) []byte {
	return message(RoleAck, ivorn, local, now, resultMeta(result))
}

// Nak refuses the event ivorn; reason goes in Meta/Result as "Event
// rejected: reason". Both come from the peer's message, so both are cut
// (with "…") to keep a nak under 1 KiB whatever the peer sent: a refusal
// must never cost more to send than the refused message.
func Nak(ivorn, local, reason string, now time.Time) []byte {
	return message(RoleNak, clipEscaped(ivorn, maxNakOrigin), local, now,
		resultMeta(clipEscaped("Event rejected: "+reason, maxNakReason)))
}

// Escaped sizes of what a nak quotes. Real ivorns are under 100 bytes and
// real reasons under 200.
const (
	maxNakOrigin = 160
	maxNakReason = 320
)

// clipEscaped cuts s, ending it with "…", so that escaped for XML it takes
// about max bytes at most.
func clipEscaped(s string, max int) string {
	if 6*len(s) <= max { // no character escapes to more than 6 bytes
		return s
	}
	n := 0
	for i, r := range s {
		w := utf8.RuneLen(r)
		switch r {
		case '&', '\r', '\n', '\t':
			w = 5
		case '<', '>':
			w = 4
		case '"':
			w = 6
		}
		if n += w; n > max-len("…") {
			return s[:i] + "…"
		}
	}
	return s
}

// IAmAlive is the broker's keep-alive probe, from local.
func IAmAlive(local string, now time.Time) []byte {
	return message(RoleIAmAlive, local, "", now, "")
}

// IAmAliveResponse answers a probe whose Origin was peer.
func IAmAliveResponse(peer, local string, now time.Time) []byte {
	return message(RoleIAmAlive, peer, local, now, "")
}

// Authenticate is the broker's request for a new subscriber's filters.
func Authenticate(local string, now time.Time) []byte {
	return message(RoleAuthenticate, local, "", now, "")
}

// AuthenticateResponse answers the broker peer with our XPath filters.
func AuthenticateResponse(peer, local string, filters []string, now time.Time) []byte {
	return message(RoleAuthenticate, peer, local, now, filterParams(filters))
}

// filterParams is the escaped Meta content carrying filters.
func filterParams(filters []string) string {
	var meta strings.Builder
	for _, f := range filters {
		meta.WriteString(`<Param name="xpath-filter" value="`)
		meta.WriteString(escaper.Replace(f))
		meta.WriteString(`"/>`)
	}
	return meta.String()
}

// Transport is what a broker needs from a received Transport message.
type Transport struct {
	Role     string
	Origin   string
	Response string
	Results  []string // Meta/Result texts (a nak's reason)
	Filters  []string // Meta/Param name="xpath-filter", and legacy Meta/filter type="xpath"
}

// ParseTransport reads the fields of a parsed Transport message. Children
// are found by local name in any namespace, because three spellings of the
// Transport namespace are in use.
func ParseTransport(e *voevent.Event) Transport {
	t := Transport{Role: e.Role}
	for c := range e.Doc.Element().Children() {
		switch c.Local() {
		case "Origin":
			t.Origin = strings.TrimSpace(c.Value())
		case "Response":
			t.Response = strings.TrimSpace(c.Value())
		case "Meta":
			for m := range c.Children() {
				switch m.Local() {
				case "Result":
					t.Results = append(t.Results, strings.TrimSpace(m.Value()))
				case "Param":
					if name, _ := m.Attr("", "name"); name == "xpath-filter" {
						if v, ok := m.Attr("", "value"); ok {
							t.Filters = append(t.Filters, v)
						}
					}
				case "filter":
					if typ, _ := m.Attr("", "type"); typ == "xpath" {
						t.Filters = append(t.Filters, strings.TrimSpace(m.Value()))
					}
				}
			}
		}
	}
	return t
}
