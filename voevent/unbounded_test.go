package voevent

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
)

// repeatable lists every particle of VOEvent-v2.0.xsd that may occur any
// number of times: those with maxOccurs="unbounded", and every branch of
// the xs:choice maxOccurs="unbounded" groups. context places the
// particle's parent in an otherwise valid event (%s is where the
// particle goes) and instance is one valid occurrence of it.
var repeatable = []struct {
	typ      *complexType // the parent's type
	name     string       // the particle
	context  string
	instance string
}{
	{authorType, "title", `<Who><Author>%s</Author></Who>`, `<title>t</title>`},
	{authorType, "shortName", `<Who><Author>%s</Author></Who>`, `<shortName>s</shortName>`},
	{authorType, "logoURL", `<Who><Author>%s</Author></Who>`, `<logoURL>http://example.org/logo.png</logoURL>`},
	{authorType, "contactName", `<Who><Author>%s</Author></Who>`, `<contactName>n</contactName>`},
	{authorType, "contactEmail", `<Who><Author>%s</Author></Who>`, `<contactEmail>e</contactEmail>`},
	{authorType, "contactPhone", `<Who><Author>%s</Author></Who>`, `<contactPhone>1</contactPhone>`},
	{authorType, "contributor", `<Who><Author>%s</Author></Who>`, `<contributor>c</contributor>`},
	{whatType, "Param", `<What>%s</What>`, `<Param name="p" value="1"/>`},
	{whatType, "Group", `<What>%s</What>`, `<Group><Param/></Group>`},
	{whatType, "Table", `<What>%s</What>`, `<Table><Data><TR><TD>1</TD></TR></Data></Table>`},
	{whatType, "Description", `<What>%s</What>`, `<Description>d</Description>`},
	{whatType, "Reference", `<What>%s</What>`, `<Reference uri="http://example.org/r"/>`},
	{paramType, "Description", `<What><Param>%s</Param></What>`, `<Description>d</Description>`},
	{paramType, "Reference", `<What><Param>%s</Param></What>`, `<Reference uri="http://example.org/r"/>`},
	{paramType, "Value", `<What><Param>%s</Param></What>`, `<Value>1</Value>`},
	{groupType, "Param", `<What><Group>%s</Group></What>`, `<Param/>`},
	{groupType, "Description", `<What><Group>%s</Group></What>`, `<Description>d</Description>`},
	{groupType, "Reference", `<What><Group>%s</Group></What>`, `<Reference uri="http://example.org/r"/>`},
	{tableType, "Description", `<What><Table>%s</Table></What>`, `<Description>d</Description>`},
	{tableType, "Reference", `<What><Table>%s</Table></What>`, `<Reference uri="http://example.org/r"/>`},
	{tableType, "Param", `<What><Table>%s</Table></What>`, `<Param/>`},
	{tableType, "Field", `<What><Table>%s</Table></What>`, `<Field name="f"/>`},
	{tableType, "Data", `<What><Table>%s</Table></What>`, `<Data><TR><TD>1</TD></TR></Data>`},
	{fieldType, "Description", `<What><Table><Field>%s</Field></Table></What>`, `<Description>d</Description>`},
	{fieldType, "Reference", `<What><Table><Field>%s</Field></Table></What>`, `<Reference uri="http://example.org/r"/>`},
	{dataType, "TR", `<What><Table><Data>%s</Data></Table></What>`, `<TR><TD>1</TD></TR>`},
	{trType, "TD", `<What><Table><Data><TR>%s</TR></Data></Table></What>`, `<TD>1</TD>`},
	{whereWhenType, "ObsDataLocation", `<WhereWhen>%s</WhereWhen>`, `<ObsDataLocation><ObservatoryLocation/><ObservationLocation><AstroCoordSystem id="UTC-FK5-GEO"/><AstroCoords coord_system_id="UTC-FK5-GEO"/></ObservationLocation></ObsDataLocation>`},
	{whereWhenType, "Description", `<WhereWhen>%s</WhereWhen>`, `<Description>d</Description>`},
	{whereWhenType, "Reference", `<WhereWhen>%s</WhereWhen>`, `<Reference uri="http://example.org/r"/>`},
	{timeType, "TimeInstant", coords(`<Time>%s</Time>`), `<TimeInstant><ISOTime>2020-01-01T00:00:00</ISOTime></TimeInstant>`},
	{timeType, "Error", coords(`<Time>%s</Time>`), `<Error>1</Error>`},
	{timeInstantType, "ISOTime", coords(`<Time><TimeInstant>%s</TimeInstant></Time>`), `<ISOTime>2020-01-01T00:00:00</ISOTime>`},
	{timeInstantType, "TimeOffset", coords(`<Time><TimeInstant>%s</TimeInstant></Time>`), `<TimeOffset>1.5</TimeOffset>`},
	{timeInstantType, "TimeScale", coords(`<Time><TimeInstant>%s</TimeInstant></Time>`), `<TimeScale>UTC</TimeScale>`},
	{howType, "Description", `<How>%s</How>`, `<Description>d</Description>`},
	{howType, "Reference", `<How>%s</How>`, `<Reference uri="http://example.org/r"/>`},
	{whyType, "Name", `<Why>%s</Why>`, `<Name>n</Name>`},
	{whyType, "Concept", `<Why>%s</Why>`, `<Concept>c</Concept>`},
	{whyType, "Inference", `<Why>%s</Why>`, `<Inference><Name>n</Name></Inference>`},
	{whyType, "Description", `<Why>%s</Why>`, `<Description>d</Description>`},
	{whyType, "Reference", `<Why>%s</Why>`, `<Reference uri="http://example.org/r"/>`},
	{inferenceType, "Name", `<Why><Inference>%s</Inference></Why>`, `<Name>n</Name>`},
	{inferenceType, "Concept", `<Why><Inference>%s</Inference></Why>`, `<Concept>c</Concept>`},
	{inferenceType, "Description", `<Why><Inference>%s</Inference></Why>`, `<Description>d</Description>`},
	{inferenceType, "Reference", `<Why><Inference>%s</Inference></Why>`, `<Reference uri="http://example.org/r"/>`},
	{citationsType, "EventIVORN", `<Citations>%s</Citations>`, `<EventIVORN cite="followup">ivo://org.example/test#0</EventIVORN>`},
}

// TestValidateUnbounded checks that every repeatable particle may occur
// 300 times, beyond what a uint8 count could hold (libxml2 accepts these
// documents).
func TestValidateUnbounded(t *testing.T) {
	for _, r := range repeatable {
		doc := ev("", fmt.Sprintf(r.context, strings.Repeat(r.instance, 300)))
		e, err := Parse([]byte(doc))
		if err != nil {
			t.Fatalf("%s/%s: %v", r.typ.name, r.name, err)
		}
		if err := Validate(e); err != nil {
			t.Errorf("%s/%s 300 times: %v", r.typ.name, r.name, err)
		}
	}
}

// TestRepeatableComplete checks repeatable against the schema tables and,
// when ../../shared/schema is present, against the schema itself.
func TestRepeatableComplete(t *testing.T) {
	listed := map[string]bool{}
	for _, r := range repeatable {
		listed[typeName(r.typ)+"/"+r.name] = true
	}
	var tables []string
	for _, typ := range append(namedComplexTypes, authorType, voeventType) {
		for _, e := range typ.elems {
			if typ.model == mChoice || e.max == unbounded {
				tables = append(tables, typeName(typ)+"/"+e.name)
			}
		}
	}
	for _, k := range tables {
		if !listed[k] {
			t.Errorf("schema.go: %s may repeat without limit but is not in repeatable", k)
		}
	}
	if len(tables) != len(listed) {
		t.Errorf("repeatable has %d particles, schema.go %d", len(listed), len(tables))
	}

	raw, err := os.ReadFile("../../shared/schema/VOEvent-v2.0.xsd")
	if err != nil {
		t.Skip("no schema:", err)
	}
	fromXSD := unboundedInXSD(t, raw)
	slices.Sort(tables)
	if fmt.Sprint(fromXSD) != fmt.Sprint(tables) {
		t.Errorf("unbounded particles\nin the XSD: %v\nin schema.go: %v", fromXSD, tables)
	}
}

// typeName names a complex type as the XSD does; the anonymous Author
// type by its element.
func typeName(typ *complexType) string {
	if typ == authorType {
		return "Author"
	}
	return typ.name
}

// unboundedInXSD lists, sorted, the element particles of the schema that
// have maxOccurs="unbounded" or sit in an xs:choice that has, as
// TYPE/NAME, TYPE being the enclosing named complex type, or the element
// of an anonymous one.
func unboundedInXSD(t *testing.T, raw []byte) []string {
	var out, stack []string // stack: the enclosing type names
	choice := []bool{}      // inside an unbounded xs:choice, per open element
	d := xml.NewDecoder(bytes.NewReader(raw))
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) { return r, nil } // ASCII
	var lastElement string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			attr := func(name string) string {
				for _, a := range tok.Attr {
					if a.Name.Local == name {
						return a.Value
					}
				}
				return ""
			}
			inChoice := len(choice) > 0 && choice[len(choice)-1]
			switch tok.Name.Local {
			case "complexType":
				name := attr("name")
				if name == "" {
					name = lastElement
				}
				stack = append(stack, name)
				inChoice = false
			case "choice":
				inChoice = attr("maxOccurs") == "unbounded"
			case "element":
				lastElement = attr("name")
				if len(stack) > 0 && (inChoice || attr("maxOccurs") == "unbounded") {
					out = append(out, stack[len(stack)-1]+"/"+lastElement)
				}
				inChoice = false
			}
			choice = append(choice, inChoice)
		case xml.EndElement:
			choice = choice[:len(choice)-1]
			if tok.Name.Local == "complexType" {
				stack = stack[:len(stack)-1]
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no unbounded particle found in the XSD")
	}
	slices.Sort(out)
	return out
}
