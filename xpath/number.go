package xpath

import (
	"math"
	"strconv"
)

// stringToNumber is XPath's number() applied to a string (REC-xpath §4.4):
// optional XML white space, an optional minus sign, Digits ('.' Digits?)?
// or '.' Digits, optional XML white space; anything else is NaN. No '+',
// no "Infinity", no hexadecimal, no underscores (strconv.ParseFloat
// accepts all of those, which is why it is only called on text already
// checked here).
//
// As in libxml2 (xmlXPathStringEvalNumber), and so in Comet, an exponent
// may follow the mantissa: [eE] [+-]? Digits*, with the digits optional
// ("1e" and "1e+" are 1). Real events carry values such as "1.2e-09".
// Unlike libxml2 a lone "-" is NaN, as the spec says (libxml2 gives -0).
func stringToNumber(s string) float64 {
	s = trimSpace(s)
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return math.NaN()
	}
	mant := i
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
	}
	if i != len(s) {
		return math.NaN()
	}
	return parseChecked(s, mant)
}

// parseChecked converts text that has passed the grammar check; mant is
// where the exponent part (if any) starts. An exponent without digits is
// ignored, as libxml2 ignores it.
func parseChecked(s string, mant int) float64 {
	if mant < len(s) && !isDigit(s[len(s)-1]) {
		s = s[:mant]
	}
	// ParseFloat is correctly rounded; it reports ErrRange with ±Inf for
	// overflow and 0 for underflow, which are the IEEE results we want.
	f, _ := strconv.ParseFloat(s, 64)
	return f
}

// literalNumber converts a Number token (REC-xpath [30] plus the exponent
// libxml2 accepts), which the lexer has delimited with scanNumber.
func literalNumber(s string) float64 {
	mant := 0
	for mant < len(s) && (isDigit(s[mant]) || s[mant] == '.') {
		mant++
	}
	return parseChecked(s, mant)
}

// numberToString is XPath's string() applied to a number (REC-xpath
// §4.2): NaN, Infinity, -Infinity; zero of either sign is "0"; an integer
// has no decimal point; any other number is written in decimal with no
// exponent and as few digits as distinguish it from its neighbours. libxml2
// differs (it writes 1e+21, 1.23456789012e+11, 1e-07 and rounds to 15
// significant digits): see the package doc.
func numberToString(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// round is XPath's round(): the closest integer, halves towards positive
// infinity; NaN and infinities unchanged; -0 for -0 and for arguments in
// [-0.5, 0). floor(x+0.5) would be wrong for 0.49999999999999994.
func round(f float64) float64 {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return f
	}
	if f >= -0.5 && f < 0 {
		return math.Copysign(0, -1)
	}
	if f >= 0 && f < 0.5 {
		return f * 0 // keeps the sign of zero
	}
	r := math.Floor(f)
	if f-r >= 0.5 {
		r++
	}
	return r
}

// trimSpace strips leading and trailing XML white space (#x20 #x9 #xD
// #xA); other Unicode spaces, such as NBSP, are kept, as XPath requires.
func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}
