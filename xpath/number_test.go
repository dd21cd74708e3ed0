package xpath

import (
	"math"
	"testing"
)

var negZero = math.Copysign(0, -1)

func same(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return a == b && math.Signbit(a) == math.Signbit(b)
}

// TestStringToNumber covers number() on strings (REC-xpath §4.4) with
// libxml2's exponent extension. Every value was checked with xmllint
// 2.9.14 except where a comment says the spec and libxml2 differ.
func TestStringToNumber(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		in   string
		want float64
	}{
		{"0", 0}, {"12", 12}, {"-12", -12}, {"1.5", 1.5}, {"-1.5", -1.5},
		{".5", 0.5}, {"-.5", -0.5}, {"5.", 5}, {"007", 7}, {"-0", negZero},
		{" 12 ", 12}, {"\t\n\r 12\r\n\t ", 12},
		// The exponent libxml2 accepts, digits optional.
		{"1e3", 1000}, {"1E3", 1000}, {"1e+3", 1000}, {"1e-3", 0.001},
		{"1.2e-09", 1.2e-09}, {".5e1", 5}, {"5.e1", 50}, {"1e", 1}, {"1e+", 1}, {"1e-", 1},
		{"1e1000", math.Inf(1)}, {"-1e1000", math.Inf(-1)}, {"1e-400", 0},
		// Correctly rounded, as the spec asks; libxml2 accumulates digits
		// and gets 0.5 for this one and 0 for 5e-324.
		{"0.49999999999999994", 0.49999999999999994}, {"5e-324", 5e-324},
		// NaN: not the XPath Number grammar.
		{"", nan}, {" ", nan}, {".", nan}, {"-", nan}, {"--1", nan}, {"+5", nan}, {"- 5", nan},
		{"1 2", nan}, {"1e 3", nan}, {"1 e3", nan}, {"e3", nan}, {"0x10", nan}, {"1_000", nan},
		{"Infinity", nan}, {"-Infinity", nan}, {"NaN", nan}, {"inf", nan}, {"1,5", nan},
		{"12abc", nan}, {"\u00a012", nan}, {"１", nan}, {"1.2.3", nan}, {"1e3e3", nan},
	}
	for _, tt := range tests {
		if got := stringToNumber(tt.in); !same(got, tt.want) {
			t.Errorf("number(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestLiteralNumber(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"0", 0}, {"12", 12}, {"1.5", 1.5}, {".5", 0.5}, {"5.", 5},
		{"1e3", 1000}, {"1.5E-3", 0.0015}, {"1e", 1}, {"1e+", 1}, {"1e-", 1}, {"2e+2", 200},
		{"1e400", math.Inf(1)},
	}
	for _, tt := range tests {
		if got := literalNumber(tt.in); !same(got, tt.want) {
			t.Errorf("literalNumber(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// TestNumberToString covers string() on numbers (REC-xpath §4.2): no
// exponent ever, -0 is "0". libxml2 writes 1e+21, 1e-07, 0.333333333333333.
func TestNumberToString(t *testing.T) {
	tenth := 0.1 // a variable, so that 0.1+0.2 is IEEE arithmetic, not exact
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {negZero, "0"}, {1, "1"}, {-1, "-1"}, {1.5, "1.5"}, {-0.25, "-0.25"},
		{100, "100"}, {1234567890, "1234567890"}, {0.1, "0.1"}, {tenth + 2*tenth, "0.30000000000000004"},
		{1.0 / 3, "0.3333333333333333"}, {1e21, "1000000000000000000000"}, {1e-7, "0.0000001"},
		{12345678901234567890, "12345678901234567000"}, {1.2e-09, "0.0000000012"},
		{math.NaN(), "NaN"}, {math.Inf(1), "Infinity"}, {math.Inf(-1), "-Infinity"},
		{math.MaxFloat64, "179769313486231570000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"},
	}
	for _, tt := range tests {
		if got := numberToString(tt.in); got != tt.want {
			t.Errorf("string(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRound(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct{ in, want float64 }{
		{2.5, 3}, {-2.5, -2}, {2.4, 2}, {-2.6, -3}, {0.5, 1}, {-0.5, negZero}, {-0.2, negZero},
		{0.2, 0}, {negZero, negZero}, {0, 0}, {0.49999999999999994, 0}, {-1.5, -1},
		{4503599627370497, 4503599627370497}, {inf, inf}, {-inf, -inf}, {math.NaN(), math.NaN()},
	}
	for _, tt := range tests {
		if got := round(tt.in); !same(got, tt.want) {
			t.Errorf("round(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
