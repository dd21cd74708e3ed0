package voevent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The expected verdicts in this file are xmllint's (libxml2 2.9.14,
// xmllint --noout --schema VOEvent-v2.0.xsd) plus the IVOID rule. Setting
// COMET_DUMP_DIR writes every case there as NAME.valid.xml or
// NAME.invalid.xml, so that a developer can re-check them against xmllint.

const (
	head = `<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ivorn="ivo://org.example/test#1" role="test" version="2.0"`
	tail = `</voe:VOEvent>`
)

// ev wraps body in a valid VOEvent root with extra root attributes.
func ev(attrs, body string) string { return head + attrs + ">" + body + tail }

// root builds a root element with exactly the given attributes.
func root(attrs, body string) string {
	return `<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"` + attrs + ">" + body + tail
}

const where = `<WhereWhen><ObsDataLocation><ObservatoryLocation/><ObservationLocation><AstroCoordSystem id="UTC-FK5-GEO"/><AstroCoords coord_system_id="UTC-FK5-GEO">%s</AstroCoords></ObservationLocation></ObsDataLocation></WhereWhen>`

func coords(s string) string { return fmt.Sprintf(where, s) }

type vcase struct {
	name string
	doc  string
	want string // "" valid; else a substring of the error
}

var validateCases = []vcase{
	// The root element and its attributes.
	{"minimal", ev("", ""), ""},
	{"self-closing", `<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://org.example/test#1" version="2.0"/>`, ""},
	{"default-namespace-root", `<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://org.example/test#1" version="2.0"/>`, ""},
	{"default-namespace-children", `<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://org.example/test#1" version="2.0"><Who/></VOEvent>`, "line 1: VOEvent: element Who (namespace http://www.ivoa.net/xml/VOEvent/v2.0) not allowed"},
	{"default-namespace-undeclared", `<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://org.example/test#1" version="2.0"><Who xmlns=""/></VOEvent>`, ""},
	{"no-namespace", `<VOEvent ivorn="ivo://org.example/test#1" version="2.0"/>`, "root element VOEvent is in no namespace"},
	{"namespace-v2.1", `<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.1" ivorn="ivo://org.example/test#1" version="2.0"/>`, `attribute version: "2.0" must be 2.1`},
	{"namespace-https", `<voe:VOEvent xmlns:voe="https://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://org.example/test#1" version="2.0"/>`, "is in namespace https://"},
	{"root-Who", `<voe:Who xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0"/>`, "is not a VOEvent"},
	{"transport", `<trn:Transport xmlns:trn="http://www.telescope-networks.org/xml/Transport/v1.1" version="1.0" role="ack"/>`, "is not a VOEvent"},
	{"no-ivorn", root(` version="2.0"`, ""), "missing required attribute ivorn"},
	{"no-version", root(` ivorn="ivo://org.example/test#1"`, ""), "missing required attribute version"},
	{"no-role", root(` ivorn="ivo://org.example/test#1" version="2.0"`, ""), ""},
	{"version-2.1", root(` ivorn="ivo://org.example/test#1" version="2.1"`, ""), `attribute version: "2.1" must be 2.0`},
	{"version-spaces", root(` ivorn="ivo://org.example/test#1" version=" 2.0 "`, ""), ""},
	{"version-tab", root(` ivorn="ivo://org.example/test#1" version="2.0&#9;"`, ""), ""},
	{"version-2.00", root(` ivorn="ivo://org.example/test#1" version="2.00"`, ""), "must be 2.0"},
	{"version-inner-space", root(` ivorn="ivo://org.example/test#1" version="2. 0"`, ""), "must be 2.0"},
	{"role-observation", root(` ivorn="ivo://org.example/test#1" version="2.0" role="observation"`, ""), ""},
	{"role-prediction", root(` ivorn="ivo://org.example/test#1" version="2.0" role="prediction"`, ""), ""},
	{"role-utility", root(` ivorn="ivo://org.example/test#1" version="2.0" role="utility"`, ""), ""},
	{"role-observe", root(` ivorn="ivo://org.example/test#1" version="2.0" role="observe"`, ""), `attribute role: "observe" is not one of observation, prediction, utility, test`},
	{"role-Test", root(` ivorn="ivo://org.example/test#1" version="2.0" role="Test"`, ""), "attribute role"},
	{"role-space", root(` ivorn="ivo://org.example/test#1" version="2.0" role="test "`, ""), "attribute role"},
	{"role-empty", root(` ivorn="ivo://org.example/test#1" version="2.0" role=""`, ""), "attribute role"},
	{"unknown-attribute", ev(` foo="x"`, ""), "line 1: VOEvent: attribute foo not allowed"},
	{"namespaced-attribute", ev(` xmlns:x="urn:x" x:foo="x"`, ""), "attribute x:foo (namespace urn:x) not allowed"},
	{"xml-lang", ev(` xml:lang="en"`, ""), "attribute xml:lang (namespace http://www.w3.org/XML/1998/namespace) not allowed"},
	{"xml-id", ev(` xml:id="x"`, ""), "attribute xml:id"},
	{"xsi-schemaLocation", ev(` xsi:schemaLocation="http://www.ivoa.net/xml/VOEvent/v2.0 http://www.ivoa.net/xml/VOEvent/VOEvent-v2.0.xsd"`, ""), ""},
	{"xsi-schemaLocation-garbage", ev(` xsi:schemaLocation="%%% ###"`, ""), ""},
	{"xsi-noNamespaceSchemaLocation", ev(` xsi:noNamespaceSchemaLocation="%%%"`, ""), ""},
	{"xsi-nil-true", ev(` xsi:nil="true"`, ""), "element VOEvent is not nillable"},
	{"xsi-nil-false", ev(` xsi:nil="false"`, ""), "not nillable"},
	{"xsi-nil-bad", ev(` xsi:nil="maybe"`, ""), `"maybe" is not a valid xs:boolean`},
	{"xsi-other", ev(` xsi:foo="x"`, ""), "attribute xsi:foo (namespace http://www.w3.org/2001/XMLSchema-instance) not allowed"},
	{"xsi-type-root", ev(` xmlns:voe2="http://www.ivoa.net/xml/VOEvent/v2.0" xsi:type="voe2:VOEvent"`, ""), "does not name a type"},

	// The ivorn: xs:anyURI, then the IVOID rule.
	{"ivorn-not-uri", root(` ivorn="ivo://org.example/test#1#2" version="2.0"`, ""), `attribute ivorn: "ivo://org.example/test#1#2" is not a valid xs:anyURI`},
	{"ivorn-bad-percent", root(` ivorn="ivo://org.example/test#%zz" version="2.0"`, ""), "is not a valid xs:anyURI"},
	{"ivorn-no-local", root(` ivorn="ivo://org.example/test" version="2.0"`, ""), `"ivo://org.example/test" is not a valid IVORN: no local part after '#'`},
	{"ivorn-empty-local", root(` ivorn="ivo://org.example/test#" version="2.0"`, ""), "no local part"},
	{"ivorn-trailing-slash", root(` ivorn="ivo://org.example/test/#1" version="2.0"`, ""), "empty segment in the resource key"},
	{"ivorn-double-slash", root(` ivorn="ivo://org.example//test#1" version="2.0"`, ""), "empty segment"},
	{"ivorn-dot-segment", root(` ivorn="ivo://org.example/a/../b#1" version="2.0"`, ""), `segment ".." not allowed`},
	{"ivorn-short-authority", root(` ivorn="ivo://ab/test#1" version="2.0"`, ""), "shorter than three"},
	{"ivorn-http", root(` ivorn="http://org.example/test#1" version="2.0"`, ""), `does not start with "ivo://"`},
	{"ivorn-leading-space", root(` ivorn=" ivo://org.example/test#1" version="2.0"`, ""), `does not start with "ivo://"`},
	{"ivorn-space-in-local", root(` ivorn="ivo://org.example/test#a b" version="2.0"`, ""), `character ' ' not allowed in the local part`},
	{"ivorn-no-resource", root(` ivorn="ivo://org.example#1" version="2.0"`, ""), ""},
	{"ivorn-local-chars", root(` ivorn="ivo://org.example/test#a-._~!$&amp;'()*+,;=:@/?%41" version="2.0"`, ""), ""},

	// VOEvent: xs:all, each child at most once, in any order.
	{"all-sections", ev("", `<Citations><EventIVORN cite="followup">ivo://org.example/test#0</EventIVORN></Citations><Why><Name>n</Name></Why><How><Description/></How><WhereWhen/><What/><Who/><Description/><Reference uri="http://example.org/"/>`), ""},
	{"two-Who", ev("", `<Who/><Who/>`), "line 1: VOEvent: element Who not allowed: it may appear only once"},
	{"two-Description", ev("", `<Description/><Description/>`), "Description not allowed: it may appear only once"},
	{"stray-root-child", ev("", `<Foo/>`), "VOEvent: element Foo not allowed (expected Who, What, WhereWhen, How, Why, Citations, Description, Reference)"},
	{"Param-at-root", ev("", `<Param/>`), "element Param not allowed"},
	{"qualified-child", ev("", `<voe:Who/>`), "element voe:Who (namespace http://www.ivoa.net/xml/VOEvent/v2.0) not allowed"},
	{"text-in-root", ev("", "\n  oops\n"), `line 2: VOEvent: text "oops" not allowed: VOEvent has element-only content`},
	{"nbsp-in-root", ev("", "&#160;"), "has element-only content"},
	{"space-ref-in-root", ev("", "&#32;&#10;"), ""},
	{"cdata-in-root", ev("", "<![CDATA[]]>"), "CDATA section not allowed: VOEvent has element-only content"},
	{"cdata-space-in-Who", ev("", "<Who> <![CDATA[ ]]> </Who>"), "Who: CDATA section not allowed"},
	{"comment-pi-anywhere", ev("", "<!--c--><?pi x?><Who><!--c--><?pi?></Who>"), ""},
	{"root-description-element", ev("", `<Description><b/></Description>`), "Description: element b not allowed: Description has simple content"},
	{"description-mixed-comments", ev("", `<Description>a<!--x-->b<?p?>c&amp;<![CDATA[<d>]]></Description>`), ""},
	{"description-attribute", ev("", `<Description lang="en"/>`), "Description: attribute lang not allowed"},

	// Who.
	{"who-full", ev("", `<Who><Author><title>t</title><logoURL>http://example.org/l.png</logoURL><contactEmail>a@b</contactEmail><contributor>c</contributor></Author><Reference uri="x"/><Description/><Date>2020-01-01T00:00:00</Date><AuthorIVORN>ivo://org.example/a</AuthorIVORN></Who>`), ""},
	{"who-two-Date", ev("", `<Who><Date>2020-01-01T00:00:00</Date><Date>2020-01-01T00:00:00</Date></Who>`), "Who: element Date not allowed: it may appear only once"},
	{"who-bad-Date", ev("", `<Who><Date>2020-01-01</Date></Who>`), `Date: "2020-01-01" is not a valid xs:dateTime`},
	{"who-empty-Date", ev("", `<Who><Date/></Who>`), `Date: "" is not a valid xs:dateTime`},
	{"who-Date-leading-space", ev("", "<Who><Date>\n2020-01-01T00:00:00Z</Date></Who>"), "not a valid xs:dateTime"},
	{"who-Date-trailing-space-tz", ev("", "<Who><Date>2020-01-01T00:00:00Z\n</Date></Who>"), ""},
	{"who-Date-trailing-space", ev("", "<Who><Date>2020-01-01T00:00:00\n</Date></Who>"), "not a valid xs:dateTime"},
	{"who-empty-AuthorIVORN", ev("", `<Who><AuthorIVORN/></Who>`), ""},
	{"who-bad-AuthorIVORN", ev("", `<Who><AuthorIVORN>http://h:/x</AuthorIVORN></Who>`), `AuthorIVORN: "http://h:/x" is not a valid xs:anyURI`},
	{"who-Param", ev("", `<Who><Param/></Who>`), "Who: element Param not allowed (expected AuthorIVORN, Date, Description, Reference, Author)"},
	{"who-text", ev("", `<Who>x</Who>`), "Who has element-only content"},
	{"author-empty", ev("", `<Who><Author/></Who>`), "Author: missing child element (expected one of title, shortName, logoURL, contactName, contactEmail, contactPhone, contributor)"},
	{"author-repeats", ev("", `<Who><Author><title/><title/><shortName/></Author></Who>`), ""},
	{"author-stray", ev("", `<Who><Author><email/></Author></Who>`), "Author: element email not allowed"},
	{"author-bad-logo", ev("", `<Who><Author><logoURL>%</logoURL></Author></Who>`), "logoURL"},

	// What: Param, Group, Table, Description, Reference, any number, any order.
	{"what-empty", ev("", `<What/>`), ""},
	{"what-mix", ev("", `<What><Description/><Param/><Group/><Param/><Reference uri=""/><Table><Data><TR><TD/></TR></Data></Table><Description/></What>`), ""},
	{"what-Field", ev("", `<What><Field/></What>`), "What: element Field not allowed (expected Param, Group, Table, Description, Reference)"},
	{"what-text", ev("", `<What>1</What>`), "What has element-only content"},
	{"param-attributes", ev("", `<What><Param name="n" ucd="u" value="v" unit="s" dataType="float" utype="t"/></What>`), ""},
	{"param-dataType-Float", ev("", "<What>\n<Param dataType=\"Float\"/></What>"), `line 2: Param: attribute dataType: "Float" is not one of int, float, string`},
	{"param-dataType-bool", ev("", `<What><Param dataType="bool"/></What>`), `"bool" is not one of int, float, string`},
	{"param-datatype-lowercase", ev("", `<What><Param datatype="float"/></What>`), "Param: attribute datatype not allowed"},
	{"param-children", ev("", `<What><Param><Value>1</Value><Description/><Reference uri="a"/><Reference uri="b"/><Value>2</Value><Description/></Param></What>`), ""},
	{"param-stray", ev("", `<What><Param><Param/></Param></What>`), "Param: element Param not allowed (expected Description, Reference, Value)"},
	{"param-text", ev("", `<What><Param>1.5</Param></What>`), "Param has element-only content"},
	{"group", ev("", `<What><Group name="g" type="t"><Param/><Description/><Reference uri="x"/><Param/></Group></What>`), ""},
	{"group-empty", ev("", `<What><Group/></What>`), ""},
	{"group-nested", ev("", `<What><Group><Group/></Group></What>`), "Group: element Group not allowed (expected Param, Description, Reference)"},
	{"group-text", ev("", `<What><Group>//<Param/></Group></What>`), `Group: text "//" not allowed`},
	{"group-bad-attr", ev("", `<What><Group ucd="x"/></What>`), "Group: attribute ucd not allowed"},
	{"table-empty", ev("", `<What><Table/></What>`), ""},
	{"table-full", ev("", `<What><Table name="t" type="u"><Description/><Reference uri="x"/><Param/><Field name="f" ucd="u" unit="s" dataType="int" utype="t"><Description/><Reference uri="y"/></Field><Data><TR><TD>1</TD><TD/></TR><TR><TD/></TR></Data><Data><TR><TD/></TR></Data></Table></What>`), ""},
	{"table-empty-Data", ev("", `<What><Table><Data/></Table></What>`), "Data: missing child element (expected one of TR)"},
	{"table-empty-TR", ev("", `<What><Table><Data><TR/></Data></Table></What>`), "TR: missing child element (expected one of TD)"},
	{"table-TD-element", ev("", `<What><Table><Data><TR><TD><b/></TD></TR></Data></Table></What>`), "TD: element b not allowed"},
	{"field-dataType", ev("", `<What><Table><Field dataType="double"/></Table></What>`), `Field: attribute dataType: "double" is not one of`},
	{"field-value-attr", ev("", `<What><Table><Field value="1"/></Table></What>`), "Field: attribute value not allowed"},

	// WhereWhen.
	{"wherewhen-empty", ev("", `<WhereWhen/>`), ""},
	{"wherewhen-id", ev("", `<WhereWhen id="w1"/>`), ""},
	{"wherewhen-id-spaces", ev("", `<WhereWhen id=" w1 "/>`), ""},
	{"wherewhen-id-digit", ev("", `<WhereWhen id="1"/>`), `WhereWhen: attribute id: "1" is not a valid xs:ID`},
	{"wherewhen-id-colon", ev("", `<WhereWhen id="a:b"/>`), "is not a valid xs:ID"},
	{"wherewhen-id-4th-edition", ev("", `<WhereWhen id="ǅ"/>`), "is not a valid xs:ID"},
	{"wherewhen-id-latin", ev("", `<WhereWhen id="é"/>`), ""},
	{"wherewhen-twice-location", ev("", `<WhereWhen><ObsDataLocation><ObservatoryLocation/><ObservationLocation><AstroCoordSystem/><AstroCoords/></ObservationLocation></ObsDataLocation><ObsDataLocation><ObservatoryLocation/><ObservationLocation><AstroCoordSystem/><AstroCoords/></ObservationLocation></ObsDataLocation><Description/><Description/></WhereWhen>`), ""},
	{"obsdatalocation-empty", ev("", `<WhereWhen><ObsDataLocation/></WhereWhen>`), "ObsDataLocation: missing child element ObservatoryLocation"},
	{"observationlocation-empty", ev("", `<WhereWhen><ObsDataLocation><ObservatoryLocation/><ObservationLocation/></ObsDataLocation></WhereWhen>`), "ObservationLocation: missing child element AstroCoordSystem"},
	{"observationlocation-no-coords", ev("", `<WhereWhen><ObsDataLocation><ObservatoryLocation/><ObservationLocation><AstroCoordSystem/></ObservationLocation></ObsDataLocation></WhereWhen>`), "ObservationLocation: missing child element AstroCoords"},
	{"observatorylocation", ev("", `<WhereWhen><ObsDataLocation><ObservationLocation><AstroCoords/><AstroCoordSystem/></ObservationLocation><ObservatoryLocation id="GEOLUN"><AstroCoords/><AstroCoordSystem id="UTC-GEOD-TOPO"/></ObservatoryLocation></ObsDataLocation></WhereWhen>`), ""},
	{"astrocoordsystem-bad-id", ev("", `<WhereWhen><ObsDataLocation><ObservatoryLocation><AstroCoordSystem id="UTC-FK5-GEO "/></ObservatoryLocation><ObservationLocation><AstroCoordSystem/><AstroCoords/></ObservationLocation></ObsDataLocation></WhereWhen>`), `AstroCoordSystem: attribute id: "UTC-FK5-GEO " is not one of`},
	{"astrocoordsystem-space", ev("", `<WhereWhen><ObsDataLocation><ObservatoryLocation><AstroCoordSystem> </AstroCoordSystem></ObservatoryLocation><ObservationLocation><AstroCoordSystem/><AstroCoords/></ObservationLocation></ObsDataLocation></WhereWhen>`), "AstroCoordSystem: character data not allowed: AstroCoordSystem must be empty"},
	{"astrocoordsystem-child", ev("", `<WhereWhen><ObsDataLocation><ObservatoryLocation><AstroCoordSystem><x/></AstroCoordSystem></ObservatoryLocation><ObservationLocation><AstroCoordSystem/><AstroCoords/></ObservationLocation></ObsDataLocation></WhereWhen>`), "AstroCoordSystem: element x not allowed: AstroCoordSystem must be empty"},
	{"astrocoords-bad-system", ev("", `<WhereWhen><ObsDataLocation><ObservatoryLocation/><ObservationLocation><AstroCoordSystem/><AstroCoords coord_system_id="ICRS"/></ObservationLocation></ObsDataLocation></WhereWhen>`), `AstroCoords: attribute coord_system_id: "ICRS" is not one of`},
	{"time", ev("", coords(`<Time unit="s"><TimeInstant><ISOTime>2020-01-01T00:00:00</ISOTime><TimeOffset>1.5</TimeOffset><TimeScale>UTC</TimeScale></TimeInstant><Error>0.1</Error><TimeInstant/></Time>`)), ""},
	{"time-empty", ev("", coords(`<Time/>`)), ""},
	{"time-bad-error", ev("", coords(`<Time><Error>1,5</Error></Time>`)), `Error: "1,5" is not a valid xs:float`},
	{"time-bad-offset", ev("", coords(`<Time><TimeInstant><TimeOffset>+INF</TimeOffset></TimeInstant></Time>`)), `TimeOffset: "+INF" is not a valid xs:float`},
	{"time-ISOTime-any-string", ev("", coords(`<Time><TimeInstant><ISOTime>yesterday</ISOTime></TimeInstant></Time>`)), ""},
	{"position2d", ev("", coords(`<Position2D unit="deg"><Name1>RA</Name1><Name2>Dec</Name2><Value2><C1>1</C1><C2>-2.5e1</C2></Value2><Error2Radius>INF</Error2Radius></Position2D>`)), ""},
	{"position2d-any-order", ev("", coords(`<Position2D><Error2Radius>.5</Error2Radius><Value2><C2>5.</C2><C1>NaN</C1></Value2></Position2D>`)), ""},
	{"position2d-no-radius", ev("", coords(`<Position2D><Value2><C1>1</C1><C2>2</C2></Value2></Position2D>`)), "Position2D: missing child element Error2Radius"},
	{"position2d-no-C2", ev("", coords(`<Position2D><Value2><C1>1</C1></Value2><Error2Radius>1</Error2Radius></Position2D>`)), "Value2: missing child element C2"},
	{"position2d-two-C1", ev("", coords(`<Position2D><Value2><C1>1</C1><C1>1</C1><C2>2</C2></Value2><Error2Radius>1</Error2Radius></Position2D>`)), "Value2: element C1 not allowed: it may appear only once"},
	{"position2d-bad-C1", ev("", coords(`<Position2D><Value2><C1>12.5 deg</C1><C2>2</C2></Value2><Error2Radius>1</Error2Radius></Position2D>`)), `C1: "12.5 deg" is not a valid xs:float`},
	{"position2d-C3", ev("", coords(`<Position2D><Value2><C1>1</C1><C2>2</C2><C3>3</C3></Value2><Error2Radius>1</Error2Radius></Position2D>`)), "Value2: element C3 not allowed (expected C1, C2)"},
	{"position3d", ev("", coords(`<Position3D unit="m"><Name3>z</Name3><Value3><C3>3</C3><C1>1</C1><C2>2</C2></Value3></Position3D>`)), ""},
	{"position3d-no-C3", ev("", coords(`<Position3D><Value3><C1>1</C1><C2>2</C2></Value3></Position3D>`)), "Value3: missing child element C3"},
	{"astrocoords-all-three", ev("", coords(`<Position3D><Value3><C1>1</C1><C2>2</C2><C3>3</C3></Value3></Position3D><Time/><Position2D><Value2><C1>1</C1><C2>2</C2></Value2><Error2Radius>1</Error2Radius></Position2D>`)), ""},
	{"astrocoords-two-Time", ev("", coords(`<Time/><Time/>`)), "AstroCoords: element Time not allowed: it may appear only once"},

	// How, Why, Inference: choices with no optional branch need a child.
	{"how-empty", ev("", `<How/>`), "How: missing child element (expected one of Description, Reference)"},
	{"how", ev("", `<How><Reference uri="a"/><Description/><Reference uri="b"/></How>`), ""},
	{"why-empty", ev("", `<Why/>`), "Why: missing child element (expected one of Name, Concept, Inference, Description, Reference)"},
	{"why", ev("", `<Why importance="0.5" expires="2030-01-01T00:00:00Z"><Name/><Concept/><Name/><Inference probability="1" relation="x"><Name/><Concept/></Inference></Why>`), ""},
	{"why-importance-INF", ev("", `<Why importance="-INF"><Name/></Why>`), ""},
	{"why-importance-bad", ev("", `<Why importance="high"><Name/></Why>`), `Why: attribute importance: "high" is not a valid xs:float`},
	{"why-expires-bad", ev("", `<Why expires="2030-13-01T00:00:00"><Name/></Why>`), `Why: attribute expires: "2030-13-01T00:00:00" is not a valid xs:dateTime`},
	{"why-Group", ev("", `<Why><Group/></Why>`), "Why: element Group not allowed"},
	{"inference-empty", ev("", `<Why><Inference/></Why>`), "Inference: missing child element (expected one of Name, Concept, Description, Reference)"},
	{"inference-nested", ev("", `<Why><Inference><Inference/></Inference></Why>`), "Inference: element Inference not allowed"},
	{"probability-1", ev("", `<Why><Inference probability="1.00000005"><Name/></Inference></Why>`), ""},
	{"probability-above", ev("", `<Why><Inference probability="1.0000001"><Name/></Inference></Why>`), `Inference: attribute probability: "1.0000001" is not between 0.0 and 1.0`},
	{"probability-negative", ev("", `<Why><Inference probability="-1e-45"><Name/></Inference></Why>`), "is not between 0.0 and 1.0"},
	{"probability-negative-zero", ev("", `<Why><Inference probability="-0.7e-45"><Name/></Inference></Why>`), ""},
	{"probability-NaN", ev("", `<Why><Inference probability="NaN"><Name/></Inference></Why>`), "is not between 0.0 and 1.0"},
	{"probability-bad", ev("", `<Why><Inference probability="50%"><Name/></Inference></Why>`), `"50%" is not a valid xs:float`},

	// Citations: a sequence, EventIVORN+ then Description?.
	{"citations", ev("", `<Citations><EventIVORN cite="supersedes">a</EventIVORN><EventIVORN cite="retraction"/><Description/></Citations>`), ""},
	{"citations-empty", ev("", `<Citations/>`), "Citations: missing child element EventIVORN"},
	{"citations-only-description", ev("", `<Citations><Description/></Citations>`), "Citations: element Description not allowed here (expected EventIVORN)"},
	{"citations-order", ev("", `<Citations><EventIVORN/><Description/><EventIVORN/></Citations>`), "Citations: element EventIVORN not allowed here: nothing may follow"},
	{"citations-two-descriptions", ev("", `<Citations><EventIVORN/><Description/><Description/></Citations>`), "Citations: element Description not allowed: it may appear only once"},
	{"citations-bad-cite", ev("", `<Citations><EventIVORN cite="follow-up"/></Citations>`), `EventIVORN: attribute cite: "follow-up" is not one of followup, supersedes, retraction`},
	{"eventivorn-element", ev("", `<Citations><EventIVORN><b/></EventIVORN></Citations>`), "EventIVORN: element b not allowed: EventIVORN has simple content"},
	{"eventivorn-any-text", ev("", `<Citations><EventIVORN>not even a URI</EventIVORN></Citations>`), ""},

	// Reference: empty content, required uri.
	{"reference", ev("", `<Reference uri="http://example.org/a b" type="url" mimetype="text/html" meaning="http://example.org/m"/>`), ""},
	{"reference-no-uri", ev("", `<Reference/>`), "Reference: missing required attribute uri"},
	{"reference-bad-uri", ev("", `<Reference uri="http://[::1/"/>`), `Reference: attribute uri: "http://[::1/" is not a valid xs:anyURI`},
	{"reference-bad-meaning", ev("", `<Reference uri="" meaning="%4"/>`), "attribute meaning"},
	{"reference-space", ev("", `<Reference uri="x"> </Reference>`), "Reference: character data not allowed: Reference must be empty"},
	{"reference-empty-cdata", ev("", `<Reference uri="x"><![CDATA[]]></Reference>`), "Reference: CDATA section not allowed: Reference must be empty"},
	{"reference-comment", ev("", `<Reference uri="x"><!-- c --></Reference>`), ""},
	{"reference-child", ev("", `<Reference uri="x"><Description/></Reference>`), "Reference: element Description not allowed: Reference must be empty"},

	// xsi:type names the declared type or, for xs:string and xs:float, a
	// restriction of it.
	{"xsi-type-same", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Who xsi:type="v:Who"/>`), ""},
	{"xsi-type-unprefixed", ev("", `<Who xsi:type="Who"/>`), "does not name a type"},
	{"xsi-type-other", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Who xsi:type="v:What"/>`), "does not name a type derived from the declared type of Who"},
	{"xsi-type-anyType", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Who xsi:type="xs:anyType"/>`), "not name a type derived"},
	{"xsi-type-string", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:string">x</Description>`), ""},
	{"xsi-type-token", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:token">x</Description>`), ""},
	{"xsi-type-int", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:int">1</Description>`), "not name a type derived"},
	{"xsi-type-enum", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Description xsi:type="v:roleValues">test</Description>`), ""},
	{"xsi-type-enum-bad", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Description xsi:type="v:roleValues">x</Description>`), `Description: "x" is not one of observation`},
	{"xsi-type-smallFloat", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, coords(`<Time><Error xsi:type="v:smallFloat">2</Error></Time>`)), `Error: "2" is not between 0.0 and 1.0`},
	{"xsi-type-undeclared-prefix", ev("", `<Who xsi:type="q:Who"/>`), "uses an undeclared prefix"},
	{"xsi-type-on-Date", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Who><Date xsi:type="v:Who"/></Who>`), "not name a type derived"},
	{"xsi-nil-child", ev("", `<Description xsi:nil="true"/>`), "element Description is not nillable"},
	{"xsi-type-spaces", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Who xsi:type=" v:Who"/>`), `" v:Who" is not a valid QName`},
	{"xsi-type-trailing-space", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Who xsi:type="v:Who "/>`), "is not a valid QName"},
	{"xsi-type-default-namespace", `<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ivorn="ivo://org.example/test#1" version="2.0"><Who xmlns="" xsi:type="Who"/></VOEvent>`, "does not name a type"},
	{"xsi-type-Name", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:Name"> a:b </Description>`), ""},
	{"xsi-type-Name-bad", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:Name">1a</Description>`), `"1a" is not a valid xs:Name`},
	{"xsi-type-Name-empty", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:Name"></Description>`), "is not a valid xs:Name"},
	{"xsi-type-NCName-bad", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:NCName">a:b</Description>`), "is not a valid xs:NCName"},
	{"xsi-type-NMTOKEN", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:NMTOKEN"> 1a:b· </Description>`), ""},
	{"xsi-type-NMTOKEN-bad", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:NMTOKEN">a b</Description>`), "is not a valid xs:NMTOKEN"},
	{"xsi-type-NMTOKEN-4th-edition", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:NMTOKEN">Ⅰ</Description>`), "is not a valid xs:NMTOKEN"},
	{"xsi-type-language", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:language"> x-klingon </Description>`), ""},
	{"xsi-type-language-bad", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:language">en_GB</Description>`), "is not a valid xs:language"},
	{"xsi-type-ID-twice", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:ID">a</Description><Who><Description xsi:type="xs:ID"> a </Description></Who>`), ""},
	{"xsi-type-IDREF-bad", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:IDREF"> a b</Description>`), "is not a valid xs:NCName"},
	{"xsi-type-ENTITY", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:ENTITY">e</Description>`), "not a declared unparsed entity"},
	{"xsi-type-IDREFS", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:IDREFS">a b</Description>`), "not name a type derived"},
	{"xsi-type-anyURI", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Who><AuthorIVORN xsi:type="xs:anyURI">a b</AuthorIVORN></Who>`), ""},
	{"xsi-type-string-on-anyURI", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Who><AuthorIVORN xsi:type="xs:string">a b</AuthorIVORN></Who>`), "not name a type derived"},
	{"xsi-type-EventIVORN", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Citations><EventIVORN xsi:type="v:EventIVORN" cite="followup"/></Citations>`), ""},
	{"xsi-type-string-on-EventIVORN", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Citations><EventIVORN xsi:type="xs:string"/></Citations>`), "not name a type derived"},
	{"xsi-type-Param", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<What><Param xsi:type="v:Param" dataType="int"/></What>`), ""},
	{"xsi-type-Group-on-Param", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<What><Param dataType="int" xsi:type="v:Group"/></What>`), "not name a type derived"},
	{"xsi-type-on-Author", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Who><Author xsi:type="v:Who"><title/></Author></Who>`), "not name a type derived"},
	{"xsi-type-smallFloat-on-string", ev(` xmlns:v="http://www.ivoa.net/xml/VOEvent/v2.0"`, `<Description xsi:type="v:smallFloat">0.5</Description>`), "not name a type derived"},
	{"xsi-type-dateTime-on-string", ev(` xmlns:xs="http://www.w3.org/2001/XMLSchema"`, `<Description xsi:type="xs:dateTime">2020-01-01T00:00:00</Description>`), "not name a type derived"},
	{"xsi-schemaLocation-child", ev("", `<Description xsi:schemaLocation="x"/>`), ""},
}

func TestValidateRules(t *testing.T) {
	dump := os.Getenv("COMET_DUMP_DIR")
	seen := map[string]bool{}
	for _, c := range validateCases {
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
				os.WriteFile(filepath.Join(dump, c.name+"."+v+".xml"), []byte(c.doc), 0o644)
			}
			e, err := Parse([]byte(c.doc))
			if err != nil {
				t.Fatalf("Parse: %v\n%s", err, c.doc)
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
				if strings.ContainsAny(err.Error(), "\t\n") {
					t.Errorf("error %q is not one line", err)
				}
			}
		})
	}
}

func TestValidateNil(t *testing.T) {
	if err := Validate(nil); err == nil {
		t.Error("Validate(nil) = nil")
	}
	if err := Validate(&Event{}); err == nil {
		t.Error("Validate(&Event{}) = nil")
	}
}

func TestValidateAllocs(t *testing.T) {
	raw, err := os.ReadFile("../testdata/voevent/event-5k.xml")
	if err != nil {
		t.Fatal(err)
	}
	e, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() {
		if err := Validate(e); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Validate of a valid event: %v allocations, want 0", n)
	}
}
