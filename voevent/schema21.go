package voevent

// This file is VOEvent-v2.1-draft.xsd, the schema of the IVOA's VOEvent 2.1
// Proposed Recommendation (2026, not final), written out as Go tables, in
// the form of schema.go. The types 2.1 leaves as they were
// in 2.0 are shared with schema.go (Reference, What and everything in it,
// How, Why, Inference, Citations, EventIVORN); those below are new or
// changed: Author gains Contributor; AstroCoordSystem holds an optional
// TimeFrame and SpaceFrame and its id is an xs:ID; AstroCoords is a
// sequence (Time, PositionName, Position2D, Position3D) whose
// coord_system_id is any string; Time is a sequence of an optional
// TimeInstant or TimeInterval, then an optional Error; TimeInstant is a
// sequence; coordinates and their errors (Error2Radius, Error2, Error3)
// are coord_value, a float with ucd and pos_unit attributes.

var (
	nameType = &complexType{name: "Name", model: mSimple, st: tString, attrs: []attrDecl{
		at("altIdentifier", tAnyURI),
		at("role", tContributorRole),
		at("ivorn", tAnyURI),
	}}

	authorType21 = &complexType{model: mChoice, elems: []elemDecl{
		es("title", tString, 1, 1),
		es("shortName", tString, 1, 1),
		es("logoURL", tAnyURI, 1, 1),
		es("contactName", tString, 1, 1),
		es("contactEmail", tString, 1, 1),
		es("contactPhone", tString, 1, 1),
		es("contributor", tString, 1, 1), // deprecated in 2.1
		el("Contributor", nameType, 1, 1),
	}}

	whoType21 = &complexType{name: "Who", model: mAll, elems: []elemDecl{
		es("AuthorIVORN", tAnyURI, 0, 1),
		es("Date", tDateTime, 0, 1),
		es("Description", tString, 0, 1),
		el("Reference", referenceType, 0, 1),
		el("Author", authorType21, 0, 1),
	}}

	timeFrameType = &complexType{name: "TimeFrameType", model: mSequence, elems: []elemDecl{
		es("Name", tString, 0, 1),
		es("ReferencePosition", tString, 0, 1),
		es("TimeScale", tString, 0, 1),
	}, attrs: []attrDecl{at("id", tID)}}

	spaceFrameType = &complexType{name: "SpaceFrameType", model: mSequence, elems: []elemDecl{
		es("Name", tString, 0, 1),
		es("SpaceRefFrame", tString, 0, 1),
		es("CoordFlavor", tString, 0, 1),
		es("ReferencePosition", tString, 0, 1),
	}, attrs: []attrDecl{at("id", tID)}}

	astroCoordSystemType21 = &complexType{name: "AstroCoordSystem", model: mSequence, elems: []elemDecl{
		el("TimeFrame", timeFrameType, 0, 1),
		el("SpaceFrame", spaceFrameType, 0, 1),
	}, attrs: []attrDecl{at("id", tID)}}

	timeInstantType21 = &complexType{name: "TimeInstant", model: mSequence, elems: []elemDecl{
		es("ISOTime", tString, 0, 1),
		es("TimeOffset", tFloat, 0, 1),
		es("TimeScale", tString, 0, 1),
	}}

	timeIntervalType = &complexType{name: "TimeInterval", model: mSequence, elems: []elemDecl{
		es("ISOTimeStart", tString, 0, 1),
		es("ISOTimeStop", tString, 0, 1),
	}}

	timeType21 = &complexType{name: "Time", model: mSequence, elems: []elemDecl{
		el("TimeInstant", timeInstantType21, 0, 1),
		{name: "TimeInterval", typ: timeIntervalType, min: 0, max: 1, alt: true},
		es("Error", tFloat, 0, 1),
	}, attrs: []attrDecl{at("unit", tString)}}

	coordValueType = &complexType{name: "coord_value", model: mSimple, st: tFloat, attrs: []attrDecl{
		at("ucd", tString),
		at("pos_unit", tString),
	}}

	value2Type21 = &complexType{name: "Value2", model: mAll, elems: []elemDecl{
		el("C1", coordValueType, 1, 1),
		el("C2", coordValueType, 1, 1),
	}}

	error2Type = &complexType{name: "Error2", model: mAll, elems: []elemDecl{
		el("C1", coordValueType, 0, 1),
		el("C2", coordValueType, 0, 1),
	}}

	value3Type21 = &complexType{name: "Value3", model: mAll, elems: []elemDecl{
		el("C1", coordValueType, 1, 1),
		el("C2", coordValueType, 1, 1),
		el("C3", coordValueType, 1, 1),
	}}

	error3Type = &complexType{name: "Error3", model: mAll, elems: []elemDecl{
		el("C1", coordValueType, 0, 1),
		el("C2", coordValueType, 0, 1),
		el("C3", coordValueType, 0, 1),
	}}

	position2DType21 = &complexType{name: "Position2D", model: mAll, elems: []elemDecl{
		es("Name1", tString, 0, 1),
		es("Name2", tString, 0, 1),
		el("Value2", value2Type21, 1, 1),
		el("Error2Radius", coordValueType, 0, 1),
		el("Error2", error2Type, 0, 1),
	}, attrs: []attrDecl{at("unit", tString)}}

	position3DType21 = &complexType{name: "Position3D", model: mAll, elems: []elemDecl{
		es("Name1", tString, 0, 1),
		es("Name2", tString, 0, 1),
		es("Name3", tString, 0, 1),
		el("Value3", value3Type21, 1, 1),
		el("Error3", error3Type, 0, 1),
	}, attrs: []attrDecl{at("unit", tString)}}

	astroCoordsType21 = &complexType{name: "AstroCoords", model: mSequence, elems: []elemDecl{
		el("Time", timeType21, 0, 1),
		es("PositionName", tString, 0, 1),
		el("Position2D", position2DType21, 0, 1),
		el("Position3D", position3DType21, 0, 1),
	}, attrs: []attrDecl{at("coord_system_id", tString)}}

	observationLocationType21 = &complexType{name: "ObservationLocation", model: mAll, elems: []elemDecl{
		el("AstroCoordSystem", astroCoordSystemType21, 1, 1),
		el("AstroCoords", astroCoordsType21, 1, 1),
	}}

	observatoryLocationType21 = &complexType{name: "ObservatoryLocation", model: mAll, elems: []elemDecl{
		el("AstroCoordSystem", astroCoordSystemType21, 0, 1),
		el("AstroCoords", astroCoordsType21, 0, 1),
	}, attrs: []attrDecl{at("id", tString)}}

	obsDataLocationType21 = &complexType{name: "ObsDataLocation", model: mAll, elems: []elemDecl{
		el("ObservatoryLocation", observatoryLocationType21, 1, 1),
		el("ObservationLocation", observationLocationType21, 1, 1),
	}}

	whereWhenType21 = &complexType{name: "WhereWhen", model: mChoice, elems: []elemDecl{
		el("ObsDataLocation", obsDataLocationType21, 1, 1),
		es("Description", tString, 0, 1),
		el("Reference", referenceType, 0, 1),
	}, attrs: []attrDecl{at("id", tID)}}

	voeventType21 = &complexType{model: mAll, elems: []elemDecl{
		el("Who", whoType21, 0, 1),
		el("What", whatType, 0, 1),
		el("WhereWhen", whereWhenType21, 0, 1),
		el("How", howType, 0, 1),
		el("Why", whyType, 0, 1),
		el("Citations", citationsType, 0, 1),
		es("Description", tString, 0, 1),
		el("Reference", referenceType, 0, 1),
	}, attrs: []attrDecl{
		{name: "version", st: tToken, required: true, fixed: "2.1"},
		{name: "ivorn", st: tAnyURI, required: true},
		at("role", tRoleValues),
	}}
)

// contributorRoles are the values of contributorRole (DataCite 4.5).
var contributorRoles = []string{
	"ContactPerson", "DataCollector", "DataCurator", "DataManager", "Distributor",
	"Editor", "HostingInstitution", "Producer", "ProjectLeader", "ProjectManager",
	"ProjectMember", "RegistrationAgency", "RegistrationAuthority", "RelatedPerson",
	"Researcher", "ResearchGroup", "RightsHolder", "Sponsor", "Supervisor",
	"WorkPackageLeader", "Other",
}

// schema21 is VOEvent 2.1. Its ivorns may separate the local part with
// '?' as well as '#': 2.1 recommends '?'.
var schema21 = schemaSet{
	version:   "2.1",
	namespace: Namespace21,
	root:      elemDecl{name: "VOEvent", typ: voeventType21, min: 1, max: 1},
	named: []*complexType{
		whoType21, whatType, paramType, groupType, tableType, fieldType, dataType,
		trType, whereWhenType21, obsDataLocationType21, observationLocationType21,
		astroCoordSystemType21, astroCoordsType21, timeType21, timeInstantType21,
		timeIntervalType, position2DType21, position3DType21, coordValueType,
		value2Type21, error2Type, value3Type21, error3Type,
		observatoryLocationType21, howType, whyType, inferenceType, citationsType,
		eventIVORNType, referenceType, timeFrameType, spaceFrameType, nameType,
	},
	anonymous: []*complexType{authorType21, voeventType21},
	simple: []namedSimple{
		{"roleValues", tRoleValues, tString},
		{"dataType", tDataType, tString},
		{"citeValues", tCiteValues, tString},
		{"smallFloat", tSmallFloat, tFloat},
		{"contributorRole", tContributorRole, tString},
	},
	separators: "#?",
}
