package voevent

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The expected verdicts in this file are xmllint's (libxml2 2.9.14,
// xmllint --noout --schema VOEvent-v2.1-draft.xsd, or VOEvent-v2.0.xsd for
// the cases named 20-*) plus the IVOID rule. COMET_DUMP_DIR writes them
// out as validateRules does.

const head21 = `<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ivorn="ivo://org.example/test?1" role="test" version="2.1"`

// ev21 wraps body in a valid 2.1 root with extra root attributes.
func ev21(attrs, body string) string { return head21 + attrs + ">" + body + tail }

// root21 builds a 2.1 root element with exactly the given attributes.
func root21(attrs string) string {
	return `<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.1"` + attrs + "/>"
}

// where21 is a 2.1 event with a coordinate system and coordinates in a
// valid WhereWhen.
func where21(system, coords string) string {
	return head21 + `><WhereWhen><ObsDataLocation><ObservatoryLocation/><ObservationLocation>` + system +
		`<AstroCoords coord_system_id="UTC-FK5-GEO">` + coords + `</AstroCoords></ObservationLocation></ObsDataLocation></WhereWhen>` + tail
}

func coords21(s string) string { return where21(`<AstroCoordSystem id="UTC-FK5-GEO"/>`, s) }

func time21(s string) string { return coords21("<Time>" + s + "</Time>") }

func pos2(s string) string {
	return coords21(`<Position2D unit="deg"><Value2><C1>1</C1><C2>2</C2></Value2>` + s + `</Position2D>`)
}

func pos3(s string) string {
	return coords21(`<Position3D><Value3><C1>1</C1><C2>2</C2><C3>3</C3></Value3>` + s + `</Position3D>`)
}

func author21(s string) string { return "<Who><Author>" + s + "</Author></Who>" }

var validate21Cases = []vcase{
	// The root: its namespace chooses 2.1, whose version is fixed.
	{"minimal", root21(` ivorn="ivo://org.example/test?1" version="2.1"`), ""},
	{"default-namespace-root", `<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.1" ivorn="ivo://org.example/test#1" version="2.1"/>`, ""},
	{"default-namespace-children", `<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.1" ivorn="ivo://org.example/test#1" version="2.1"><Who/></VOEvent>`, "VOEvent: element Who (namespace http://www.ivoa.net/xml/VOEvent/v2.1) not allowed: the children of VOEvent are in no namespace"},
	{"version-2.0", root21(` ivorn="ivo://org.example/test?1" version="2.0"`), `line 1: VOEvent: attribute version: "2.0" must be 2.1`},
	{"version-spaces", root21(` ivorn="ivo://org.example/test?1" version=" 2.1&#10;"`), ""},
	{"version-2.10", root21(` ivorn="ivo://org.example/test?1" version="2.10"`), `"2.10" must be 2.1`},
	{"no-version", root21(` ivorn="ivo://org.example/test?1"`), "VOEvent: missing required attribute version"},
	{"child-in-2.0-namespace", ev21(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<v:Who/>`), "VOEvent: element v:Who (namespace http://www.ivoa.net/xml/VOEvent/v2.0) not allowed"},
	{"all-sections", ev21("", `<Citations><EventIVORN cite="followup">ivo://org.example/test?0</EventIVORN></Citations><Why><Name/></Why><How><Description/></How><WhereWhen/><What><Param name="x"/></What><Who/><Description/><Reference uri="x"/>`), ""},
	{"two-What", ev21("", `<What/><What/>`), "VOEvent: element What not allowed: it may appear only once"},

	// The ivorn: '?' or '#' separates the local part.
	{"ivorn-query", root21(` ivorn="ivo://org.example/test?1" version="2.1"`), ""},
	{"ivorn-fragment", root21(` ivorn="ivo://org.example/test#1" version="2.1"`), ""},
	{"ivorn-query-no-key", root21(` ivorn="ivo://org.example?GRB-1" version="2.1"`), ""},
	{"ivorn-query-slashes", root21(` ivorn="ivo://org.example/test?a/b?c" version="2.1"`), ""},
	{"ivorn-query-empty", root21(` ivorn="ivo://org.example/test?" version="2.1"`), `VOEvent: attribute ivorn: "ivo://org.example/test?" is not a valid IVORN: no local part after '#' or '?'`},
	{"ivorn-no-local", root21(` ivorn="ivo://org.example/test" version="2.1"`), "no local part after '#' or '?'"},
	{"ivorn-query-and-fragment", root21(` ivorn="ivo://org.example/test?a#b" version="2.1"`), "character '#' not allowed in the local part"},
	{"ivorn-query-trailing-slash", root21(` ivorn="ivo://org.example/test/?1" version="2.1"`), "empty segment in the resource key"},
	{"ivorn-query-bad-percent", root21(` ivorn="ivo://org.example/test?a%4" version="2.1"`), "is not a valid xs:anyURI"},
	{"ivorn-query-space", root21(` ivorn="ivo://org.example/test?a b" version="2.1"`), "character ' ' not allowed in the local part"},
	{"20-ivorn-query", `<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://org.example/test?1" version="2.0"/>`, "character '?' not allowed in the resource key"},

	// Contributor, a Name: a string with altIdentifier, role, ivorn.
	{"contributor", ev21("", author21(`<Contributor role="Editor" ivorn="ivo://org.example/people/a" altIdentifier="https://orcid.org/0000-0001-2345-6789">A. Person<!--c--></Contributor><title>t</title><Contributor/>`)), ""},
	{"contributor-every-role", ev21("", author21(contributorsWithEveryRole())), ""},
	{"contributor-role-lowercase", ev21("", author21(`<Contributor role="editor">x</Contributor>`)), `Contributor: attribute role: "editor" is not one of ContactPerson, DataCollector,`},
	{"contributor-role-space", ev21("", author21(`<Contributor role="Editor ">x</Contributor>`)), `"Editor " is not one of`},
	{"contributor-bad-altIdentifier", ev21("", author21(`<Contributor altIdentifier="http://[::1/">x</Contributor>`)), `Contributor: attribute altIdentifier: "http://[::1/" is not a valid xs:anyURI`},
	{"contributor-bad-ivorn", ev21("", author21(`<Contributor ivorn="%zz">x</Contributor>`)), "Contributor: attribute ivorn"},
	{"contributor-unknown-attribute", ev21("", author21(`<Contributor orcid="x">x</Contributor>`)), "Contributor: attribute orcid not allowed"},
	{"contributor-element", ev21("", author21(`<Contributor><b/></Contributor>`)), "Contributor: element b not allowed: Contributor has simple content"},
	{"contributor-deprecated", ev21("", author21(`<contributor>x</contributor>`)), ""},
	{"contributor-in-Who", ev21("", `<Who><Contributor/></Who>`), "Who: element Contributor not allowed (expected AuthorIVORN, Date, Description, Reference, Author)"},
	{"author-empty", ev21("", author21("")), "Author: missing child element (expected one of title, shortName, logoURL, contactName, contactEmail, contactPhone, contributor, Contributor)"},
	{"20-contributor", ev(``, author21(`<Contributor/>`)), "Author: element Contributor not allowed"},

	// Time: an optional TimeInstant or TimeInterval, then an optional Error.
	{"time-interval", time21(`<TimeInterval><ISOTimeStart>2020-01-01T00:00:00</ISOTimeStart><ISOTimeStop>2020-01-02T00:00:00</ISOTimeStop></TimeInterval><Error>60</Error>`), ""},
	{"time-interval-empty", time21(`<TimeInterval/>`), ""},
	{"time-interval-stop-only", time21(`<TimeInterval><ISOTimeStop>x</ISOTimeStop></TimeInterval>`), ""},
	{"time-interval-order", time21(`<TimeInterval><ISOTimeStop/><ISOTimeStart/></TimeInterval>`), "TimeInterval: element ISOTimeStart not allowed here: nothing may follow"},
	{"time-interval-two-starts", time21(`<TimeInterval><ISOTimeStart/><ISOTimeStart/></TimeInterval>`), "TimeInterval: element ISOTimeStart not allowed: it may appear only once"},
	{"time-interval-stray", time21(`<TimeInterval><ISOTime/></TimeInterval>`), "TimeInterval: element ISOTime not allowed here (expected ISOTimeStart, ISOTimeStop)"},
	{"time-interval-text", time21(`<TimeInterval>x</TimeInterval>`), "TimeInterval has element-only content"},
	{"time-instant-and-interval", time21(`<TimeInstant/><TimeInterval/>`), "Time: element TimeInterval not allowed here (expected Error)"},
	{"time-interval-and-instant", time21(`<TimeInterval/><TimeInstant/>`), "Time: element TimeInstant not allowed here (expected Error)"},
	{"time-error-first", time21(`<Error>1</Error><TimeInstant/>`), "Time: element TimeInstant not allowed here: nothing may follow"},
	{"time-two-instants", time21(`<TimeInstant/><TimeInstant/>`), "Time: element TimeInstant not allowed: it may appear only once"},
	{"time-two-errors", time21(`<Error>1</Error><Error>1</Error>`), "Time: element Error not allowed: it may appear only once"},
	{"time-error-only", time21(`<Error>1</Error>`), ""},
	{"time-empty", time21(``), ""},
	{"time-instant-order", time21(`<TimeInstant><ISOTime>x</ISOTime><TimeOffset>1</TimeOffset><TimeScale>UTC</TimeScale></TimeInstant>`), ""},
	{"time-instant-misordered", time21(`<TimeInstant><TimeScale>UTC</TimeScale><ISOTime>x</ISOTime></TimeInstant>`), "TimeInstant: element ISOTime not allowed here: nothing may follow"},
	{"time-instant-two-ISOTime", time21(`<TimeInstant><ISOTime/><ISOTime/></TimeInstant>`), "TimeInstant: element ISOTime not allowed: it may appear only once"},
	{"time-instant-stray", time21(`<TimeInstant><ISOTime/><Foo/></TimeInstant>`), "TimeInstant: element Foo not allowed here (expected TimeOffset, TimeScale)"},
	{"20-time-interval", ev("", coords(`<Time><TimeInterval/></Time>`)), "Time: element TimeInterval not allowed"},
	{"20-time-instant-any-order", ev("", coords(`<Time><Error>1</Error><TimeInstant><TimeScale/><ISOTime/></TimeInstant></Time>`)), ""},

	// AstroCoords: a sequence of Time, PositionName, Position2D, Position3D.
	{"position-name", coords21(`<Time/><PositionName>Jupiter</PositionName><Position2D><Value2><C1>1</C1><C2>2</C2></Value2></Position2D><Position3D><Value3><C1>1</C1><C2>2</C2><C3>3</C3></Value3></Position3D>`), ""},
	{"position-name-only", coords21(`<PositionName/>`), ""},
	{"position-name-before-time", coords21(`<PositionName>x</PositionName><Time/>`), "AstroCoords: element Time not allowed here (expected Position2D, Position3D)"},
	{"position-name-twice", coords21(`<PositionName/><PositionName/>`), "AstroCoords: element PositionName not allowed: it may appear only once"},
	{"position-name-element", coords21(`<PositionName><b/></PositionName>`), "PositionName: element b not allowed: PositionName has simple content"},
	{"position2d-before-time", coords21(`<Position2D><Value2><C1>1</C1><C2>2</C2></Value2></Position2D><Time/>`), "AstroCoords: element Time not allowed here (expected Position3D)"},
	{"position3d-before-2d", coords21(`<Position3D><Value3><C1>1</C1><C2>2</C2><C3>3</C3></Value3></Position3D><Position2D/>`), "AstroCoords: element Position2D not allowed here: nothing may follow"},
	{"astrocoords-stray", coords21(`<Time/><Foo/>`), "AstroCoords: element Foo not allowed here (expected PositionName, Position2D, Position3D)"},
	{"astrocoords-any-system", where21(`<AstroCoordSystem/>`, ``), ""},
	{"20-position-name", ev("", coords(`<PositionName/>`)), "AstroCoords: element PositionName not allowed (expected Time, Position2D, Position3D)"},

	// Positions: Error2Radius is optional, Error2 and Error3 are new, and
	// coordinates are coord_value (xs:float, ucd and pos_unit).
	{"position2d-no-radius", pos2(``), ""},
	{"position2d-error2", pos2(`<Error2><C2 ucd="stat.error">0.5</C2><C1>0.1</C1></Error2><Error2Radius pos_unit="deg">1</Error2Radius>`), ""},
	{"position2d-empty-error2", pos2(`<Error2/>`), ""},
	{"position2d-two-error2", pos2(`<Error2/><Error2/>`), "Position2D: element Error2 not allowed: it may appear only once"},
	{"position2d-error3", pos2(`<Error3/>`), "Position2D: element Error3 not allowed (expected Name1, Name2, Value2, Error2Radius, Error2)"},
	{"error2-C3", pos2(`<Error2><C3>1</C3></Error2>`), "Error2: element C3 not allowed (expected C1, C2)"},
	{"error2-two-C1", pos2(`<Error2><C1>1</C1><C1>1</C1></Error2>`), "Error2: element C1 not allowed: it may appear only once"},
	{"error2-bad-C1", pos2(`<Error2><C1>0.1 deg</C1></Error2>`), `C1: "0.1 deg" is not a valid xs:float`},
	{"error2-empty-C1", pos2(`<Error2><C1/></Error2>`), `C1: "" is not a valid xs:float`},
	{"error2-text", pos2(`<Error2>1</Error2>`), "Error2 has element-only content"},
	{"error2radius-bad", pos2(`<Error2Radius>x</Error2Radius>`), `Error2Radius: "x" is not a valid xs:float`},
	{"error2radius-unit", pos2(`<Error2Radius unit="deg">1</Error2Radius>`), "Error2Radius: attribute unit not allowed"},
	{"coord-attributes", coords21(`<Position2D><Value2><C1 ucd="pos.eq.ra" pos_unit="deg">1</C1><C2 ucd="pos.eq.dec">2</C2></Value2></Position2D>`), ""},
	{"coord-unit", coords21(`<Position2D><Value2><C1 unit="deg">1</C1><C2>2</C2></Value2></Position2D>`), "C1: attribute unit not allowed"},
	{"coord-element", coords21(`<Position2D><Value2><C1><b/></C1><C2>2</C2></Value2></Position2D>`), "C1: element b not allowed: C1 has simple content"},
	{"value2-no-C2", coords21(`<Position2D><Value2><C1>1</C1></Value2></Position2D>`), "Value2: missing child element C2"},
	{"position3d-error3", pos3(`<Error3><C3>3</C3><C1 pos_unit="m">1</C1></Error3>`), ""},
	{"position3d-error2", pos3(`<Error2/>`), "Position3D: element Error2 not allowed (expected Name1, Name2, Name3, Value3, Error3)"},
	{"error3-two-C2", pos3(`<Error3><C2>1</C2><C2>1</C2></Error3>`), "Error3: element C2 not allowed: it may appear only once"},
	{"error3-C4", pos3(`<Error3><C4>1</C4></Error3>`), "Error3: element C4 not allowed (expected C1, C2, C3)"},
	{"20-error2", ev("", coords(`<Position2D><Value2><C1>1</C1><C2>2</C2></Value2><Error2Radius>1</Error2Radius><Error2/></Position2D>`)), "Position2D: element Error2 not allowed"},
	{"20-coord-ucd", ev("", coords(`<Position2D><Value2><C1 ucd="x">1</C1><C2>2</C2></Value2><Error2Radius>1</Error2Radius></Position2D>`)), "C1: attribute ucd not allowed"},

	// AstroCoordSystem: an xs:ID, an optional TimeFrame and SpaceFrame.
	{"system-any-id", where21(`<AstroCoordSystem id="ICRS-whatever"/>`, ``), ""},
	{"system-id-digit", where21(`<AstroCoordSystem id="2000"/>`, ``), `AstroCoordSystem: attribute id: "2000" is not a valid xs:ID (an NCName)`},
	{"system-id-space", where21(`<AstroCoordSystem id="UTC FK5"/>`, ``), "is not a valid xs:ID"},
	{"system-frames", where21(`<AstroCoordSystem id="s"><TimeFrame id="t"><Name>n</Name><ReferencePosition>TOPOCENTER</ReferencePosition><TimeScale>UTC</TimeScale></TimeFrame><SpaceFrame id="f"><Name>n</Name><SpaceRefFrame>ICRS</SpaceRefFrame><CoordFlavor>SPHERICAL</CoordFlavor><ReferencePosition>GEOCENTER</ReferencePosition></SpaceFrame></AstroCoordSystem>`, ``), ""},
	{"system-empty-frames", where21(`<AstroCoordSystem><TimeFrame/><SpaceFrame/></AstroCoordSystem>`, ``), ""},
	{"system-frames-order", where21(`<AstroCoordSystem><SpaceFrame/><TimeFrame/></AstroCoordSystem>`, ``), "AstroCoordSystem: element TimeFrame not allowed here: nothing may follow"},
	{"system-two-timeframes", where21(`<AstroCoordSystem><TimeFrame/><TimeFrame/></AstroCoordSystem>`, ``), "AstroCoordSystem: element TimeFrame not allowed: it may appear only once"},
	{"system-text", where21(`<AstroCoordSystem>ICRS</AstroCoordSystem>`, ``), `AstroCoordSystem: text "ICRS" not allowed: AstroCoordSystem has element-only content`},
	{"system-stray", where21(`<AstroCoordSystem><Name/></AstroCoordSystem>`, ``), "AstroCoordSystem: element Name not allowed here (expected TimeFrame, SpaceFrame)"},
	{"timeframe-order", where21(`<AstroCoordSystem><TimeFrame><TimeScale/><Name/></TimeFrame></AstroCoordSystem>`, ``), "TimeFrame: element Name not allowed here: nothing may follow"},
	{"spaceframe-order", where21(`<AstroCoordSystem><SpaceFrame><CoordFlavor/><SpaceRefFrame/></SpaceFrame></AstroCoordSystem>`, ``), "SpaceFrame: element SpaceRefFrame not allowed here (expected ReferencePosition)"},
	{"spaceframe-bad-id", where21(`<AstroCoordSystem><SpaceFrame id="a:b"/></AstroCoordSystem>`, ``), `SpaceFrame: attribute id: "a:b" is not a valid xs:ID`},
	{"timeframe-unknown-attribute", where21(`<AstroCoordSystem><TimeFrame unit="s"/></AstroCoordSystem>`, ``), "TimeFrame: attribute unit not allowed"},
	{"coord-system-id-any", where21(`<AstroCoordSystem/>`, ``), ""},
	{"20-system-frames", ev("", `<WhereWhen><ObsDataLocation><ObservatoryLocation/><ObservationLocation><AstroCoordSystem><TimeFrame/></AstroCoordSystem><AstroCoords/></ObservationLocation></ObsDataLocation></WhereWhen>`), "AstroCoordSystem: element TimeFrame not allowed: AstroCoordSystem must be empty"},

	// xs:ID attributes are unique in a document.
	{"ids-distinct", ev21("", `<WhereWhen id="w"><ObsDataLocation><ObservatoryLocation><AstroCoordSystem id="o"/></ObservatoryLocation><ObservationLocation><AstroCoordSystem id="s"><TimeFrame id="t"/><SpaceFrame id="f"/></AstroCoordSystem><AstroCoords/></ObservationLocation></ObsDataLocation></WhereWhen>`), ""},
	{"ids-same-system", ev21("", "<WhereWhen><ObsDataLocation><ObservatoryLocation><AstroCoordSystem id=\"UTC-FK5-GEO\"/></ObservatoryLocation><ObservationLocation>\n<AstroCoordSystem id=\"UTC-FK5-GEO\"/><AstroCoords/></ObservationLocation></ObsDataLocation></WhereWhen>"), `line 2: AstroCoordSystem: attribute id: "UTC-FK5-GEO" is the id of an earlier element: xs:ID values must be unique`},
	{"ids-wherewhen-and-system", ev21("", `<WhereWhen id="a"><ObsDataLocation><ObservatoryLocation/><ObservationLocation><AstroCoordSystem id="a"/><AstroCoords/></ObservationLocation></ObsDataLocation></WhereWhen>`), `AstroCoordSystem: attribute id: "a" is the id of an earlier element`},
	{"ids-collapsed", where21(`<AstroCoordSystem id=" s"><TimeFrame id="s "/></AstroCoordSystem>`, ``), `TimeFrame: attribute id: "s" is the id of an earlier element`},
	{"ids-frames", where21(`<AstroCoordSystem><TimeFrame id="x"/><SpaceFrame id="x"/></AstroCoordSystem>`, ``), `SpaceFrame: attribute id: "x" is the id of an earlier element`},
	{"ids-xsi-type-after", where21(`<AstroCoordSystem id="s" xsi:type="voe:AstroCoordSystem"/>`, ``), ""},
	{"ids-many", ev21("", manySystems(40, false)), ""},
	{"ids-many-last-repeats", ev21("", manySystems(40, true)), `AstroCoordSystem: attribute id: "s0" is the id of an earlier element`},
	{"ids-element-twice", ev21("", `<Description xsi:type="xs:ID">a</Description><Who><Description xsi:type="xs:ID">a</Description></Who>`), ""},

	// xsi:type: the 2.1 names, and types with simple content that extend
	// the declared built-in type.
	{"xsi-type-Name", ev21("", `<Description role="Editor" xsi:type="voe:Name" ivorn="x">x</Description>`), ""},
	{"xsi-type-Name-bad-role", ev21("", `<Description xsi:type="voe:Name" role="Boss">x</Description>`), `Description: attribute role: "Boss" is not one of ContactPerson`},
	{"xsi-type-Name-on-anyURI", ev21("", `<Who><AuthorIVORN xsi:type="voe:Name">x</AuthorIVORN></Who>`), "does not name a type derived from the declared type of AuthorIVORN"},
	{"xsi-type-role-without", ev21("", `<Description role="Editor">x</Description>`), "Description: attribute role not allowed"},
	{"xsi-type-coord_value-on-Error", time21(`<Error ucd="stat.error" xsi:type="voe:coord_value">1</Error>`), ""},
	{"xsi-type-coord_value-bad", time21(`<Error xsi:type="voe:coord_value">x</Error>`), `Error: "x" is not a valid xs:float`},
	{"xsi-type-coord_value-on-string", ev21("", `<Description xsi:type="voe:coord_value">1</Description>`), "not name a type derived"},
	{"xsi-type-float-on-coord", pos2(`<Error2Radius xsi:type="xs:float">1</Error2Radius>`), "does not name a type derived from the declared type of Error2Radius"},
	{"xsi-type-coord_value-on-coord", pos2(`<Error2Radius xsi:type="voe:coord_value" ucd="u">1</Error2Radius>`), ""},
	{"xsi-type-contributorRole", ev21("", `<Description xsi:type="voe:contributorRole">Sponsor</Description>`), ""},
	{"xsi-type-contributorRole-bad", ev21("", `<Description xsi:type="voe:contributorRole">sponsor</Description>`), `Description: "sponsor" is not one of ContactPerson`},
	{"xsi-type-idValues", ev21("", `<Description xsi:type="voe:idValues">UTC-FK5-GEO</Description>`), "does not name a type"},
	{"xsi-type-2.0-namespace", ev21(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Who xsi:type="v:Who"/>`), "does not name a type"},
	{"xsi-type-Who", ev21("", `<Who xsi:type="voe:Who"><Author><Contributor/></Author></Who>`), ""},
	{"xsi-type-TimeInterval-on-Time", time21(`<TimeInterval xsi:type="voe:TimeInterval"/>`), ""},
	{"xsi-type-Error2-on-Error3", pos3(`<Error3 xsi:type="voe:Error2"/>`), "not name a type derived"},
	{"xsi-type-EventIVORN-on-string", ev21("", `<Description xsi:type="voe:EventIVORN" cite="followup">x</Description>`), ""},
	{"20-xsi-type-EventIVORN-on-string", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Description cite="supersedes" xsi:type="v:EventIVORN">x</Description>`), ""},
	{"20-xsi-type-EventIVORN-bad-cite", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Description xsi:type="v:EventIVORN" cite="x">x</Description>`), `Description: attribute cite: "x" is not one of followup`},
}

// contributorsWithEveryRole is one Contributor per contributorRole value,
// spelled out here rather than taken from the table under test.
func contributorsWithEveryRole() string {
	var b strings.Builder
	for _, r := range strings.Fields(`ContactPerson DataCollector DataCurator DataManager Distributor Editor
		HostingInstitution Producer ProjectLeader ProjectManager ProjectMember RegistrationAgency
		RegistrationAuthority RelatedPerson Researcher ResearchGroup RightsHolder Sponsor Supervisor
		WorkPackageLeader Other`) {
		fmt.Fprintf(&b, `<Contributor role="%s">x</Contributor>`, r)
	}
	return b.String()
}

// manySystems is a WhereWhen with n locations, each with two coordinate
// systems of distinct ids, the last one reusing the first id if repeat.
func manySystems(n int, repeat bool) string {
	var b strings.Builder
	b.WriteString("<WhereWhen>")
	for i := range n {
		last := fmt.Sprintf("t%d", i)
		if repeat && i == n-1 {
			last = "s0"
		}
		fmt.Fprintf(&b, `<ObsDataLocation><ObservatoryLocation><AstroCoordSystem id="s%d"/></ObservatoryLocation><ObservationLocation><AstroCoordSystem id="%s"/><AstroCoords/></ObservationLocation></ObsDataLocation>`, i, last)
	}
	b.WriteString("</WhereWhen>")
	return b.String()
}

func TestValidate21Rules(t *testing.T) {
	dump := os.Getenv("COMET_DUMP_DIR")
	seen := map[string]bool{}
	for _, c := range validate21Cases {
		if seen[c.name] {
			t.Fatalf("duplicate case name %s", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			if dump != "" {
				v := "valid"
				if c.want != "" {
					v = "invalid"
				}
				os.WriteFile(filepath.Join(dump, "21-"+c.name+"."+v+".xml"), []byte(c.doc), 0o644)
			}
			e, err := Parse([]byte(c.doc))
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, c.doc)
			}
			wantVersion := "2.1"
			if strings.HasPrefix(c.name, "20-") {
				wantVersion = "2.0"
			}
			if v := Version(e); v != wantVersion {
				t.Errorf("Version = %q, want %q", v, wantVersion)
			}
			err = Validate(e)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("Validate: %v, want valid\n%s", err, c.doc)
			case c.want != "" && err == nil:
				t.Errorf("Validate: valid, want %q\n%s", c.want, c.doc)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Errorf("Validate: %v\nwant it to contain %q", err, c.want)
			}
			if err != nil {
				var ve *Error
				if !errors.As(err, &ve) || ve.Line < 1 {
					t.Errorf("error %v is not a *voevent.Error with a line", err)
				}
				if strings.ContainsAny(err.Error(), "\t\n") || len(err.Error()) > 512 {
					t.Errorf("error %q is not one short line", err)
				}
			}
		})
	}
}

// TestVersion checks which schema the root's namespace chooses.
func TestVersion(t *testing.T) {
	for _, c := range []struct{ doc, want string }{
		{root21(` ivorn="ivo://a.b/c?d" version="2.1"`), "2.1"},
		{root21(` ivorn="ivo://a.b/c?d" version="2.0"`), "2.1"}, // the namespace decides, not the attribute
		{`<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.1"/>`, "2.1"},
		{root(` ivorn="ivo://a.b/c#d" version="2.1"`, ""), "2.0"},
		{`<VOEvent ivorn="ivo://a.b/c#d" version="2.1"/>`, ""},
		{`<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.2" ivorn="ivo://a.b/c#d" version="2.2"/>`, ""},
		{`<voe:Who xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.1"/>`, ""},
	} {
		e, err := Parse([]byte(c.doc))
		if err != nil {
			t.Fatal(err)
		}
		if got := Version(e); got != c.want {
			t.Errorf("Version(%s) = %q, want %q", c.doc, got, c.want)
		}
	}
	if Version(nil) != "" || Version(&Event{}) != "" {
		t.Error("Version of no document is not empty")
	}
}

// TestValidateUnknownNamespace checks the reason given for a VOEvent in
// neither namespace: it names both.
func TestValidateUnknownNamespace(t *testing.T) {
	e, err := Parse([]byte(`<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.2" ivorn="ivo://a.b/c#d" version="2.2"/>`))
	if err != nil {
		t.Fatal(err)
	}
	err = Validate(e)
	want := "line 1: root element voe:VOEvent is in namespace http://www.ivoa.net/xml/VOEvent/v2.2, not http://www.ivoa.net/xml/VOEvent/v2.0 or http://www.ivoa.net/xml/VOEvent/v2.1"
	if err == nil || err.Error() != want {
		t.Errorf("Validate: %v, want %s", err, want)
	}
}

// to21 returns a copy of a 2.0 document moved to the 2.1 namespace: every
// mention of the 2.0 namespace, and the first version="2.0" (the root's
// in the documents used here).
func to21(raw []byte) []byte {
	raw = bytes.ReplaceAll(raw, []byte(Namespace), []byte(Namespace21))
	if loc := version20.FindIndex(raw); loc != nil {
		raw = slices.Concat(raw[:loc[0]], []byte(`version="2.1"`), raw[loc[1]:])
	}
	return raw
}

var version20 = regexp.MustCompile(`\bversion\s*=\s*("2\.0"|'2\.0')`)

func TestValidate21Allocs(t *testing.T) {
	raw, err := os.ReadFile("../testdata/voevent/event-5k.xml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := Parse(to21(raw))
	if err != nil {
		t.Fatal(err)
	}
	if Version(e) != "2.1" {
		t.Fatal("not a 2.1 event")
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := Validate(e); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Validate of a valid 2.1 event: %v allocations, want 0", n)
	}
}

// TestValidate21Large checks 2.1 documents near the frame limit that are
// built to make the new rules work hardest: tens of thousands of xs:ID
// values (past the inline set, into the map), and as many Contributors
// (an unbounded choice branch). Each gets the right verdict, an invalid
// one a one-line reason naming the repeated id.
func TestValidate21Large(t *testing.T) {
	const n = 5000
	contributors := strings.Repeat(`<Contributor role="Other">x</Contributor>`, 20000)
	for _, c := range []struct {
		name, doc, want string
	}{
		{"ids", ev21("", manySystems(n, false)), ""},
		{"ids-last-repeats", ev21("", manySystems(n, true)), `attribute id: "s0" is the id of an earlier element`},
		{"contributors", ev21("", author21(contributors)), ""},
		{"contributors-bad-last", ev21("", author21(contributors+`<Contributor role="other"/>`)), `Contributor: attribute role: "other" is not one of`},
	} {
		if len(c.doc) > 1<<20 {
			t.Fatalf("%s: %d bytes, over the default frame limit", c.name, len(c.doc))
		}
		e, err := Parse([]byte(c.doc))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		err = Validate(e)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s: %v, want valid", c.name, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || strings.ContainsAny(err.Error(), "\n\t")):
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

// TestUnbounded21MatchesXSD checks that the particles of the 2.1 tables
// that may repeat without limit are those of VOEvent-v2.1-draft.xsd (when
// ../../shared/schema is present), as TestRepeatableComplete does for 2.0.
func TestUnbounded21MatchesXSD(t *testing.T) {
	raw, err := os.ReadFile("../../shared/schema/VOEvent-v2.1-draft.xsd")
	if err != nil {
		t.Skip("no schema:", err)
	}
	var tables []string
	for _, typ := range append(slices.Clone(schema21.named), schema21.anonymous...) {
		name := typ.name
		if typ == authorType21 {
			name = "Author"
		}
		for _, e := range typ.elems {
			if typ.model == mChoice || e.max == unbounded {
				tables = append(tables, name+"/"+e.name)
			}
		}
	}
	slices.Sort(tables)
	if fromXSD := unboundedInXSD(t, raw); fmt.Sprint(fromXSD) != fmt.Sprint(tables) {
		t.Errorf("unbounded particles\nin the XSD: %v\nin schema21.go: %v", fromXSD, tables)
	}
}
