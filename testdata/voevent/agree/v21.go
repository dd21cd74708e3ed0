package main

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"

	"comet/voevent"
)

// fixed are hand-written documents for rules the corpus mutations reach
// rarely: root namespaces and the smallest events.
func fixed() []*doc {
	const head = `<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d" role="test" version="2.0">`
	bodies := []string{
		"", "<What/>", "<How/>", "<Why/>", "<Citations/>", "<WhereWhen/>", "<Reference uri=\"x\"> </Reference>",
		"<Who><Author/></Who>", "<What><Table/></What>", "<What><Table><Data/></Table></What>",
		"<What><Group><Group/></Group></What>", "<Citations><EventIVORN/><Description/><EventIVORN/></Citations>",
		"<WhereWhen><ObsDataLocation><ObservatoryLocation/><ObservationLocation><AstroCoordSystem/><AstroCoords/></ObservationLocation></ObsDataLocation></WhereWhen>",
	}
	var out []*doc
	for i, b := range bodies {
		out = append(out, &doc{name: fmt.Sprintf("fixed#%d", i), kind: "fixed", data: []byte(head + b + "</voe:VOEvent>")})
	}
	roots := []string{
		`<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d" version="2.0"/>`,
		`<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d" version="2.0"><Who xmlns=""/></VOEvent>`,
		`<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d" version="2.0"><Who/></VOEvent>`,
		`<VOEvent ivorn="ivo://a.b/c#d" version="2.0"/>`,
		`<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.1" ivorn="ivo://a.b/c#d" version="2.0"/>`,
		`<voe:VOEvent xmlns:voe="https://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d" version="2.0"/>`,
		`<voe:Who xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0"/>`,
		`<trn:Transport xmlns:trn="http://www.telescope-networks.org/xml/Transport/v1.1" version="1.0" role="ack"/>`,
	}
	for i, r := range roots {
		out = append(out, &doc{name: fmt.Sprintf("root#%d", i), kind: "root", data: []byte(r)})
	}
	return out
}

// ---- VOEvent 2.1 ----

// newNames are the element names 2.1 adds, for stray and renamed elements.
var newNames = []string{"Contributor", "TimeInterval", "ISOTimeStart", "ISOTimeStop", "PositionName", "Error2", "Error3",
	"TimeFrame", "SpaceFrame", "ReferencePosition", "SpaceRefFrame", "CoordFlavor", "TimeInstant", "Error", "Position2D", "Error2Radius"}

var versionAttr = regexp.MustCompile(`\bversion\s*=\s*("2\.0"|'2\.0')`)

// to21 moves a document to the 2.1 namespace: every mention of the 2.0
// namespace, and the first version="2.0" (the root's, in these packets).
func to21(data []byte) []byte {
	data = bytes.ReplaceAll(data, []byte(voevent.Namespace), []byte(voevent.Namespace21))
	if loc := versionAttr.FindIndex(data); loc != nil {
		data = slices.Concat(data[:loc[0]], []byte(`version="2.1"`), data[loc[1]:])
	}
	return data
}

func elem(name string, children ...*node) *node {
	return &node{kind: elemNode, name: xml.Name{Local: name}, children: children}
}

func text(s string) *node { return &node{kind: textNode, text: s} }

func leaf(name, value string) *node { return elem(name, text(value)) }

// enrich adds, where 2.1 allows them, a Contributor to each Author, a
// TimeFrame and SpaceFrame to each AstroCoordSystem, a PositionName to
// each AstroCoords, an Error2 or Error3 to each position, attributes to
// the coordinates, and turns the first TimeInstant into a TimeInterval.
func enrich(root *node) {
	interval := false
	for _, s := range sites(root) {
		n := s.n
		switch n.name.Local {
		case "Author":
			c := leaf("Contributor", "A. Person")
			c.attrs = []xml.Attr{{Name: xml.Name{Local: "role"}, Value: "Editor"}, {Name: xml.Name{Local: "altIdentifier"}, Value: "https://orcid.org/0000-0001-2345-6789"}}
			n.children = append(n.children, c)
		case "AstroCoordSystem":
			n.children = []*node{elem("TimeFrame", leaf("Name", "t"), leaf("TimeScale", "UTC")), elem("SpaceFrame", leaf("SpaceRefFrame", "ICRS"), leaf("CoordFlavor", "SPHERICAL"))}
		case "AstroCoords":
			at := 0
			for i, c := range n.children {
				if c.kind == elemNode && c.name.Local == "Time" {
					at = i + 1
				}
			}
			n.children = insert(n.children, at, leaf("PositionName", "Jupiter"))
		case "Position2D":
			n.children = append(n.children, elem("Error2", leaf("C1", "0.1"), leaf("C2", "0.2")))
		case "Position3D":
			n.children = append(n.children, elem("Error3", leaf("C3", "1")))
		case "C1", "C2", "C3":
			n.attrs = append(n.attrs, xml.Attr{Name: xml.Name{Local: "ucd"}, Value: "pos.eq.ra"}, xml.Attr{Name: xml.Name{Local: "pos_unit"}, Value: "deg"})
		case "TimeInstant":
			if !interval {
				interval = true
				n.name.Local = "TimeInterval"
				n.children = []*node{leaf("ISOTimeStart", "2020-01-01T00:00:00"), leaf("ISOTimeStop", "2020-01-01T00:01:00")}
			}
		}
	}
}

// newElement returns one of the elements 2.1 adds, with typical content.
func newElement(rng *rand.Rand) *node {
	switch rng.IntN(8) {
	case 0:
		c := leaf("Contributor", "x")
		if rng.IntN(2) == 0 {
			c.attrs = []xml.Attr{{Name: xml.Name{Local: "role"}, Value: pick(rng, roles)}}
		}
		return c
	case 1:
		return elem("TimeInterval", leaf("ISOTimeStart", "a"), leaf("ISOTimeStop", "b"))
	case 2:
		return leaf("PositionName", "M31")
	case 3:
		return elem("Error2", leaf("C1", pick(rng, floats)))
	case 4:
		return elem("Error3", leaf("C2", "1"), leaf("C3", "2"))
	case 5:
		return elem("TimeFrame", leaf("TimeScale", "TT"))
	case 6:
		return elem("SpaceFrame", leaf("Name", "n"))
	}
	return elem("TimeInstant", leaf("ISOTime", "2020-01-01T00:00:00"))
}

// fixed21 are hand-written 2.1 documents: the root, the ivorn
// separators and duplicate xs:ID values.
func fixed21() []*doc {
	const where = `<WhereWhen id="%s"><ObsDataLocation><ObservatoryLocation><AstroCoordSystem id="%s"/></ObservatoryLocation><ObservationLocation><AstroCoordSystem id="%s"><TimeFrame id="%s"/><SpaceFrame id="%s"/></AstroCoordSystem><AstroCoords/></ObservationLocation></ObsDataLocation></WhereWhen>`
	var out []*doc
	add := func(kind, d string) {
		out = append(out, &doc{name: fmt.Sprintf("fixed21#%d", len(out)), kind: kind, data: []byte(d)})
	}
	for _, ids := range [][5]string{{"a", "b", "c", "d", "e"}, {"a", "a", "c", "d", "e"}, {"a", "b", "c", "d", "a"}, {"a", " b", "b ", "d", "e"},
		{"a", "b", "c", "c", "e"}, {"x1", "UTC-FK5-GEO", "UTC-FK5-GEO", "t", "s"}} {
		add("ids", fmt.Sprintf(`<voe:VOEvent xmlns:voe="%s" ivorn="ivo://a.b/c?d" version="2.1">`+where+`</voe:VOEvent>`, ns, ids[0], ids[1], ids[2], ids[3], ids[4]))
	}
	for _, iv := range ivorns {
		add("ivorn", fmt.Sprintf(`<voe:VOEvent xmlns:voe="%s" ivorn="%s" version="2.1"/>`, ns, attrEsc.Replace(iv)))
	}
	for _, r := range []string{
		`<VOEvent xmlns="` + voevent.Namespace21 + `" ivorn="ivo://a.b/c#d" version="2.1"/>`,
		`<voe:VOEvent xmlns:voe="` + voevent.Namespace21 + `" ivorn="ivo://a.b/c#d" version="2.0"/>`,
		`<voe:VOEvent xmlns:voe="` + voevent.Namespace + `" ivorn="ivo://a.b/c?d" version="2.0"/>`,
		`<voe:VOEvent xmlns:voe="` + voevent.Namespace21 + `" xmlns:v="` + voevent.Namespace + `" ivorn="ivo://a.b/c#d" version="2.1"><Who><v:Author/></Who></voe:VOEvent>`,
	} {
		add("root", r)
	}
	return out
}
