package xpath

import (
	"reflect"
	"strings"
	"testing"
)

// lexAll returns the tokens of src as "kind text" strings, or the error.
func lexAll(src string) ([]string, error) {
	l := lexer{src: src}
	var out []string
	for {
		t, err := l.next()
		if err != nil {
			return out, err
		}
		if t.kind == tEOF {
			return out, nil
		}
		out = append(out, t.kind.String()+" "+src[t.pos:t.end])
	}
}

// TestLex checks the disambiguation rules of REC-xpath §3.7: '*' and the
// operator names depend on the previous token; a name followed by '(' is
// a function or node type, by '::' an axis.
func TestLex(t *testing.T) {
	tests := []struct {
		src  string
		want string // tokens separated by " ; "
	}{
		{"*", "name *"},
		{"* * *", "name * ; '*' * ; name *"},
		{"2*3", "number 2 ; '*' * ; number 3"},
		{"a*b", "name a ; '*' * ; name b"},
		{"@*", "'@' @ ; name *"},
		{"child::*", "axis name child ; '::' :: ; name *"},
		{"(*)", "'(' ( ; name * ; ')' )"},
		{"[*]", "'[' [ ; name * ; ']' ]"},
		{"f(1,*)", "function name f ; '(' ( ; number 1 ; ',' , ; name * ; ')' )"},
		{"div div div", "name div ; 'div' div ; name div"},
		{"and and and", "name and ; 'and' and ; name and"},
		{"mod mod mod", "name mod ; 'mod' mod ; name mod"},
		{"or or or", "name or ; 'or' or ; name or"},
		{"a or b", "name a ; 'or' or ; name b"},
		{"1 and 2", "number 1 ; 'and' and ; number 2"},
		{". div ..", "'.' . ; 'div' div ; '..' .."},
		{"$x*2", "variable $x ; '*' * ; number 2"},
		{"a-b", "name a-b"},
		{"a -b", "name a ; '-' - ; name b"},
		{"1-1", "number 1 ; '-' - ; number 1"},
		{"a.b", "name a.b"},
		{"count(x)", "function name count ; '(' ( ; name x ; ')' )"},
		{"count (x)", "function name count ; '(' ( ; name x ; ')' )"},
		{"text()", "node type text ; '(' ( ; ')' )"},
		{"node ()", "node type node ; '(' ( ; ')' )"},
		{"processing-instruction('x')", "node type processing-instruction ; '(' ( ; string literal 'x' ; ')' )"},
		{"comment", "name comment"},
		{"child :: x", "axis name child ; '::' :: ; name x"},
		{"text::x", "axis name text ; '::' :: ; name x"},
		{"p:name", "name p:name"},
		{"p:*", "name p:*"},
		{"p:f()", "function name p:f ; '(' ( ; ')' )"},
		{"p:text()", "function name p:text ; '(' ( ; ')' )"},
		{"$p:v", "variable $p:v"},
		{"//a/@b", "'//' // ; name a ; '/' / ; '@' @ ; name b"},
		{"a!=b", "name a ; '!=' != ; name b"},
		{"a<=b>=c<d>e", "name a ; '<=' <= ; name b ; '>=' >= ; name c ; '<' < ; name d ; '>' > ; name e"},
		{"a|b", "name a ; '|' | ; name b"},
		{`"it's"`, `string literal "it's"`},
		{`'say "hi"'`, `string literal 'say "hi"'`},
		{"1.5", "number 1.5"},
		{".5", "number .5"},
		{"5.", "number 5."},
		{"1e3", "number 1e3"},
		{"1E-3", "number 1E-3"},
		{"1e", "number 1e"},
		{"1e+", "number 1e+"},
		{".5e1", "number .5e1"},
		{"1e3div 2", "number 1e3 ; 'div' div ; number 2"},
		{"1ediv 2", "number 1e ; 'div' div ; number 2"},
		{"1.2.3", "number 1.2 ; number .3"},
		{"..5", "'..' .. ; number 5"},
		{" \t\r\n1\n", "number 1"},
		{"Ünïcødé", "name Ünïcødé"},
		{"é·̀", "name é·̀"},
	}
	for _, tt := range tests {
		got, err := lexAll(tt.src)
		if err != nil {
			t.Errorf("lex(%q): %v", tt.src, err)
			continue
		}
		if want := strings.Split(tt.want, " ; "); !reflect.DeepEqual(got, want) {
			t.Errorf("lex(%q)\n got %q\nwant %q", tt.src, got, want)
		}
	}
}

func TestLexErrors(t *testing.T) {
	tests := []struct {
		src    string
		offset int
	}{
		{"'abc", 0},
		{`"abc'`, 0},
		{"a ! b", 2},
		{"a : b", 2},
		{"p:", 1},
		{"p: x", 2},
		{"$", 1},
		{"$1", 1},
		{"1 #", 2},
		{"a foo", 2}, // an NCName where an operator must be
		{"1 x", 2},
		{"§", 0},
		{"a·", -1}, // middle dot continues a name: no error
		{"·a", 0},  // but cannot start one
	}
	for _, tt := range tests {
		_, err := lexAll(tt.src)
		if tt.offset < 0 {
			if err != nil {
				t.Errorf("lex(%q): unexpected error %v", tt.src, err)
			}
			continue
		}
		se, ok := err.(*SyntaxError)
		if !ok {
			t.Errorf("lex(%q) = %v, want a *SyntaxError", tt.src, err)
			continue
		}
		if se.Offset != tt.offset || se.Expr != tt.src {
			t.Errorf("lex(%q): error %q at offset %d, want offset %d", tt.src, se.Msg, se.Offset, tt.offset)
		}
	}
}
