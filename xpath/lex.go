package xpath

import (
	"unicode/utf8"
)

// tokKind is the kind of a lexical token (REC-xpath §3.7).
type tokKind uint8

const (
	tEOF      tokKind = iota
	tNumber           // 12, 1.5, .5, and with libxml2's exponent: 1e3
	tLiteral          // "..." or '...'
	tName             // a NameTest: NCName, prefix:NCName, prefix:* or *
	tFunc             // an NCName or QName followed by '(' that is not a node type
	tNodeType         // comment, text, processing-instruction, node (followed by '(')
	tAxis             // an NCName followed by '::'
	tVar              // $QName
	tLParen
	tRParen
	tLBrack
	tRBrack
	tDot
	tDotDot
	tAt
	tComma
	tColons // ::
	tSlash
	tSlashSlash
	tPipe
	tPlus
	tMinus
	tEq
	tNe
	tLt
	tLe
	tGt
	tGe
	tStar // the multiply operator
	tAnd
	tOr
	tMod
	tDiv
)

var tokNames = [...]string{
	tEOF: "end of expression", tNumber: "number", tLiteral: "string literal",
	tName: "name", tFunc: "function name", tNodeType: "node type", tAxis: "axis name",
	tVar: "variable", tLParen: "'('", tRParen: "')'", tLBrack: "'['", tRBrack: "']'",
	tDot: "'.'", tDotDot: "'..'", tAt: "'@'", tComma: "','", tColons: "'::'",
	tSlash: "'/'", tSlashSlash: "'//'", tPipe: "'|'", tPlus: "'+'", tMinus: "'-'",
	tEq: "'='", tNe: "'!='", tLt: "'<'", tLe: "'<='", tGt: "'>'", tGe: "'>='",
	tStar: "'*'", tAnd: "'and'", tOr: "'or'", tMod: "'mod'", tDiv: "'div'",
}

func (k tokKind) String() string { return tokNames[k] }

// token is one lexical token; its text is src[pos:end] (no copy).
type token struct {
	kind     tokKind
	pos, end int
	// colon is the offset of the ':' in a prefixed name (tName, tFunc,
	// tVar), or -1.
	colon int
}

// lexer turns an expression into tokens, resolving the ambiguities of
// REC-xpath §3.7 from the previous token: after a token that can end an
// operand, '*' multiplies and and/or/mod/div are operators; otherwise '*'
// is a name test and those words are names.
type lexer struct {
	src      string
	pos      int
	expectOp bool // the previous token can end an operand
}

// next returns the next token, or a *SyntaxError.
func (l *lexer) next() (token, error) {
	l.skipSpace()
	start := l.pos
	if start >= len(l.src) {
		return token{kind: tEOF, pos: start, end: start, colon: -1}, nil
	}
	tok := token{pos: start, colon: -1}
	c := l.src[start]
	l.pos++
	switch c {
	case '(':
		tok.kind = tLParen
	case ')':
		tok.kind = tRParen
	case '[':
		tok.kind = tLBrack
	case ']':
		tok.kind = tRBrack
	case '@':
		tok.kind = tAt
	case ',':
		tok.kind = tComma
	case '|':
		tok.kind = tPipe
	case '+':
		tok.kind = tPlus
	case '-':
		tok.kind = tMinus
	case '=':
		tok.kind = tEq
	case '!':
		if !l.eat('=') {
			return tok, l.errorf(start, "'!' must be followed by '='")
		}
		tok.kind = tNe
	case '<':
		tok.kind = tLt
		if l.eat('=') {
			tok.kind = tLe
		}
	case '>':
		tok.kind = tGt
		if l.eat('=') {
			tok.kind = tGe
		}
	case '/':
		tok.kind = tSlash
		if l.eat('/') {
			tok.kind = tSlashSlash
		}
	case ':':
		if !l.eat(':') {
			return tok, l.errorf(start, "unexpected ':'")
		}
		tok.kind = tColons
	case '.':
		switch {
		case l.eat('.'):
			tok.kind = tDotDot
		case l.pos < len(l.src) && isDigit(l.src[l.pos]):
			l.pos = start
			l.number()
			tok.kind = tNumber
		default:
			tok.kind = tDot
		}
	case '"', '\'':
		i := indexByte(l.src[l.pos:], c)
		if i < 0 {
			return tok, l.errorf(start, "unterminated string literal")
		}
		l.pos += i + 1
		tok.kind = tLiteral
	case '*':
		if l.expectOp {
			tok.kind = tStar
		} else {
			tok.kind = tName
		}
	case '$':
		r, n := l.peekRune()
		if !IsNameStart(r) {
			return tok, l.errorf(l.pos, "expected a variable name after '$'")
		}
		l.pos += n
		l.qname(&tok)
		tok.kind = tVar
	default:
		switch {
		case isDigit(c):
			l.pos = start
			l.number()
			tok.kind = tNumber
		default:
			l.pos = start
			r, n := l.peekRune()
			if !IsNameStart(r) {
				if r == utf8.RuneError && n <= 1 {
					return tok, l.errorf(start, "invalid UTF-8")
				}
				return tok, l.errorf(start, "unexpected character %q", r)
			}
			l.pos += n
			if err := l.name(&tok); err != nil {
				return tok, err
			}
		}
	}
	tok.end = l.pos
	l.expectOp = canEndOperand(tok.kind)
	return tok, nil
}

// canEndOperand reports whether a token can be the last of an operand, so
// that a following '*' or NCName must be an operator (REC-xpath §3.7).
func canEndOperand(k tokKind) bool {
	switch k {
	case tNumber, tLiteral, tName, tVar, tRParen, tRBrack, tDot, tDotDot:
		return true
	}
	return false
}

// name lexes an NCName or QName whose first character has been consumed,
// and classifies it: operator name, axis name, node type, function name
// or name test.
func (l *lexer) name(tok *token) error {
	start := tok.pos
	l.ncnameRest()
	if l.expectOp {
		switch l.src[start:l.pos] {
		case "and":
			tok.kind = tAnd
		case "or":
			tok.kind = tOr
		case "mod":
			tok.kind = tMod
		case "div":
			tok.kind = tDiv
		default:
			return l.errorf(start, "expected an operator, found %q", l.src[start:l.pos])
		}
		return nil
	}
	// NCName '::' is an axis, whatever follows the name.
	after := l.skipSpaceFrom(l.pos)
	if after+1 < len(l.src) && l.src[after] == ':' && l.src[after+1] == ':' {
		tok.kind = tAxis
		return nil
	}
	if l.pos+1 < len(l.src) && l.src[l.pos] == ':' && l.src[l.pos+1] != ':' {
		tok.colon = l.pos
		l.pos++
		if l.pos < len(l.src) && l.src[l.pos] == '*' {
			l.pos++
			tok.kind = tName
			return nil
		}
		r, n := l.peekRune()
		if !IsNameStart(r) {
			return l.errorf(l.pos, "expected a local name after ':'")
		}
		l.pos += n
		l.ncnameRest()
	}
	after = l.skipSpaceFrom(l.pos)
	if after < len(l.src) && l.src[after] == '(' {
		tok.kind = tFunc
		if tok.colon < 0 {
			switch l.src[start:l.pos] {
			case "comment", "text", "processing-instruction", "node":
				tok.kind = tNodeType
			}
		}
		return nil
	}
	tok.kind = tName
	return nil
}

// qname lexes the rest of a QName whose first character has been consumed.
func (l *lexer) qname(tok *token) {
	l.ncnameRest()
	if l.pos+1 < len(l.src) && l.src[l.pos] == ':' {
		r, n := utf8.DecodeRuneInString(l.src[l.pos+1:])
		if IsNameStart(r) {
			tok.colon = l.pos
			l.pos += 1 + n
			l.ncnameRest()
		}
	}
}

// ncnameRest consumes name characters (colon excluded).
func (l *lexer) ncnameRest() {
	for l.pos < len(l.src) {
		r, n := rune(l.src[l.pos]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(l.src[l.pos:])
		}
		if !IsNameChar(r) {
			return
		}
		l.pos += n
	}
}

// number lexes Digits ('.' Digits?)? | '.' Digits, then, as libxml2 does,
// an optional exponent: [eE] [+-]? Digits*. libxml2 accepts the exponent
// digits as optional ("1e" is 1), and so do we: see the package doc.
func (l *lexer) number() {
	l.pos = scanNumber(l.src, l.pos)
}

// scanNumber returns the end of the number that starts at i in s, which
// the caller has checked begins with a digit or '.' followed by a digit.
func scanNumber(s string, i int) int {
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	return i
}

func (l *lexer) eat(c byte) bool {
	if l.pos < len(l.src) && l.src[l.pos] == c {
		l.pos++
		return true
	}
	return false
}

func (l *lexer) peekRune() (rune, int) {
	if l.pos >= len(l.src) {
		return -1, 0
	}
	return utf8.DecodeRuneInString(l.src[l.pos:])
}

func (l *lexer) skipSpace() { l.pos = l.skipSpaceFrom(l.pos) }

func (l *lexer) skipSpaceFrom(i int) int {
	for i < len(l.src) && isSpace(l.src[i]) {
		i++
	}
	return i
}

func (l *lexer) errorf(pos int, format string, args ...any) error {
	return newSyntaxError(l.src, pos, format, args...)
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isSpace reports whether c is XML white space (#x20 #x9 #xD #xA), the only
// white space XPath knows (ExprWhitespace, number(), normalize-space()).
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
