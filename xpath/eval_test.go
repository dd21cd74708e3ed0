package xpath_test

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"comet/xpath"
)

// evalCase is an expression and its value as render writes it.
type evalCase struct{ expr, want string }

// render writes a value for comparison: booleans and numbers as string()
// does (but -0 as "-0"), strings quoted, node-sets as a bracketed list of
// their nodes in document order, each described by describe.
func render(v xpath.Value) string {
	switch v.Type() {
	case xpath.Boolean:
		return strconv.FormatBool(v.Boolean())
	case xpath.Number:
		if f := v.Number(); f == 0 && math.Signbit(f) {
			return "-0"
		}
		return v.String()
	case xpath.String:
		return strconv.Quote(v.String())
	}
	parts := make([]string, v.Len())
	for i := range v.Len() {
		parts[i] = describe(v.Node(i))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// describe names a node: "/" for the root, an element by its qualified
// name and its name attribute if it has one (Param(alpha)), "@name=value"
// for an attribute, "ns:prefix" for a namespace node, and the kind and
// value for text, comments and processing instructions (by target).
func describe(n xpath.Node) string {
	switch n.Kind() {
	case xpath.RootNode:
		return "/"
	case xpath.ElementNode:
		s := n.QName()
		if a, ok := n.Attr("", "name"); ok {
			s += "(" + a + ")"
		}
		return s
	case xpath.AttributeNode:
		return "@" + n.QName() + "=" + strconv.Quote(n.Value())
	case xpath.NamespaceNode:
		return "ns:" + n.Local()
	case xpath.TextNode:
		return "text:" + strconv.Quote(n.Value())
	case xpath.CommentNode:
		return "comment:" + strconv.Quote(n.Value())
	}
	return "pi:" + n.Local()
}

// runCases evaluates each case against a testdata document with the root
// node as the context node, as xmllint --xpath does.
func runCases(t *testing.T, file string, cases []evalCase) {
	t.Helper()
	d := loadDoc(t, file)
	for _, c := range cases {
		e, err := xpath.Compile(c.expr)
		if err != nil {
			t.Errorf("Compile(%q): %v", c.expr, err)
			continue
		}
		v, err := e.Evaluate(d.Root())
		if err != nil {
			t.Errorf("%s: %v", c.expr, err)
			continue
		}
		if got := render(v); got != c.want {
			t.Errorf("%s\n got %s\nwant %s", c.expr, got, c.want)
		}
	}
}

// The expected values below were derived from REC-xpath-19991116 and
// checked against libxml2 2.9.14 (xmllint --nocdata --xpath EXPR
// testdata/xpath/axes.xml; --nocdata because lxml, and so Comet, merges
// CDATA sections into text as the XPath data model requires): counts,
// string-values of the first and last node, numbers, booleans and strings
// all agree. The cases where libxml2 departs from the spec are in
// deviation_test.go.

// TestAxes covers the 13 axes, proximity positions on forward and reverse
// axes, and the node tests.
func TestAxes(t *testing.T) { runCases(t, "axes.xml", axesCases) }

// TestOperators covers precedence, associativity, arithmetic in IEEE 754,
// the comparison rules of REC-xpath §3.4 and unions.
func TestOperators(t *testing.T) { runCases(t, "axes.xml", operatorCases) }

// TestFunctions covers the 27 functions of the core library.
func TestFunctions(t *testing.T) { runCases(t, "axes.xml", functionCases) }

var axesCases = []evalCase{
	// child
	{"/child::node()", `[comment:" Synthetic document for the xpath axis, node-test and function tests. " pi:stylesheet voe:VOEvent comment:" trailing comment "]`},
	{"/*/child::*", `[Who What Why]`},
	{"/*/*", `[Who What Why]`},
	{"//What/Param", `[Param(alpha) Param(beta) Param(gamma) Param(delta)]`},
	{"//What/child::text()", `[text:"\n    " text:"\n    " text:"\n    " text:"\n    " text:"\n    " text:"\n    " text:"\n    " text:"\n    " text:"\n    " text:"\n  "]`},
	{"//Who/node()", `[text:"\n    " AuthorIVORN text:"\n    " Date text:"\n    " pi:note text:"\n  "]`},
	// descendant, descendant-or-self and //
	{"count(//node())", `63`},
	{"count(//*)", `25`},
	{"count(/descendant::*)", `25`},
	{"count(/descendant-or-self::node())", `64`},
	{"//Group/descendant::*", `[Param(alpha) Param(epsilon) Description Param(zeta) Param(eta)]`},
	{"//Group[1]/descendant-or-self::*", `[Group(g1) Param(alpha) Param(epsilon) Description]`},
	{"//What//Param", `[Param(alpha) Param(beta) Param(gamma) Param(delta) Param(alpha) Param(epsilon) Param(zeta) Param(eta)]`},
	{"//What/descendant::Param[1]", `[Param(alpha)]`},
	{"//What/descendant-or-self::Param[1]", `[Param(alpha)]`},
	{"//Group//text()", `[text:"\n      " text:"\n      " text:"\n      " text:"Ünïcødé 😀 text" text:"\n    " text:"\n      " text:"\n      " text:"\n    "]`},
	{"count(//What//*)", `16`},
	{`//Param[@name="delta"]/descendant-or-self::node()`, `[Param(delta) text:"text <cdata> & more"]`},
	{"//@b/descendant-or-self::node()", `[@b="2"]`},
	{"//@b/descendant::node()", `[]`},
	// parent and ancestor
	{`//Param[@name="epsilon"]/..`, `[Group(g1)]`},
	{`//Param[@name="epsilon"]/parent::*`, `[Group(g1)]`},
	{"//Param/parent::Group", `[Group(g1) Group(g2)]`},
	{"//Group/..", `[What]`},
	{"/*/..", `[/]`},
	{"/..", `[]`},
	{`//@name[.="zeta"]/..`, `[Param(zeta)]`},
	{"//namespace::xsi[1]/..", `[voe:VOEvent Who AuthorIVORN Date What Param(alpha) Param(beta) Param(gamma) Param(delta) Group(g1) Param(alpha) Param(epsilon) Description Group(g2) Param(zeta) Param(eta) ns:Extra Inner Deflt Param(hidden) Plain Why Inference Name Name]`},
	{`//Param[@name="epsilon"]/ancestor::*`, `[voe:VOEvent What Group(g1)]`},
	{`//Param[@name="epsilon"]/ancestor::*[1]`, `[Group(g1)]`},
	{`//Param[@name="epsilon"]/ancestor::*[last()]`, `[voe:VOEvent]`},
	{`//Param[@name="epsilon"]/ancestor::node()`, `[/ voe:VOEvent What Group(g1)]`},
	{`//Param[@name="epsilon"]/ancestor-or-self::*`, `[voe:VOEvent What Group(g1) Param(epsilon)]`},
	{`//Param[@name="epsilon"]/ancestor-or-self::*[1]`, `[Param(epsilon)]`},
	{`//@*[local-name()="flag"]/ancestor::*`, `[voe:VOEvent What ns:Extra]`},
	{"count(//Param/ancestor::*)", `4`},
	// siblings
	{`//Param[@name="alpha"]/following-sibling::*`, `[Param(beta) Param(gamma) Param(delta) Group(g1) Param(epsilon) Description Group(g2) ns:Extra Deflt]`},
	{`//Param[@name="alpha"]/following-sibling::*[1]`, `[Param(beta) Param(epsilon)]`},
	{`//Param[@name="alpha"]/following-sibling::Param[last()]`, `[Param(delta) Param(epsilon)]`},
	{`//Param[@name="delta"]/preceding-sibling::*`, `[Param(alpha) Param(beta) Param(gamma)]`},
	{`//Param[@name="delta"]/preceding-sibling::*[1]`, `[Param(gamma)]`},
	{`//Param[@name="delta"]/preceding-sibling::*[last()]`, `[Param(alpha)]`},
	{`//Param[@name="delta"]/preceding-sibling::node()[2]`, `[Param(gamma)]`},
	{"//What/@a/following-sibling::node()", `[]`},
	{"//What/@b/preceding-sibling::node()", `[]`},
	{"/*/following-sibling::node()", `[comment:" trailing comment "]`},
	{"/*/preceding-sibling::node()", `[comment:" Synthetic document for the xpath axis, node-test and function tests. " pi:stylesheet]`},
	// following and preceding
	{"//Group[1]/following::*", `[Group(g2) Param(zeta) Param(eta) ns:Extra Inner Deflt Param(hidden) Plain Why Inference Name Name]`},
	{`//Group[@name="g2"]/following::node()[1]`, `[text:"\n    "]`},
	{"//Group[1]/preceding::*", `[Who AuthorIVORN Date Param(alpha) Param(beta) Param(gamma) Param(delta)]`},
	{"//Group[1]/preceding::*[1]", `[Param(delta)]`},
	{"//Group[1]/preceding::*[2]", `[Param(gamma)]`},
	{"//Group[1]/preceding::*[last()]", `[Who]`},
	{"//Group[1]/preceding::comment()", `[comment:" Synthetic document for the xpath axis, node-test and function tests. " comment:" a comment "]`},
	{"//Group[1]/preceding::processing-instruction()", `[pi:stylesheet pi:note]`},
	{"count(//Who/following::text())", `26`},
	{"//What/@a/preceding::*", `[Who AuthorIVORN Date]`},
	{"//Date/preceding::node()", `[comment:" Synthetic document for the xpath axis, node-test and function tests. " pi:stylesheet text:"\n  " text:"\n    " AuthorIVORN text:"ivo://example.org/author" text:"\n    "]`},
	// attribute
	{"//What/@*", `[@a="1" @b="2"]`},
	{"//What/attribute::a", `[@a="1"]`},
	{`//Param[@name="alpha"]/@*`, `[@name="alpha" @value="5" @unit="ct" @xml:id="p-alpha" @name="alpha" @value="-3"]`},
	{"//@xml:lang", `[@xml:lang="en-GB" @xml:lang="fr"]`},
	{"//@xml:*", `[@xml:lang="en-GB" @xml:id="p-alpha" @xml:lang="fr"]`},
	{`//*[local-name()="Extra"]/@*`, `[@ns:flag="on"]`},
	{"//Param/@unit", `[@unit="ct"]`},
	{"/@*", `[]`},
	{"//text()/@*", `[]`},
	// namespace
	{"//What/namespace::*", `[ns:xml ns:xsi ns:voe]`},
	{"//What/namespace::xml", `[ns:xml]`},
	{"//What/namespace::voe", `[ns:voe]`},
	{"//What/namespace::*[2]", `[ns:xsi]`},
	{`//*[local-name()="Extra"]/namespace::*`, `[ns:xml ns:xsi ns:voe ns:ns]`},
	{`//*[local-name()="Deflt"]/namespace::*`, `[ns:xml ns:xsi ns:voe ns:]`},
	{"//@a/namespace::*", `[]`},
	{"count(//namespace::xml)", `25`},
	// self
	{`//Param/self::Param[@name="beta"]`, `[Param(beta)]`},
	{"//What/self::*", `[What]`},
	{"//What/self::Who", `[]`},
	{"/self::node()", `[/]`},
	{"//@a/self::node()", `[@a="1"]`},
	{"//@a/self::*", `[]`},
	{"count(//namespace::voe/self::node())", `25`},
	// from a node-set of context nodes: nested ones and attributes among them
	{"count((//What | //What//@*)/descendant-or-self::node())", `64`},
	{"count((//Param/@name | //Group)/following::*)", `19`},
	{"count((//Param/@name | //Group)/preceding::*)", `12`},
	{"count((//Who | //Param/@name | //Group)/following::*)", `21`},
	{"count(//@*/preceding::node())", `53`},
	{"(//Group | //Group//@*)/descendant-or-self::node()", `[Group(g1) @name="g1" @type="x" @xml:lang="fr" text:"\n      " Param(alpha) @name="alpha" @value="-3" text:"\n      " Param(epsilon) @name="epsilon" @value="1e3" text:"\n      " Description text:"Ünïcødé 😀 text" text:"\n    " Group(g2) @name="g2" text:"\n      " Param(zeta) @name="zeta" @value="0" text:"\n      " Param(eta) @name="eta" @value="-0" text:"\n    "]`},
	{"(//Who | //Group[2])/following::*", `[What Param(alpha) Param(beta) Param(gamma) Param(delta) Group(g1) Param(alpha) Param(epsilon) Description Group(g2) Param(zeta) Param(eta) ns:Extra Inner Deflt Param(hidden) Plain Why Inference Name Name]`},
	{"(//Who | //Group[2])/preceding::*", `[Who AuthorIVORN Date Param(alpha) Param(beta) Param(gamma) Param(delta) Group(g1) Param(alpha) Param(epsilon) Description]`},
	{"(//Who | //Group[2])/following::*[1]", `[What ns:Extra]`},
	// node tests
	{"//What/node()", `[text:"\n    " Param(alpha) text:"\n    " Param(beta) text:"\n    " Param(gamma) text:"\n    " Param(delta) text:"\n    " comment:" a comment " text:"\n    " Group(g1) text:"\n    " Group(g2) text:"\n    " ns:Extra text:"\n    " Deflt text:"\n  "]`},
	{"//Who/text()", `[text:"\n    " text:"\n    " text:"\n    " text:"\n  "]`},
	{`//Param[@name="delta"]/text()`, `[text:"text <cdata> & more"]`},
	{"//comment()", `[comment:" Synthetic document for the xpath axis, node-test and function tests. " comment:" a comment " comment:" trailing comment "]`},
	{"/comment()", `[comment:" Synthetic document for the xpath axis, node-test and function tests. " comment:" trailing comment "]`},
	{"//processing-instruction()", `[pi:stylesheet pi:note]`},
	{`//processing-instruction("note")`, `[pi:note]`},
	{"//processing-instruction('stylesheet')", `[pi:stylesheet]`},
	{`//processing-instruction("none")`, `[]`},
	{"//Plain", `[Plain]`},
	{`//*[local-name()="Plain"]`, `[Plain]`},
	{"//Deflt", `[]`},
	{`//*[local-name()="Deflt"]/*`, `[Param(hidden) Plain]`},
	{"//What/*[3]", `[Param(gamma)]`},
	{`//*[name()="ns:Extra"]`, `[ns:Extra]`},
}

var operatorCases = []evalCase{
	// arithmetic: precedence and left associativity
	{"1 + 2 * 3", `7`},
	{"(1 + 2) * 3", `9`},
	{"10 - 4 - 3", `3`},
	{"100 div 10 div 5", `2`},
	{"2 * 3 mod 4", `2`},
	{"7 mod 3", `1`},
	{"5 mod 2", `1`},
	{"5 mod -2", `1`},
	{"-5 mod 2", `-1`},
	{"-5 mod -2", `-1`},
	{"5.5 mod 2", `1.5`},
	{"1 mod 0", `NaN`},
	{"0 mod 5", `0`},
	{"1 div 0", `Infinity`},
	{"-1 div 0", `-Infinity`},
	{"0 div 0", `NaN`},
	{"1 div -0", `-Infinity`},
	{"-0", `-0`},
	{"--3", `3`},
	{"- - 3", `3`},
	{"-'3'", `-3`},
	{"1 - -1", `2`},
	{"1--1", `2`},
	{"1 + '2'", `3`},
	{"'a' + 1", `NaN`},
	{"true() + true()", `2`},
	{`-//Param[@name="alpha"]/@value`, `-5`},
	{`//Param[@name="alpha"]/@value * 2`, `10`},
	// unary minus applies to the whole union
	{`-//Group[2]/Param/@value | //Param[@name="alpha"]/@value`, `-5`},
	// relational and equality: left associativity
	{"3 > 2 > 1", `false`},
	{"1 < 2 < 3", `true`},
	{"3 > 2 = 1", `true`},
	{"1 = 1 = 1", `true`},
	{"2 = 2 = 2", `true`},
	{"1 != 2 != 0", `true`},
	{"1 = 2 or 2 = 2 and 3 = 4", `false`},
	{"(1 = 2 or 2 = 2) and 3 = 4", `false`},
	// boolean and number and string comparisons
	{"true() = 1", `true`},
	{"false() = 0", `true`},
	{"true() = 'x'", `true`},
	{"false() = ''", `true`},
	{"'1' = 1", `true`},
	{"'1.0' = 1", `true`},
	{"' 1 ' = 1", `true`},
	{"'abc' = 'abc'", `true`},
	{"'abc' != 'abd'", `true`},
	{"'a' < 'b'", `false`},
	{"'2' < '10'", `true`},
	{"'10' > '9'", `true`},
	{"1 < 'x'", `false`},
	{"1 >= 'x'", `false`},
	{"0 div 0 = 0 div 0", `false`},
	{"0 div 0 != 0 div 0", `true`},
	{"0 = -0", `true`},
	{"1 div 0 = 2 div 0", `true`},
	{"1 div 0 > 1e308", `true`},
	{"true() > false()", `true`},
	{"'1e3' = 1000", `true`},
	// node-set comparisons
	{"//Param/@name = 'alpha'", `true`},
	{"'alpha' = //Param/@name", `true`},
	{"//Param/@name != 'alpha'", `true`},
	{"//Param/@value > 10", `true`},
	{"10 < //Param/@value", `true`},
	{"10 > //Param/@value", `true`},
	{"//Param/@value = 1000", `true`},
	{"//Param/@value = 1.2e-09", `true`},
	{"//Param/@value = 12", `true`},
	{"//Param/@value = ' 12 '", `true`},
	{"//Param/@value = '12'", `false`},
	{"//Param/@value = //Group/Param/@value", `true`},
	{"//Param/@name = //Group/Param/@name", `true`},
	{"//Group/Param/@name != //Group[1]/Param[1]/@name", `true`},
	{"//Group[1]/Param[1]/@name != //Group[1]/Param[1]/@name", `false`},
	{"//Param/@value < //Group/Param/@value", `true`},
	{"//Param/@value > //Group/Param/@value", `true`},
	{"//Group[2]/Param/@value <= //Group[2]/Param/@value", `true`},
	{"//Group[2]/Param/@value < //Group[2]/Param/@value", `false`},
	{"//nothing = //nothing", `false`},
	{"//nothing != //nothing", `false`},
	{"//nothing = ''", `false`},
	{"//nothing != ''", `false`},
	{"//nothing = 0", `false`},
	{"//nothing != 0", `false`},
	{"//nothing = false()", `true`},
	{"//nothing != true()", `true`},
	{"//nothing < true()", `true`},
	{"//Param = true()", `true`},
	{"//Param < true()", `false`},
	{"//Param > false()", `true`},
	{"//Param/@value >= true()", `true`},
	{"true() > //Param/@value", `false`},
	{"//Name = 'GRB'", `true`},
	{"//Name != 'GRB'", `true`},
	// and, or, not: short-circuit and conversions
	{"true() and false()", `false`},
	{"true() or false()", `true`},
	{"false() or false() or true()", `true`},
	{"true() and true() and false()", `false`},
	{"1 and 'x'", `true`},
	{"0 or ''", `false`},
	{"//Param and //nothing", `false`},
	{"//nothing or //Who", `true`},
	// union
	{"//Group | //Who", `[Who Group(g1) Group(g2)]`},
	{"//Group | //Group", `[Group(g1) Group(g2)]`},
	{`//Param[@name="alpha"] | //Param[@name="beta"] | //Param[@name="alpha"]`, `[Param(alpha) Param(beta) Param(alpha)]`},
	{"count(//Param | //Group/Param)", `8`},
	{"(//Group | //Who)[1]", `[Who]`},
	{"(//Group | //Who)[last()]", `[Group(g2)]`},
	{"//Who/* | //Who/node() | //@role", `[@role="test" text:"\n    " AuthorIVORN text:"\n    " Date text:"\n    " pi:note text:"\n  "]`},
}

var functionCases = []evalCase{
	// node-set functions
	{"count(//Param)", `8`},
	{"count(/)", `1`},
	{"count(//nothing)", `0`},
	{"//Param[last()]", `[Param(delta) Param(epsilon) Param(eta)]`},
	{"//What/Param[position() = last() - 1]", `[Param(gamma)]`},
	{"//What/*[position() mod 2 = 0]", `[Param(beta) Param(delta) Group(g2) Deflt]`},
	{"(//Param)[position() > 6]", `[Param(zeta) Param(eta)]`},
	{"//Param[count(@*) = 3]", `[]`},
	{`id("p-alpha")`, `[Param(alpha)]`},
	{`id("p-alpha   nothing ")`, `[Param(alpha)]`},
	{`id("nothing")`, `[]`},
	{`id(//Param[@name="alpha"]/@xml:id)`, `[Param(alpha)]`},
	{"id(//@xml:id | //@name)", `[Param(alpha)]`},
	{"id(1)", `[]`},
	{"local-name()", `""`},
	{"local-name(/*)", `"VOEvent"`},
	{"local-name(//@xml:lang)", `"lang"`},
	{`local-name(//*[local-name()="Extra"]/@*)`, `"flag"`},
	{"local-name(//processing-instruction())", `"stylesheet"`},
	{"local-name(//comment())", `""`},
	{"local-name(//text())", `""`},
	{"local-name(//What/namespace::*[3])", `"voe"`},
	{"local-name(//nothing)", `""`},
	{"namespace-uri(/*)", `"http://www.ivoa.net/xml/VOEvent/v2.0"`},
	{"namespace-uri(//What)", `""`},
	{"namespace-uri(//@xml:lang)", `"http://www.w3.org/XML/1998/namespace"`},
	{`namespace-uri(//*[local-name()="Extra"])`, `"urn:example:extra"`},
	{`namespace-uri(//*[local-name()="Deflt"])`, `"urn:example:default"`},
	{`namespace-uri(//*[local-name()="Plain"])`, `""`},
	{"namespace-uri(//What/namespace::*[1])", `""`},
	{"namespace-uri(//processing-instruction())", `""`},
	{"name(/*)", `"voe:VOEvent"`},
	{"name(//What)", `"What"`},
	{"name(//@xml:lang)", `"xml:lang"`},
	{`name(//*[local-name()="Extra"])`, `"ns:Extra"`},
	{`name(//*[local-name()="Extra"]/@*)`, `"ns:flag"`},
	{`name(//*[local-name()="Deflt"])`, `"Deflt"`},
	{"name(//processing-instruction())", `"stylesheet"`},
	{"name(//What/namespace::*[3])", `"voe"`},
	{`name(//*[local-name()="Deflt"]/namespace::*[last()])`, `""`},
	{"name(/)", `""`},
	{"name(//text())", `""`},
	{"name()", `""`},
	// string functions
	{"string()", `"\n  \n    ivo://example.org/author\n    2024-05-06T07:08:09\n    \n  \n  \n    \n    \n    \n    text <cdata> & more\n    \n    \n      \n      \n      Ünïcødé 😀 text\n    \n    \n      \n      \n    \n    \n    \n  \n  \n    GRB  spaced   out  \n  \n"`},
	{`string(//Param[@name="delta"])`, `"text <cdata> & more"`},
	{"string(//What/@a)", `"1"`},
	{"string(//What/namespace::voe)", `"http://www.ivoa.net/xml/VOEvent/v2.0"`},
	{"string(//comment())", `" Synthetic document for the xpath axis, node-test and function tests. "`},
	{`string(//processing-instruction("note"))`, `"first pi"`},
	{"string(//Description)", `"Ünïcødé 😀 text"`},
	{"string(//nothing)", `""`},
	{"string(1.5)", `"1.5"`},
	{"string(-0)", `"0"`},
	{"string(1 div 0)", `"Infinity"`},
	{"string(0 div 0)", `"NaN"`},
	{"string(true())", `"true"`},
	{`string("x")`, `"x"`},
	{`concat("a", "b")`, `"ab"`},
	{`concat("a", 1, true(), //What/@b)`, `"a1true2"`},
	{`concat("", "", "")`, `""`},
	{`starts-with("abc", "ab")`, `true`},
	{`starts-with("abc", "")`, `true`},
	{`starts-with("", "a")`, `false`},
	{`starts-with(/*/@ivorn, "ivo://example")`, `true`},
	{`contains("abc", "bc")`, `true`},
	{`contains("abc", "")`, `true`},
	{`contains("", "")`, `true`},
	{`contains("abc", "d")`, `false`},
	{`contains(//Description, "😀")`, `true`},
	{`substring-before("1999/04/01", "/")`, `"1999"`},
	{`substring-before("1999/04/01", "")`, `""`},
	{`substring-before("1999/04/01", "x")`, `""`},
	{`substring-after("1999/04/01", "/")`, `"04/01"`},
	{`substring-after("1999/04/01", "19")`, `"99/04/01"`},
	{`substring-after("1999/04/01", "")`, `"1999/04/01"`},
	{`substring-after("1999/04/01", "x")`, `""`},
	{`substring("12345", 2, 3)`, `"234"`},
	{`substring("12345", 2)`, `"2345"`},
	{`substring("12345", 1.5, 2.6)`, `"234"`},
	{`substring("12345", 0, 3)`, `"12"`},
	{`substring("12345", 0 div 0, 3)`, `""`},
	{`substring("12345", 1, 0 div 0)`, `""`},
	{`substring("12345", -42, 1 div 0)`, `"12345"`},
	{`substring("12345", -1 div 0, 1 div 0)`, `""`},
	{`substring("12345", 1 div 0)`, `""`},
	{`substring("12345", -1 div 0)`, `"12345"`},
	{`substring("12345", 5, 1 div 0)`, `"5"`},
	{`substring("12345", 6)`, `""`},
	{`substring("12345", -1, 3)`, `"1"`},
	{`substring("12345", 2, -1)`, `""`},
	{`substring("12345", 2.5)`, `"345"`},
	{`substring("12345", 2.4999)`, `"2345"`},
	{`substring("é😀x", 2, 1)`, `"😀"`},
	{`substring("é😀x", 2)`, `"😀x"`},
	{"substring(//Description, 2, 4)", `"nïcø"`},
	{`string-length("")`, `0`},
	{`string-length("abc")`, `3`},
	{`string-length("é😀")`, `2`},
	{"string-length(//Description)", `14`},
	{"string-length()", `224`},
	{`normalize-space("  a  b  ")`, `"a b"`},
	{`normalize-space(" ")`, `""`},
	{"normalize-space(//Name[2])", `"spaced out"`},
	{"normalize-space()", `"ivo://example.org/author 2024-05-06T07:08:09 text <cdata> & more Ünïcødé 😀 text GRB spaced out"`},
	{`translate("bar", "abc", "ABC")`, `"BAr"`},
	{`translate("--aaa--", "abc-", "ABC")`, `"AAA"`},
	{`translate("abc", "aa", "xy")`, `"xbc"`},
	{`translate("abc", "", "xyz")`, `"abc"`},
	{`translate("aé😀", "😀é", "EF")`, `"aFE"`},
	{`translate("abc", "abc", "")`, `""`},
	{`translate(//Description, "Ünï", "UNI")`, `"UNIcødé 😀 text"`},
	// boolean functions
	{"boolean(1)", `true`},
	{"boolean(0)", `false`},
	{"boolean(-0)", `false`},
	{"boolean(0 div 0)", `false`},
	{`boolean("")`, `false`},
	{`boolean(" ")`, `true`},
	{`boolean("false")`, `true`},
	{"boolean(/)", `true`},
	{"boolean(//nothing)", `false`},
	{"not(0)", `true`},
	{`not("")`, `true`},
	{`not("0")`, `false`},
	{"not(//nothing)", `true`},
	{"true()", `true`},
	{"false()", `false`},
	{`lang("en")`, `false`},
	{`//*[lang("en")]`, `[voe:VOEvent Who AuthorIVORN Date What Param(alpha) Param(beta) Param(gamma) Param(delta) Group(g2) Param(zeta) Param(eta) ns:Extra Inner Deflt Param(hidden) Plain Why Inference Name Name]`},
	{`//*[lang("EN-gb")]`, `[voe:VOEvent Who AuthorIVORN Date What Param(alpha) Param(beta) Param(gamma) Param(delta) Group(g2) Param(zeta) Param(eta) ns:Extra Inner Deflt Param(hidden) Plain Why Inference Name Name]`},
	{`//*[lang("en-us")]`, `[]`},
	{`//*[lang("fr")]`, `[Group(g1) Param(alpha) Param(epsilon) Description]`},
	{`//@*[lang("fr")]`, `[@name="g1" @type="x" @xml:lang="fr" @name="alpha" @value="-3" @name="epsilon" @value="1e3"]`},
	{`count(//text()[lang("fr")])`, `5`},
	// number functions
	{"number()", `NaN`},
	{"number(true())", `1`},
	{"number(false())", `0`},
	{`number("  42  ")`, `42`},
	{`number(//Param[@name="beta"]/@value)`, `0.0000000012`},
	{"number(//Param/@value)", `5`},
	{"number(//nothing)", `NaN`},
	{"sum(//Param/@value)", `NaN`},
	{`sum(//Group[@name="g2"]/Param/@value)`, `0`},
	{`1 div sum(//Group[@name="g2"]/Param[2]/@value)`, `Infinity`},
	{"sum(//nothing)", `0`},
	{"sum(/)", `NaN`},
	{"floor(2.5)", `2`},
	{"floor(-2.5)", `-3`},
	{`floor("3.7")`, `3`},
	{"1 div floor(-0.5)", `-1`},
	{"floor(0 div 0)", `NaN`},
	{"ceiling(2.5)", `3`},
	{"ceiling(-2.5)", `-2`},
	{`ceiling(" 3.2 ")`, `4`},
	{"1 div ceiling(-0.5)", `-Infinity`},
	{"round(2.5)", `3`},
	{"round(-2.5)", `-2`},
	{"round(2.4)", `2`},
	{"round(-2.6)", `-3`},
	{`round("2.5")`, `3`},
	{"1 div round(-0.5)", `-Infinity`},
	{"1 div round(-0.2)", `-Infinity`},
	{"1 div round(0.2)", `Infinity`},
	{"round(1 div 0)", `Infinity`},
	{"round(0 div 0)", `NaN`},
	{"round(-1 div 0)", `-Infinity`},
}
