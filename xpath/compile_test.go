package xpath_test

import (
	"errors"
	"strings"
	"testing"

	"comet/xpath"
)

// TestCompileErrors checks that what libxml2 refuses to compile (lxml's
// XPathSyntaxError, which makes Comet ignore the filter) is a grammatical
// error here, reported at the right byte offset.
func TestCompileErrors(t *testing.T) {
	tests := []struct {
		expr   string
		offset int
	}{
		{"Not a valid XPath expression", 4}, // Comet's own test of a bad filter
		{"", 0},
		{"   ", 3},
		{"1 2", 2},
		{"//Param )", 8},
		{"(", 1},
		{")", 0},
		{"[1]", 0},
		{"1 +", 3},
		{"+ 1", 0},
		{"1 ++ 1", 3},
		{"1 * * 2", 6},
		{"//", 2},
		{"a//", 3},
		{"a/", 2},
		{"@", 1},
		{"@@a", 1},
		{".[1]", 1},
		{"..[1]", 2},
		{"child::", 7},
		{"foo::bar", 0},
		{"child::a:", 8},
		{"processing-instruction(x)", 23},
		{"processing-instruction('x', 'y')", 26},
		{"text('x')", 5},
		{"node(1)", 5},
		{"'unterminated", 0},
		{"'it''s'", 4},
		{"1.2.3", 3},
		{"-", 1},
		{"--", 2},
		{"a:b:c", 3},
		{"!", 0},
		{"1 ! = 2", 2},
		{"1 < = 2", 4},
		{"1 => 2", 3},
		{"$", 1},
		{"$1", 1},
		{"$x +", 4}, // grammatical error wins over the unbound variable
		{"//voe:Param[", 12},
		{"count(//Param", 13},
		{"count(//Param,)", 14},
		{"f(", 2},
		{"//Param[@name='x' and]", 21},
		{"/ /", 2},
		{"#", 0},
		{"//Param[@name=\"x\"] or", 21},
		{"\x00", 0},
		{"a\xffb", 1},
	}
	for _, tt := range tests {
		_, err := xpath.Compile(tt.expr)
		var se *xpath.SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Compile(%q) = %v, want a *SyntaxError", tt.expr, err)
			continue
		}
		if errors.Is(err, xpath.ErrSemantic) {
			t.Errorf("Compile(%q): %v wraps ErrSemantic; libxml2 rejects it as a syntax error", tt.expr, err)
		}
		if se.Offset != tt.offset || se.Expr != tt.expr || se.Msg == "" {
			t.Errorf("Compile(%q): %q at offset %d, want offset %d", tt.expr, se.Msg, se.Offset, tt.offset)
		}
		if !strings.Contains(err.Error(), se.Msg) {
			t.Errorf("Compile(%q): Error() %q lacks the message", tt.expr, err)
		}
	}
}

// TestSemanticErrors checks the expressions that are grammatical but
// cannot be evaluated: libxml2 compiles them and fails when it evaluates
// them (xmllint reports "Undefined variable", "Undefined namespace
// prefix", "Unregistered function", "Invalid number of arguments",
// "Invalid type"). They are compile errors here, wrapping ErrSemantic.
func TestSemanticErrors(t *testing.T) {
	tests := []struct {
		expr   string
		offset int
		msg    string
	}{
		{"$x", 0, "undefined variable"},
		{"$x + 1", 0, "undefined variable"},
		{"//Param[@value > $limit]", 17, "undefined variable"},
		{"$p:x", 0, "undefined variable"},
		{"//voe:VOEvent", 2, "undefined namespace prefix 'voe'"},
		{"/voe:*", 1, "undefined namespace prefix"},
		{"//@voe:x", 3, "undefined namespace prefix"},
		{"//Param[@name='x'][voe:a]", 19, "undefined namespace prefix"},
		{"re:test('a', 'b')", 0, "undefined namespace prefix 're'"},
		{"foo()", 0, "unknown function 'foo'"},
		{"ends-with('ab', 'b')", 0, "unknown function"},
		{"current()", 0, "unknown function"},
		{"true(1)", 0, "true() takes 0 arguments, not 1"},
		{"count()", 0, "count() takes 1 argument, not 0"},
		{"concat('a')", 0, "at least 2 arguments"},
		{"substring('a')", 0, "2 or 3 arguments"},
		{"substring('a', 1, 2, 3)", 0, "2 or 3 arguments"},
		{"translate('a', 'b')", 0, "3 arguments"},
		{"lang()", 0, "1 argument"},
		{"//Param[position(1)]", 8, "position() takes 0 arguments"},
		{"count(1)", 6, "must be a node-set"},
		{"sum('1')", 4, "must be a node-set"},
		{"local-name(1)", 11, "must be a node-set"},
		{"name(true())", 5, "must be a node-set"},
		{"namespace-uri('x')", 14, "must be a node-set"},
		{"'a' | 'b'", 0, "operand of '|'"},
		{"//Param | 'b'", 10, "operand of '|'"},
		{"'a'/b", 0, "a path cannot start from a string"},
		{"count(//a)//b", 0, "a path cannot start from a number"},
		{"'a'[1]", 0, "a predicate cannot filter a string"},
		{"(1)[1]", 0, "a predicate cannot filter a number"},
		{"$x | //a", 0, "undefined variable"}, // the first error is reported
	}
	for _, tt := range tests {
		_, err := xpath.Compile(tt.expr)
		var se *xpath.SyntaxError
		if !errors.As(err, &se) || !errors.Is(err, xpath.ErrSemantic) {
			t.Errorf("Compile(%q) = %v, want a *SyntaxError wrapping ErrSemantic", tt.expr, err)
			continue
		}
		if se.Offset != tt.offset || !strings.Contains(se.Msg, tt.msg) {
			t.Errorf("Compile(%q): %q at offset %d, want %q at offset %d", tt.expr, se.Msg, se.Offset, tt.msg, tt.offset)
		}
	}
}

// TestCompileLimits checks the limits on expression length and nesting.
func TestCompileLimits(t *testing.T) {
	long := "//Param[@name='" + strings.Repeat("x", xpath.MaxExprLen) + "']"
	_, err := xpath.Compile(long)
	var se *xpath.SyntaxError
	if !errors.As(err, &se) || se.Offset != xpath.MaxExprLen {
		t.Errorf("expression of %d bytes: %v", len(long), err)
	}
	if _, err := xpath.Compile(strings.Repeat("1+", (xpath.MaxExprLen-1)/2) + "1"); err != nil {
		t.Errorf("long but shallow expression: %v", err)
	}

	nested := func(n int) string { return strings.Repeat("(", n) + "1" + strings.Repeat(")", n) }
	if _, err := xpath.Compile(nested(xpath.MaxNesting)); err != nil {
		t.Errorf("%d parentheses: %v", xpath.MaxNesting, err)
	}
	if _, err := xpath.Compile(nested(xpath.MaxNesting + 1)); !errors.As(err, &se) || se.Offset != xpath.MaxNesting {
		t.Errorf("%d parentheses: %v, want an error at offset %d", xpath.MaxNesting+1, err, xpath.MaxNesting)
	}
	preds := strings.Repeat("a[", xpath.MaxNesting+1) + "1" + strings.Repeat("]", xpath.MaxNesting+1)
	if _, err := xpath.Compile(preds); err == nil {
		t.Errorf("%d nested predicates compiled", xpath.MaxNesting+1)
	}
	calls := strings.Repeat("not(", xpath.MaxNesting+1) + "1" + strings.Repeat(")", xpath.MaxNesting+1)
	if _, err := xpath.Compile(calls); err == nil {
		t.Errorf("%d nested calls compiled", xpath.MaxNesting+1)
	}
	// Unary minus and steps do not nest.
	if _, err := xpath.Compile(strings.Repeat("-", 2000) + "1"); err != nil {
		t.Errorf("2000 minus signs: %v", err)
	}
	if _, err := xpath.Compile("/a" + strings.Repeat("/a", 1000)); err != nil {
		t.Errorf("1001 steps: %v", err)
	}
}

// TestCompileValid checks expressions that must compile, a few of which
// look odd.
func TestCompileValid(t *testing.T) {
	for _, expr := range []string{
		"/", "*", "* * *", "div div div", "and and and", "mod", "//div[div]",
		"child::text", "node", "@*", "@node()", "namespace::*",
		"..", ".", "./.", "../..", ".//@a", "a-b", "a.b", "1e3", "--1", "- - 1",
		"5.", ".5", "'a' = \"a\"", "(//a)[1]/b", "(//a)//b", "(//a)[1][2]",
		"id('x')/a", "id('x')[1]", "//a[1][@b][last()]", "a|b|c", "-a|b",
		"child :: a", "processing-instruction( 'x' )", "count ( //a )",
		"//Param[@name = 'x' and @value > 1.2e-09]", "xml:x", "//xml:*",
		" \t\r\n1\n ", "1 div 0", "Ünïcødé", "//Param[1 = 1 = 1]",
	} {
		e, err := xpath.Compile(expr)
		if err != nil {
			t.Errorf("Compile(%q): %v", expr, err)
			continue
		}
		if e.String() != expr {
			t.Errorf("String() = %q, want %q", e.String(), expr)
		}
	}
}

func TestMustCompilePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustCompile of a bad expression did not panic")
		}
	}()
	xpath.MustCompile("1 +")
}

func TestExprType(t *testing.T) {
	for expr, want := range map[string]xpath.Type{
		"1": xpath.Number, "'a'": xpath.String, "1 = 1": xpath.Boolean, "//a": xpath.NodeSet,
		"id('x')": xpath.NodeSet, "-//a": xpath.Number, "//a | //b": xpath.NodeSet,
		"count(//a)": xpath.Number, "name()": xpath.String, "lang('en')": xpath.Boolean,
		"(//a)[1]": xpath.NodeSet, "@a": xpath.NodeSet,
	} {
		if got := xpath.MustCompile(expr).Type(); got != want {
			t.Errorf("%s: type %v, want %v", expr, got, want)
		}
	}
}
