package xpath_test

import (
	"math"
	"testing"

	"comet/xpath"
)

// TestValueConversions checks that a Value converts to each type as
// boolean(), number() and string() would, and Match applies Comet's rule.
func TestValueConversions(t *testing.T) {
	d := loadDoc(t, "axes.xml")
	tests := []struct {
		expr    string
		typ     xpath.Type
		boolean bool
		number  float64
		str     string
		match   bool
	}{
		{"true()", xpath.Boolean, true, 1, "true", true},
		{"false()", xpath.Boolean, false, 0, "false", false},
		{"1.5", xpath.Number, true, 1.5, "1.5", true},
		{"0", xpath.Number, false, 0, "0", false},
		{"0 div 0", xpath.Number, false, math.NaN(), "NaN", true},
		{"-1 div 0", xpath.Number, true, math.Inf(-1), "-Infinity", true},
		{"'12'", xpath.String, true, 12, "12", true},
		{"''", xpath.String, false, math.NaN(), "", false},
		{"//Param/@value", xpath.NodeSet, true, 5, "5", true},
		{"//nothing", xpath.NodeSet, false, math.NaN(), "", false},
	}
	for _, tt := range tests {
		v, err := xpath.MustCompile(tt.expr).Evaluate(d.Root())
		if err != nil {
			t.Fatal(err)
		}
		if v.Type() != tt.typ || v.Boolean() != tt.boolean || !sameNumber(v.Number(), tt.number) ||
			v.String() != tt.str || v.Match() != tt.match {
			t.Errorf("%s: %v %v %v %q match %v; want %v %v %v %q match %v", tt.expr,
				v.Type(), v.Boolean(), v.Number(), v.String(), v.Match(),
				tt.typ, tt.boolean, tt.number, tt.str, tt.match)
		}
	}
	var zero xpath.Value
	if zero.Type() != xpath.Boolean || zero.Boolean() || zero.Len() != 0 || zero.Nodes() != nil {
		t.Error("the zero Value is not boolean false")
	}
	for typ, name := range map[xpath.Type]string{xpath.Boolean: "boolean", xpath.Number: "number", xpath.String: "string", xpath.NodeSet: "node-set"} {
		if typ.String() != name {
			t.Errorf("%d.String() = %q, want %q", typ, typ.String(), name)
		}
	}
}

func TestValueNodes(t *testing.T) {
	d := loadDoc(t, "axes.xml")
	v, err := xpath.MustCompile("//Group/@name").Evaluate(d.Root())
	if err != nil {
		t.Fatal(err)
	}
	nodes := v.Nodes()
	if v.Len() != 2 || len(nodes) != 2 || nodes[0] != v.Node(0) || nodes[1].Value() != "g2" ||
		nodes[0].Kind() != xpath.AttributeNode || nodes[0].Parent().Local() != "Group" {
		t.Errorf("//Group/@name: %d nodes %v", v.Len(), nodes)
	}
	if nodes[0].Document() != d || nodes[0].Index() >= nodes[1].Index() {
		t.Error("nodes not from d in document order")
	}
}

func sameNumber(a, b float64) bool {
	return a == b || math.IsNaN(a) && math.IsNaN(b)
}
