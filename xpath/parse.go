package xpath

import (
	"fmt"
	"strconv"
	"unicode/utf8"
)

// parser is a recursive-descent parser for the XPath 1.0 grammar
// (REC-xpath §2, §3), one method per precedence level, that type-checks
// as it goes and builds the evaluator's expression tree directly.
//
// Grammatical errors end the parse at once (by panicking with a
// *SyntaxError that compile recovers). Semantic errors (an unbound
// variable, prefix or function, a wrong arity or operand type) are only
// recorded: parsing continues, so that an expression with both kinds
// reports the grammatical one, which is what decides how Comet treats it
// (see ErrSemantic).
type parser struct {
	src    string
	lex    lexer
	tok    token
	depth  int
	semErr *SyntaxError
}

// compile parses src into an expression tree.
func compile(src string) (e expr, err error) {
	if len(src) > MaxExprLen {
		return nil, newSyntaxError(src, MaxExprLen, "expression longer than %d bytes", MaxExprLen)
	}
	if !utf8.ValidString(src) {
		i := 0
		for i < len(src) {
			r, n := utf8.DecodeRuneInString(src[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return nil, newSyntaxError(src, i, "invalid UTF-8")
	}
	p := &parser{src: src, lex: lexer{src: src}}
	defer func() {
		if r := recover(); r != nil {
			if se, ok := r.(*SyntaxError); ok {
				e, err = nil, se
				return
			}
			// A bug. The filter comes from a remote subscriber, so it must
			// not bring the broker down: report it as an error, which the
			// fuzz tests look for (it is not a *SyntaxError).
			e, err = nil, fmt.Errorf("%w compiling %q: %v", errInternal, src, r)
		}
	}()
	p.advance()
	e = p.expr()
	if p.tok.kind != tEOF {
		p.fail(p.tok.pos, "unexpected %s", p.describe(p.tok))
	}
	if p.semErr != nil {
		return nil, p.semErr
	}
	return e, nil
}

func (p *parser) fail(pos int, format string, args ...any) {
	panic(newSyntaxError(p.src, pos, format, args...))
}

// semantic records the first semantic error; parsing goes on.
func (p *parser) semantic(pos int, format string, args ...any) {
	if p.semErr == nil {
		p.semErr = newSemanticError(p.src, pos, format, args...)
	}
}

func (p *parser) advance() {
	t, err := p.lex.next()
	if err != nil {
		panic(err)
	}
	p.tok = t
}

func (p *parser) text(t token) string { return p.src[t.pos:t.end] }

func (p *parser) describe(t token) string {
	switch t.kind {
	case tEOF:
		return "end of expression"
	case tName, tFunc, tNodeType, tAxis, tVar, tNumber:
		return t.kind.String() + " " + quote(p.text(t))
	}
	return t.kind.String()
}

// quote quotes s for a message, shortened if long.
func quote(s string) string {
	if len(s) > 40 {
		s = s[:37] + "..."
		for !utf8.ValidString(s[:len(s)-3]) {
			s = s[:len(s)-4] + "..."
		}
	}
	return "'" + s + "'"
}

func (p *parser) expect(k tokKind, context string) token {
	t := p.tok
	if t.kind != k {
		p.fail(t.pos, "expected %s %s, found %s", k, context, p.describe(t))
	}
	p.advance()
	return t
}

// nest guards recursion into a parenthesised expression, a predicate or
// function arguments.
func (p *parser) nest(pos int) {
	p.depth++
	if p.depth > MaxNesting {
		p.fail(pos, "expression nested deeper than %d", MaxNesting)
	}
}

// [14] Expr ::= OrExpr, and the binary levels down to [26] UnaryExpr.
// Every binary operator is left-associative.
func (p *parser) expr() expr { return p.or() }

func (p *parser) or() expr {
	l := p.and()
	for p.tok.kind == tOr {
		p.advance()
		l = &binExpr{op: opOr, t: Boolean, l: l, r: p.and()}
	}
	return l
}

func (p *parser) and() expr {
	l := p.equality()
	for p.tok.kind == tAnd {
		p.advance()
		l = &binExpr{op: opAnd, t: Boolean, l: l, r: p.equality()}
	}
	return l
}

func (p *parser) equality() expr {
	l := p.relational()
	for {
		var o op
		switch p.tok.kind {
		case tEq:
			o = opEq
		case tNe:
			o = opNe
		default:
			return l
		}
		p.advance()
		l = &binExpr{op: o, t: Boolean, l: l, r: p.relational()}
	}
}

func (p *parser) relational() expr {
	l := p.additive()
	for {
		var o op
		switch p.tok.kind {
		case tLt:
			o = opLt
		case tLe:
			o = opLe
		case tGt:
			o = opGt
		case tGe:
			o = opGe
		default:
			return l
		}
		p.advance()
		l = &binExpr{op: o, t: Boolean, l: l, r: p.additive()}
	}
}

func (p *parser) additive() expr {
	l := p.multiplicative()
	for {
		var o op
		switch p.tok.kind {
		case tPlus:
			o = opAdd
		case tMinus:
			o = opSub
		default:
			return l
		}
		p.advance()
		l = &binExpr{op: o, t: Number, l: l, r: p.multiplicative()}
	}
}

func (p *parser) multiplicative() expr {
	l := p.unary()
	for {
		var o op
		switch p.tok.kind {
		case tStar:
			o = opMul
		case tDiv:
			o = opDiv
		case tMod:
			o = opMod
		default:
			return l
		}
		p.advance()
		l = &binExpr{op: o, t: Number, l: l, r: p.unary()}
	}
}

// [27] UnaryExpr ::= UnionExpr | '-' UnaryExpr, read as a count of minus
// signs so that a long run of them does not recurse.
func (p *parser) unary() expr {
	n := 0
	for p.tok.kind == tMinus {
		n++
		p.advance()
	}
	x := p.union()
	if n == 0 {
		return x
	}
	return &negExpr{x: x, odd: n%2 == 1}
}

// [18] UnionExpr ::= PathExpr | UnionExpr '|' PathExpr
func (p *parser) union() expr {
	pos := p.tok.pos
	l := p.path()
	for p.tok.kind == tPipe {
		p.advance()
		rpos := p.tok.pos
		r := p.path()
		ln, lok := l.(nodeExpr)
		rn, rok := r.(nodeExpr)
		switch {
		case !lok:
			p.semantic(pos, "operand of '|' is a %s, not a node-set", l.typ())
		case !rok:
			p.semantic(rpos, "operand of '|' is a %s, not a node-set", r.typ())
		}
		if !lok || !rok {
			l = bad
			continue
		}
		l = &unionExpr{l: ln, r: rn}
	}
	return l
}

// [19] PathExpr ::= LocationPath | FilterExpr
//
//	| FilterExpr '/' RelativeLocationPath | FilterExpr '//' RelativeLocationPath
func (p *parser) path() expr {
	switch p.tok.kind {
	case tNumber, tLiteral, tLParen, tVar, tFunc:
		pos := p.tok.pos
		x := p.filter()
		if p.tok.kind != tSlash && p.tok.kind != tSlashSlash {
			return x
		}
		start, ok := x.(nodeExpr)
		if !ok {
			p.semantic(pos, "a path cannot start from a %s", x.typ())
			start = bad
		}
		return &pathExpr{start: start, steps: p.relative(nil)}
	case tSlash:
		p.advance()
		pe := &pathExpr{abs: true}
		if p.startsStep() {
			pe.steps = p.steps(nil)
		}
		return pe
	case tSlashSlash:
		p.advance()
		return &pathExpr{abs: true, steps: p.steps([]step{descendantOrSelf()})}
	}
	if !p.startsStep() {
		p.fail(p.tok.pos, "expected an expression, found %s", p.describe(p.tok))
	}
	steps := p.steps(nil)
	if s := &steps[0]; len(steps) == 1 && s.axis == axAttribute && s.test.kind == testName && len(s.preds) == 0 {
		return &attrExpr{test: s.test}
	}
	return &pathExpr{steps: steps}
}

// relative parses '/' or '//' followed by a RelativeLocationPath.
func (p *parser) relative(steps []step) []step {
	if p.tok.kind == tSlashSlash {
		steps = append(steps, descendantOrSelf())
	}
	p.advance()
	return p.steps(steps)
}

func (p *parser) startsStep() bool {
	switch p.tok.kind {
	case tName, tAxis, tAt, tDot, tDotDot, tNodeType:
		return true
	}
	return false
}

// steps parses a RelativeLocationPath ([3]), appending to steps.
func (p *parser) steps(steps []step) []step {
	for {
		steps = appendStep(steps, p.step())
		switch p.tok.kind {
		case tSlash:
			p.advance()
		case tSlashSlash:
			p.advance()
			steps = append(steps, descendantOrSelf())
		default:
			return steps
		}
	}
}

// descendantOrSelf is the step '//' abbreviates (REC-xpath §2.5).
func descendantOrSelf() step {
	return step{axis: axDescendantOrSelf, test: nodeTest{kind: testNode}}
}

// appendStep appends s, rewriting descendant-or-self::node()/child::X[p]
// as descendant::X[p] when no predicate depends on position: the same
// nodes, found in one scan instead of one per node, already in document
// order. This is what makes //Param cost a single pass.
func appendStep(steps []step, s step) []step {
	if k := len(steps) - 1; k >= 0 && s.axis == axChild && !s.positional {
		if prev := &steps[k]; prev.axis == axDescendantOrSelf && prev.test.kind == testNode && len(prev.preds) == 0 {
			s.axis = axDescendant
			steps[k] = s
			return steps
		}
	}
	return append(steps, s)
}

// [4] Step ::= AxisSpecifier NodeTest Predicate* | AbbreviatedStep
func (p *parser) step() step {
	var s step
	switch p.tok.kind {
	case tDot:
		p.advance()
		return step{axis: axSelf, test: nodeTest{kind: testNode}}
	case tDotDot:
		p.advance()
		return step{axis: axParent, test: nodeTest{kind: testNode}}
	case tAt:
		p.advance()
		s.axis = axAttribute
	case tAxis:
		a, ok := axisNames[p.text(p.tok)]
		if !ok {
			p.fail(p.tok.pos, "unknown axis %s", quote(p.text(p.tok)))
		}
		s.axis = a
		p.advance()
		p.expect(tColons, "after the axis name")
	}
	s.test = p.nodeTest(s.axis.principal())
	for p.tok.kind == tLBrack {
		pr := p.predicate()
		if pr.typ() == Number || pr.deps()&(depPos|depLast) != 0 {
			s.positional = true
		}
		s.preds = append(s.preds, pr)
	}
	return s
}

// [7] NodeTest ::= NameTest | NodeType '(' ')' | 'processing-instruction' '(' Literal ')'
func (p *parser) nodeTest(principal Kind) nodeTest {
	t := p.tok
	switch t.kind {
	case tName:
		p.advance()
		name := p.text(t)
		if name == "*" {
			return nodeTest{kind: testPrincipal, principal: principal}
		}
		if t.colon < 0 {
			return nodeTest{kind: testName, principal: principal, local: name}
		}
		prefix, local := p.src[t.pos:t.colon], p.src[t.colon+1:t.end]
		uri := p.resolve(prefix, t.pos)
		if local == "*" {
			return nodeTest{kind: testURI, principal: principal, uri: uri}
		}
		return nodeTest{kind: testName, principal: principal, local: local, uri: uri}
	case tNodeType:
		name := p.text(t)
		p.advance()
		p.expect(tLParen, "after "+name)
		nt := nodeTest{principal: principal}
		switch name {
		case "node":
			nt.kind = testNode
		case "text":
			nt.kind = testText
		case "comment":
			nt.kind = testComment
		case "processing-instruction":
			nt.kind = testPI
			if p.tok.kind == tLiteral {
				nt.named = true
				nt.local = p.literal(p.tok)
				p.advance()
			}
		}
		p.expect(tRParen, "to close "+name+"(")
		return nt
	}
	p.fail(t.pos, "expected a node test, found %s", p.describe(t))
	return nodeTest{}
}

// resolve maps a prefix to its namespace. Filters have no namespace
// bindings, so only xml, bound by definition (and by libxml2), resolves.
func (p *parser) resolve(prefix string, pos int) string {
	if prefix == "xml" {
		return XMLNamespace
	}
	p.semantic(pos, "undefined namespace prefix %s: filters bind none (use local-name())", quote(prefix))
	return "\x00unbound"
}

func (p *parser) literal(t token) string { return p.src[t.pos+1 : t.end-1] }

// [8] Predicate ::= '[' Expr ']'
func (p *parser) predicate() expr {
	pos := p.tok.pos
	p.advance()
	p.nest(pos)
	e := p.expr()
	p.expect(tRBrack, "to close the predicate")
	p.depth--
	return e
}

// [20] FilterExpr ::= PrimaryExpr | FilterExpr Predicate
func (p *parser) filter() expr {
	pos := p.tok.pos
	x := p.primary()
	if p.tok.kind != tLBrack {
		return x
	}
	var preds []expr
	for p.tok.kind == tLBrack {
		preds = append(preds, p.predicate())
	}
	ne, ok := x.(nodeExpr)
	if !ok {
		p.semantic(pos, "a predicate cannot filter a %s", x.typ())
		return bad
	}
	return &filterExpr{x: ne, preds: preds}
}

// [15] PrimaryExpr ::= VariableReference | '(' Expr ')' | Literal | Number | FunctionCall
func (p *parser) primary() expr {
	t := p.tok
	switch t.kind {
	case tVar:
		p.advance()
		p.semantic(t.pos, "undefined variable %s: filters bind none", quote(p.text(t)))
		return bad
	case tLParen:
		p.advance()
		p.nest(t.pos)
		e := p.expr()
		p.expect(tRParen, "to close '('")
		p.depth--
		return e
	case tLiteral:
		p.advance()
		return &strLit{s: p.literal(t)}
	case tNumber:
		p.advance()
		return &numLit{v: literalNumber(p.text(t))}
	case tFunc:
		return p.call()
	}
	p.fail(t.pos, "expected an expression, found %s", p.describe(t))
	return nil
}

// [16] FunctionCall ::= FunctionName '(' ( Argument ( ',' Argument )* )? ')'
func (p *parser) call() expr {
	t := p.tok
	name := p.text(t)
	p.advance()
	open := p.expect(tLParen, "after the function name")
	p.nest(open.pos)
	var args []expr
	var argPos []int
	if p.tok.kind != tRParen {
		for {
			argPos = append(argPos, p.tok.pos)
			args = append(args, p.expr())
			if p.tok.kind != tComma {
				break
			}
			p.advance()
		}
	}
	p.expect(tRParen, "to close the arguments of "+name+"()")
	p.depth--

	if t.colon >= 0 {
		p.resolve(p.src[t.pos:t.colon], t.pos)
		p.semantic(t.pos, "unknown function %s", quote(name))
		return bad
	}
	f, ok := funcs[name]
	if !ok {
		p.semantic(t.pos, "unknown function %s", quote(name))
		return bad
	}
	if len(args) < f.min || f.max >= 0 && len(args) > f.max {
		p.semantic(t.pos, "%s() takes %s, not %d", name, arity(f), len(args))
		return bad
	}
	if f.nodeArgs {
		for i, a := range args {
			if a.typ() != NodeSet {
				p.semantic(argPos[i], "the argument of %s() must be a node-set, not a %s", name, a.typ())
				return bad
			}
		}
	}
	if f.id == fnID_ {
		return &idCall{arg: args[0]}
	}
	return &call{fn: f, args: args}
}

func arity(f *funcDef) string {
	switch {
	case f.max < 0:
		return "at least " + itoa(f.min) + " arguments"
	case f.min == f.max && f.min == 1:
		return "1 argument"
	case f.min == f.max:
		return itoa(f.min) + " arguments"
	}
	return itoa(f.min) + " or " + itoa(f.max) + " arguments"
}

func itoa(n int) string { return strconv.Itoa(n) }

// badExpr stands in for an expression with a semantic error, so that
// parsing can go on looking for grammatical ones. It is never evaluated.
type badExpr struct{}

var bad = &badExpr{}

func (*badExpr) typ() Type                        { return NodeSet }
func (*badExpr) deps() dep                        { return 0 }
func (*badExpr) eval(*state, focus) val           { return val{t: NodeSet} }
func (*badExpr) nodes(st *state, _ focus) []int32 { return st.buf() }
func (*badExpr) exists(*state, focus) bool        { return false }
