package voevent

import (
	"encoding/xml"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The lexical rules of the XML Schema built-in types the VOEvent schema
// uses, as libxml2 2.9.14 (xmlschemastypes.c, uri.c) applies them: the
// verdicts here must equal xmllint's, quirks included. Each quirk that
// departs from XML Schema Part 2 is noted where it is implemented.

// isBlank is libxml2's IS_BLANK_CH: the four XML white-space characters.
func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// trimBlank strips XML white space from both ends.
func trimBlank(s string) string {
	i, j := 0, len(s)
	for i < j && isBlank(s[i]) {
		i++
	}
	for j > i && isBlank(s[j-1]) {
		j--
	}
	return s[i:j]
}

// allBlank reports whether s is only XML white space.
func allBlank(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isBlank(s[i]) {
			return false
		}
	}
	return true
}

// validFloat checks the lexical form of xs:float and xs:double as libxml2
// does: leading white space is skipped; "NaN", "INF" and "-INF" must then
// end the value (no trailing white space); otherwise an optional sign,
// digits with an optional '.', at least one digit, and an exponent whose
// digits may be missing ("1e" and "1e+" are accepted), then white space.
func validFloat(s string) bool {
	i := 0
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	s = s[i:]
	if strings.HasPrefix(s, "NaN") {
		return len(s) == 3
	}
	i = 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	if strings.HasPrefix(s[i:], "INF") {
		return len(s) == i+3
	}
	if !neg && i < len(s) && s[i] == '+' {
		i++
	}
	if i == len(s) || s[i] == '+' || s[i] == '-' {
		return false
	}
	digits := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
	}
	for i < len(s) && isBlank(s[i]) {
		i++
	}
	return i == len(s)
}

// floatValue is the value libxml2 computes for a lexically valid xs:float:
// sscanf("%f"), a correctly rounded single-precision number (so
// 1.00000005 is 1.0). An exponent without digits is ignored, as sscanf
// stops before it.
func floatValue(s string) float64 {
	s = trimBlank(s)
	switch s {
	case "NaN":
		return math.NaN()
	case "INF":
		return math.Inf(1)
	case "-INF":
		return math.Inf(-1)
	}
	if e := strings.IndexAny(s, "eE"); e >= 0 {
		rest := strings.TrimLeft(s[e+1:], "+-")
		if rest == "" {
			s = s[:e]
		}
	}
	f, _ := strconv.ParseFloat(s, 32) // out of range: ±Inf or 0, as strtof
	return f
}

// validSmallFloat checks the VOEvent smallFloat type: an xs:float with
// 0.0 <= value <= 1.0, compared in single precision. NaN is outside.
func validSmallFloat(s string) bool {
	if !validFloat(s) {
		return false
	}
	f := floatValue(s)
	return f >= 0 && f <= 1
}

// validDateTime checks the lexical and value space of xs:dateTime as
// libxml2 2.9.14 does (xmlSchemaValidateDates with collapse): a year of at
// least four digits (more only without a leading zero, never 0000, within
// a C long), month, day valid for the month (proleptic Gregorian leap
// years), 'T', hh:mm:ss with optional fraction (hour 24 only as
// 24:00:00), optional 'Z' or ±hh:mm within ±14:00. Quirks kept: leading
// white space makes the value invalid, and trailing white space is
// accepted only after a time zone.
func validDateTime(s string) bool {
	i := 0
	neg := false
	if i < len(s) && s[i] == '-' {
		neg = true
		i++
	}
	first := i
	var year int64
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		d := int64(s[i] - '0')
		if year > math.MaxInt64/10 {
			return false
		}
		year *= 10
		if year > math.MaxInt64-d {
			return false
		}
		year += d
		i++
	}
	n := i - first
	if n < 4 || n > 4 && s[first] == '0' {
		return false
	}
	if neg {
		year = -year
	}
	if year == 0 {
		return false
	}
	two := func(i int) (int, bool) {
		if i+2 > len(s) || s[i] < '0' || s[i] > '9' || s[i+1] < '0' || s[i+1] > '9' {
			return 0, false
		}
		return int(s[i]-'0')*10 + int(s[i+1]-'0'), true
	}
	if i >= len(s) || s[i] != '-' {
		return false
	}
	mon, ok := two(i + 1)
	if !ok || mon < 1 || mon > 12 {
		return false
	}
	i += 3
	if i >= len(s) || s[i] != '-' {
		return false
	}
	day, ok := two(i + 1)
	if !ok || day < 1 || day > daysIn(year, mon) {
		return false
	}
	i += 3
	if i >= len(s) || s[i] != 'T' {
		return false
	}
	i++
	hour, ok := two(i)
	if !ok || hour > 24 {
		return false
	}
	i += 2
	if i >= len(s) || s[i] != ':' {
		return false
	}
	i++
	min, ok := two(i)
	if !ok || min > 59 {
		return false
	}
	i += 2
	if i >= len(s) || s[i] != ':' {
		return false
	}
	i++
	isec, ok := two(i)
	if !ok {
		return false
	}
	i += 2
	// libxml2 accumulates the fraction in a double, digit by digit; the
	// explicit conversions keep Go from fusing the multiply and add.
	sec := float64(isec)
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return false
		}
		mult := 1.0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			mult /= 10
			sec += float64(float64(s[i]-'0') * mult)
			i++
		}
	}
	if !(hour < 24 && sec < 60 || hour == 24 && min == 0 && sec == 0) {
		return false
	}
	// Time zone.
	if i < len(s) {
		switch s[i] {
		case 'Z':
			i++
		case '+', '-':
			th, ok := two(i + 1)
			if !ok || th > 23 || i+3 >= len(s) || s[i+3] != ':' {
				return false
			}
			tm, ok := two(i + 4)
			if !ok || tm > 59 || th*60+tm > 840 {
				return false
			}
			i += 6
		default:
			return false
		}
		for i < len(s) && isBlank(s[i]) {
			i++
		}
	}
	return i == len(s)
}

// daysIn is the length of month mon of year (C's % semantics for
// negative years, as libxml2's IS_LEAP).
func daysIn(year int64, mon int) int {
	switch mon {
	case 2:
		if year%4 == 0 && year%100 != 0 || year%400 == 0 {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// validAnyURI checks xs:anyURI as libxml2 does: after trimming white
// space, an empty value is valid; otherwise every byte that is a control
// character, not ASCII, a space or one of <>"{}|\^`' is replaced by '_'
// and the result must parse as an RFC 3986 URI-reference with libxml2's
// parser (uri.c), which also accepts '[' and ']' in a fragment and
// requires digits after a port colon.
func validAnyURI(s string) bool {
	s = trimBlank(s)
	if s == "" {
		return true
	}
	u := uriScanner(s)
	if end, ok := u.absolute(0); ok && end == len(s) {
		return true
	}
	end, ok := u.relative(0)
	return ok && end == len(s)
}

// uriScanner reads a URI through libxml2's character substitution; past
// the end it reads 0, as C reads the terminating NUL.
type uriScanner string

func (u uriScanner) at(i int) byte {
	if i >= len(u) {
		return 0
	}
	return uriByte[u[i]]
}

// uriByte is libxml2's substitution; uriClass classifies the result.
var uriByte, uriClass = func() (m, cl [256]byte) {
	for c := range 256 {
		b := byte(c)
		switch {
		case c < 32 || c >= 127, strings.IndexByte(` <>"{}|\\^`+"`'", b) >= 0:
			b = '_'
		}
		m[c] = b
	}
	for c := range 256 {
		b := byte(c)
		if isAlpha(b) || isDigit(b) || strings.IndexByte("-._~", b) >= 0 {
			cl[c] |= cUnreserved
		}
		if strings.IndexByte("!$&()*+,;=", b) >= 0 {
			cl[c] |= cSubDelim
		}
		if isHex(b) {
			cl[c] |= cHex
		}
	}
	return
}()

const (
	cUnreserved = 1 << iota
	cSubDelim
	cHex
)

func isAlpha(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isHex(c byte) bool   { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }

func isUnreserved(c byte) bool {
	return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'
}

func isSubDelim(c byte) bool {
	switch c {
	case '!', '$', '&', '(', ')', '*', '+', ',', ';', '=':
		return true
	}
	return false
}

func (u uriScanner) pct(i int) bool {
	return u.at(i) == '%' && uriClass[u.at(i+1)]&cHex != 0 && uriClass[u.at(i+2)]&cHex != 0
}

func (u uriScanner) pchar(i int) bool {
	c := u.at(i)
	return uriClass[c]&(cUnreserved|cSubDelim) != 0 || c == ':' || c == '@' || c == '%' && u.pct(i)
}

// next steps over one character or one percent-encoded octet.
func (u uriScanner) next(i int) int {
	if u.at(i) == '%' {
		return i + 3
	}
	return i + 1
}

// absolute parses scheme ":" hier-part [ "?" query ] [ "#" fragment ].
func (u uriScanner) absolute(i int) (int, bool) {
	if !isAlpha(u.at(i)) {
		return i, false
	}
	i++
	for c := u.at(i); isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.'; c = u.at(i) {
		i++
	}
	if u.at(i) != ':' {
		return i, false
	}
	i++
	var ok bool
	switch {
	case u.at(i) == '/' && u.at(i+1) == '/':
		if i, ok = u.authority(i + 2); !ok {
			return i, false
		}
		i = u.pathAbEmpty(i)
	case u.at(i) == '/':
		i = u.pathAbsolute(i)
	case u.pchar(i):
		i = u.pathRest(u.segment(i, 0))
	}
	return u.queryFragment(i), true
}

// relative parses relative-part [ "?" query ] [ "#" fragment ].
func (u uriScanner) relative(i int) (int, bool) {
	var ok bool
	switch {
	case u.at(i) == '/' && u.at(i+1) == '/':
		if i, ok = u.authority(i + 2); !ok {
			return i, false
		}
		i = u.pathAbEmpty(i)
	case u.at(i) == '/':
		i = u.pathAbsolute(i)
	case u.pchar(i):
		// path-noscheme: the first segment stops at a colon.
		i = u.pathRest(u.segment(i, ':'))
	}
	return u.queryFragment(i), true
}

func (u uriScanner) queryFragment(i int) int {
	if u.at(i) == '?' {
		i++
		for u.pchar(i) || u.at(i) == '/' || u.at(i) == '?' {
			i = u.next(i)
		}
	}
	if u.at(i) == '#' {
		i++
		for c := u.at(i); u.pchar(i) || c == '/' || c == '?' || c == '[' || c == ']'; c = u.at(i) {
			i = u.next(i)
		}
	}
	return i
}

// segment consumes pchars, stopping at forbid (0 for none).
func (u uriScanner) segment(i int, forbid byte) int {
	for u.pchar(i) && u.at(i) != forbid {
		i = u.next(i)
	}
	return i
}

// pathRest consumes *( "/" segment ).
func (u uriScanner) pathRest(i int) int {
	for u.at(i) == '/' {
		i = u.segment(i+1, 0)
	}
	return i
}

func (u uriScanner) pathAbEmpty(i int) int { return u.pathRest(i) }

// pathAbsolute consumes "/" [ segment-nz *( "/" segment ) ].
func (u uriScanner) pathAbsolute(i int) int {
	i++
	if !u.pchar(i) {
		return i
	}
	return u.pathRest(u.segment(i, 0))
}

// authority parses [ userinfo "@" ] host [ ":" port ].
func (u uriScanner) authority(i int) (int, bool) {
	j := i
	for c := u.at(j); uriClass[c]&(cUnreserved|cSubDelim) != 0 || c == ':' || u.pct(j); c = u.at(j) {
		j = u.next(j)
	}
	if u.at(j) == '@' {
		i = j + 1
	}
	if u.at(i) == '[' {
		i++
		for u.at(i) != ']' && i < len(u) {
			i++
		}
		if u.at(i) != ']' {
			return i, false
		}
		i++
	} else {
		for c := u.at(i); uriClass[c]&(cUnreserved|cSubDelim) != 0 || u.pct(i); c = u.at(i) {
			i = u.next(i)
		}
	}
	if u.at(i) == ':' {
		i++
		if !isDigit(u.at(i)) {
			return i, false
		}
		for isDigit(u.at(i)) {
			i++
		}
	}
	return i, true
}

// validNCName checks an NCName as libxml2's xmlValidateNCName(value, 1):
// white space around it is allowed, and outside ASCII the letters are
// those of XML 1.0 Fourth Edition Appendix B, not the Fifth Edition name
// characters the parser uses.
func validNCName(s string) bool {
	s = trimBlank(s)
	if s == "" || strings.IndexByte(s, ':') >= 0 {
		return false
	}
	return validName4(s)
}

// validName4 checks an XML 1.0 (Fourth Edition) Name.
func validName4(s string) bool {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
		if i == 0 && !(isAlpha(c) || c == '_' || c == ':') ||
			i > 0 && !(isAlpha(c) || isDigit(c) || c == '_' || c == ':' || c == '-' || c == '.') {
			return false
		}
	}
	if ascii {
		return s != ""
	}
	// encoding/xml holds the Appendix B tables and checks a processing
	// instruction target against them.
	return xml.NewEncoder(io.Discard).EncodeToken(xml.ProcInst{Target: s}) == nil
}

// validNMTOKEN checks xs:NMTOKEN (Fourth Edition name characters).
func validNMTOKEN(s string) bool {
	s = trimBlank(s)
	if s == "" {
		return false
	}
	return validName4("a" + s)
}

// validLanguage checks xs:language in its simple RFC 3066 form.
func validLanguage(s string) bool {
	s = trimBlank(s)
	for i, part := range strings.Split(s, "-") {
		if len(part) < 1 || len(part) > 8 {
			return false
		}
		for j := 0; j < len(part); j++ {
			if !isAlpha(part[j]) && (i == 0 || !isDigit(part[j])) {
				return false
			}
		}
	}
	return true
}
