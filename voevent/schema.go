package voevent

import "strings"

// This file is VOEvent-v2.0.xsd, the schema of the IVOA's VOEvent 2.0
// Recommendation (2011), written out as Go tables: one complexType value
// per named or anonymous complex type of the schema, in the schema's order
// (schema21.go does the same for 2.1, and schemaset.go says which tables an
// event gets). Local elements are unqualified
// (elementFormDefault="unqualified"), so every element below the root is in
// no namespace; no type has xs:any or xs:anyAttribute, so every element
// and attribute not listed here is invalid.

// simpleType identifies a simple type: the type of an attribute, of an
// element with simple content, or one that xsi:type may name.
type simpleType uint8

const (
	tString simpleType = iota
	tAnyURI
	tDateTime
	tFloat
	tSmallFloat // xs:float restricted to [0.0, 1.0]
	tToken
	tID
	tRoleValues
	tDataType
	tIDValues
	tCiteValues
	// Types derived from xs:string that only xsi:type can bring in.
	tNormalizedString
	tLanguage
	tName
	tNCName
	tIDREF
	tENTITY
	tNMTOKEN
	tContributorRole // VOEvent 2.1
)

// model is the kind of content a complex type allows.
type model uint8

const (
	mEmpty    model = iota // <xs:sequence/>: no children, no character data at all
	mSimple                // simple content: character data, no element children
	mAll                   // xs:all: each child at most once, in any order
	mChoice                // xs:choice maxOccurs="unbounded": any number, any order; at least one unless a branch is optional
	mSequence              // xs:sequence
)

// elemDecl is a local element declaration (a particle of a content model).
type elemDecl struct {
	name string
	typ  *complexType // nil for an element of simple type st
	st   simpleType
	min  int
	max  int // or unbounded
	// alt marks, in an xs:sequence, an alternative to the particle before
	// it: the two sit in an optional xs:choice of optional elements, so
	// at most one of them is matched.
	alt bool
}

// unbounded is maxOccurs="unbounded": no limit at all.
const unbounded = -1

// attrDecl is an attribute declaration (attributes are unqualified too).
type attrDecl struct {
	name     string
	st       simpleType
	required bool
	fixed    string // "" if none
}

// complexType is a content model plus its attributes.
type complexType struct {
	name   string // the schema's type name, "" for an anonymous type
	model  model
	st     simpleType // content type when model is mSimple
	elems  []elemDecl
	attrs  []attrDecl
	expect string // the allowed children, for messages
}

func el(name string, t *complexType, min, max int) elemDecl {
	return elemDecl{name: name, typ: t, min: min, max: max}
}

func es(name string, st simpleType, min, max int) elemDecl {
	return elemDecl{name: name, st: st, min: min, max: max}
}

func at(name string, st simpleType) attrDecl { return attrDecl{name: name, st: st} }

var (
	referenceType = &complexType{name: "Reference", model: mEmpty, attrs: []attrDecl{
		{name: "uri", st: tAnyURI, required: true},
		at("type", tString),
		at("mimetype", tString),
		at("meaning", tAnyURI),
	}}

	authorType = &complexType{model: mChoice, elems: []elemDecl{
		es("title", tString, 1, 1),
		es("shortName", tString, 1, 1),
		es("logoURL", tAnyURI, 1, 1),
		es("contactName", tString, 1, 1),
		es("contactEmail", tString, 1, 1),
		es("contactPhone", tString, 1, 1),
		es("contributor", tString, 1, 1),
	}}

	whoType = &complexType{name: "Who", model: mAll, elems: []elemDecl{
		es("AuthorIVORN", tAnyURI, 0, 1),
		es("Date", tDateTime, 0, 1),
		es("Description", tString, 0, 1),
		el("Reference", referenceType, 0, 1),
		el("Author", authorType, 0, 1),
	}}

	paramType = &complexType{name: "Param", model: mChoice, elems: []elemDecl{
		es("Description", tString, 0, 1),
		el("Reference", referenceType, 0, unbounded),
		es("Value", tString, 0, 1),
	}, attrs: []attrDecl{
		at("name", tString),
		at("ucd", tString),
		at("value", tString),
		at("unit", tString),
		at("dataType", tDataType),
		at("utype", tString),
	}}

	groupType = &complexType{name: "Group", model: mChoice, elems: []elemDecl{
		el("Param", paramType, 1, unbounded),
		es("Description", tString, 0, 1),
		el("Reference", referenceType, 0, 1),
	}, attrs: []attrDecl{at("name", tString), at("type", tString)}}

	fieldType = &complexType{name: "Field", model: mChoice, elems: []elemDecl{
		es("Description", tString, 0, 1),
		el("Reference", referenceType, 0, 1),
	}, attrs: []attrDecl{
		at("name", tString),
		at("ucd", tString),
		at("unit", tString),
		at("dataType", tDataType),
		at("utype", tString),
	}}

	trType = &complexType{name: "TR", model: mChoice, elems: []elemDecl{
		es("TD", tString, 1, 1),
	}}

	dataType = &complexType{name: "Data", model: mChoice, elems: []elemDecl{
		el("TR", trType, 1, 1),
	}}

	tableType = &complexType{name: "Table", model: mChoice, elems: []elemDecl{
		es("Description", tString, 0, 1),
		el("Reference", referenceType, 0, 1),
		el("Param", paramType, 0, unbounded),
		el("Field", fieldType, 0, unbounded),
		el("Data", dataType, 1, 1),
	}, attrs: []attrDecl{at("name", tString), at("type", tString)}}

	whatType = &complexType{name: "What", model: mChoice, elems: []elemDecl{
		el("Param", paramType, 0, unbounded),
		el("Group", groupType, 0, unbounded),
		el("Table", tableType, 0, unbounded),
		es("Description", tString, 0, unbounded),
		el("Reference", referenceType, 0, unbounded),
	}}

	astroCoordSystemType = &complexType{name: "AstroCoordSystem", model: mEmpty, attrs: []attrDecl{
		at("id", tIDValues),
	}}

	timeInstantType = &complexType{name: "TimeInstant", model: mChoice, elems: []elemDecl{
		es("ISOTime", tString, 0, 1),
		es("TimeOffset", tFloat, 0, 1),
		es("TimeScale", tString, 0, 1),
	}}

	timeType = &complexType{name: "Time", model: mChoice, elems: []elemDecl{
		el("TimeInstant", timeInstantType, 1, 1),
		es("Error", tFloat, 0, 1),
	}, attrs: []attrDecl{at("unit", tString)}}

	value2Type = &complexType{name: "Value2", model: mAll, elems: []elemDecl{
		es("C1", tFloat, 1, 1),
		es("C2", tFloat, 1, 1),
	}}

	value3Type = &complexType{name: "Value3", model: mAll, elems: []elemDecl{
		es("C1", tFloat, 1, 1),
		es("C2", tFloat, 1, 1),
		es("C3", tFloat, 1, 1),
	}}

	position2DType = &complexType{name: "Position2D", model: mAll, elems: []elemDecl{
		es("Name1", tString, 0, 1),
		es("Name2", tString, 0, 1),
		el("Value2", value2Type, 1, 1),
		es("Error2Radius", tFloat, 1, 1),
	}, attrs: []attrDecl{at("unit", tString)}}

	position3DType = &complexType{name: "Position3D", model: mAll, elems: []elemDecl{
		es("Name1", tString, 0, 1),
		es("Name2", tString, 0, 1),
		es("Name3", tString, 0, 1),
		el("Value3", value3Type, 1, 1),
	}, attrs: []attrDecl{at("unit", tString)}}

	astroCoordsType = &complexType{name: "AstroCoords", model: mAll, elems: []elemDecl{
		el("Time", timeType, 0, 1),
		el("Position2D", position2DType, 0, 1),
		el("Position3D", position3DType, 0, 1),
	}, attrs: []attrDecl{at("coord_system_id", tIDValues)}}

	observationLocationType = &complexType{name: "ObservationLocation", model: mAll, elems: []elemDecl{
		el("AstroCoordSystem", astroCoordSystemType, 1, 1),
		el("AstroCoords", astroCoordsType, 1, 1),
	}}

	observatoryLocationType = &complexType{name: "ObservatoryLocation", model: mAll, elems: []elemDecl{
		el("AstroCoordSystem", astroCoordSystemType, 0, 1),
		el("AstroCoords", astroCoordsType, 0, 1),
	}, attrs: []attrDecl{at("id", tString)}}

	obsDataLocationType = &complexType{name: "ObsDataLocation", model: mAll, elems: []elemDecl{
		el("ObservatoryLocation", observatoryLocationType, 1, 1),
		el("ObservationLocation", observationLocationType, 1, 1),
	}}

	whereWhenType = &complexType{name: "WhereWhen", model: mChoice, elems: []elemDecl{
		el("ObsDataLocation", obsDataLocationType, 1, 1),
		es("Description", tString, 0, 1),
		el("Reference", referenceType, 0, 1),
	}, attrs: []attrDecl{at("id", tID)}}

	howType = &complexType{name: "How", model: mChoice, elems: []elemDecl{
		es("Description", tString, 1, 1),
		el("Reference", referenceType, 1, 1),
	}}

	inferenceType = &complexType{name: "Inference", model: mChoice, elems: []elemDecl{
		es("Name", tString, 1, 1),
		es("Concept", tString, 1, 1),
		es("Description", tString, 1, 1),
		el("Reference", referenceType, 1, 1),
	}, attrs: []attrDecl{at("probability", tSmallFloat), at("relation", tString)}}

	whyType = &complexType{name: "Why", model: mChoice, elems: []elemDecl{
		es("Name", tString, 1, 1),
		es("Concept", tString, 1, 1),
		el("Inference", inferenceType, 1, 1),
		es("Description", tString, 1, 1),
		el("Reference", referenceType, 1, 1),
	}, attrs: []attrDecl{at("importance", tFloat), at("expires", tDateTime)}}

	eventIVORNType = &complexType{name: "EventIVORN", model: mSimple, st: tString, attrs: []attrDecl{
		at("cite", tCiteValues),
	}}

	citationsType = &complexType{name: "Citations", model: mSequence, elems: []elemDecl{
		el("EventIVORN", eventIVORNType, 1, unbounded),
		es("Description", tString, 0, 1),
	}}

	// voeventType is the anonymous type of the root element.
	voeventType = &complexType{model: mAll, elems: []elemDecl{
		el("Who", whoType, 0, 1),
		el("What", whatType, 0, 1),
		el("WhereWhen", whereWhenType, 0, 1),
		el("How", howType, 0, 1),
		el("Why", whyType, 0, 1),
		el("Citations", citationsType, 0, 1),
		es("Description", tString, 0, 1),
		el("Reference", referenceType, 0, 1),
	}, attrs: []attrDecl{
		{name: "version", st: tToken, required: true, fixed: "2.0"},
		{name: "ivorn", st: tAnyURI, required: true},
		at("role", tRoleValues),
	}}
)

// namedComplexTypes are the complex types xsi:type may name.
var namedComplexTypes = []*complexType{
	whoType, whatType, paramType, groupType, tableType, fieldType, dataType,
	trType, whereWhenType, obsDataLocationType, observationLocationType,
	astroCoordSystemType, astroCoordsType, timeType, timeInstantType,
	position2DType, position3DType, value2Type, value3Type,
	observatoryLocationType, howType, whyType, inferenceType, citationsType,
	eventIVORNType, referenceType,
}

func init() {
	for _, s := range schemas {
		for _, t := range append(s.named, s.anonymous...) {
			t.expect = expectList(t.elems)
		}
	}
}

// expectList names the children a type allows, for messages.
func expectList(elems []elemDecl) string {
	s := ""
	for i, e := range elems {
		if i > 0 {
			s += ", "
		}
		s += e.name
	}
	return s
}

// emptiable reports whether a choice model accepts no children at all:
// the repeated choice can be empty only if one of its branches can.
func (t *complexType) emptiable() bool {
	for _, e := range t.elems {
		if e.min == 0 {
			return true
		}
	}
	return false
}

// child returns the index of the declaration for the local element name.
func (t *complexType) child(name string) int {
	for i := range t.elems {
		if t.elems[i].name == name {
			return i
		}
	}
	return -1
}

// enumerations: the allowed values, and how messages list them.
var enums = [...]struct {
	values []string
	list   string
}{
	tRoleValues: {[]string{"observation", "prediction", "utility", "test"}, "observation, prediction, utility, test"},
	tDataType:   {[]string{"string", "float", "int"}, "int, float, string"},
	tIDValues: {[]string{
		"TT-ICRS-TOPO", "UTC-ICRS-TOPO", "TT-FK5-TOPO", "UTC-FK5-TOPO", "GPS-ICRS-TOPO",
		"GPS-FK5-TOPO", "TT-ICRS-GEO", "UTC-ICRS-GEO", "TT-FK5-GEO", "UTC-FK5-GEO",
		"GPS-ICRS-GEO", "TDB-ICRS-BARY", "TDB-FK5-BARY", "UTC-GEOD-TOPO",
	}, "TT-ICRS-TOPO, UTC-ICRS-TOPO, TT-FK5-TOPO, UTC-FK5-TOPO, GPS-ICRS-TOPO, GPS-FK5-TOPO, TT-ICRS-GEO, UTC-ICRS-GEO, TT-FK5-GEO, UTC-FK5-GEO, GPS-ICRS-GEO, TDB-ICRS-BARY, TDB-FK5-BARY, UTC-GEOD-TOPO"},
	tCiteValues:      {[]string{"followup", "supersedes", "retraction"}, "followup, supersedes, retraction"},
	tContributorRole: {contributorRoles, strings.Join(contributorRoles, ", ")},
}
