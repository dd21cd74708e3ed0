package voevent

import (
	"strings"
	"testing"
)

// The tables below are xmllint's verdicts (libxml2 2.9.14) on each value as
// the content of an element of the type; attribute values agree.

func TestValidFloat(t *testing.T) {
	for _, c := range floatCases {
		if got := validFloat(c.in); got != c.ok {
			t.Errorf("validFloat(%q) = %v, want %v", c.in, got, c.ok)
		}
	}
}

func TestValidDateTime(t *testing.T) {
	for _, c := range dateTimeCases {
		if got := validDateTime(c.in); got != c.ok {
			t.Errorf("validDateTime(%q) = %v, want %v", c.in, got, c.ok)
		}
	}
}

func TestValidAnyURI(t *testing.T) {
	for _, c := range anyURICases {
		if got := validAnyURI(c.in); got != c.ok {
			t.Errorf("validAnyURI(%q) = %v, want %v", c.in, got, c.ok)
		}
	}
}

func TestValidSmallFloat(t *testing.T) {
	for _, c := range smallFloatCases {
		if got := validSmallFloat(c.in); got != c.ok {
			t.Errorf("validSmallFloat(%q) = %v, want %v", c.in, got, c.ok)
		}
	}
}

func TestValidNCName(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"a", true}, {" a", true}, {"a ", true}, {"\ta\n", true}, {"_a", true}, {"a-b.c", true},
		{"a b", false}, {"1a", false}, {"a:b", false}, {"", false}, {" ", false}, {"-a", false}, {".a", false},
		// Outside ASCII, XML 1.0 Fourth Edition letters, not Fifth Edition name characters.
		{"é", true}, {"aé", true}, {"a·b", true}, {"à", true}, {"a٠", true}, {"〇", true}, {"aー", true},
		{"ǅ", false}, {"Ⅰ", false}, {"a⁀", false}, {"ー", false}, {"·a", false},
	} {
		if got := validNCName(c.in); got != c.ok {
			t.Errorf("validNCName(%q) = %v, want %v", c.in, got, c.ok)
		}
	}
}

func TestFloatValue(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
	}{
		{"1", 1}, {" 0.5 ", 0.5}, {"1e", 1}, {"0.5e+", 0.5}, {"1.00000005", 1}, {"-0.7e-45", 0},
		{"1e99999", float64(float32Inf())}, {"+2", 2}, {".1e1", 1},
	} {
		if got := floatValue(c.in); got != c.want {
			t.Errorf("floatValue(%q) = %v, want %v", c.in, got, c.want)
		}
	}
	if got := floatValue("NaN"); got == got {
		t.Errorf("floatValue(NaN) = %v", got)
	}
}

func float32Inf() float32 {
	var z float32
	return 1 / z
}

func TestCheckSimpleMessages(t *testing.T) {
	for _, c := range []struct {
		st   simpleType
		in   string
		want string
	}{
		{tDataType, "Float", `"Float" is not one of int, float, string`},
		{tCiteValues, "x", `"x" is not one of followup, supersedes, retraction`},
		{tFloat, "abc", `"abc" is not a valid xs:float`},
		{tSmallFloat, "2", `"2" is not between 0.0 and 1.0`},
		{tENTITY, "e", "not a declared unparsed entity"},
		{tString, "anything", ""},
	} {
		if got := checkSimple(c.st, c.in); !strings.Contains(got, c.want) || c.want == "" && got != "" {
			t.Errorf("checkSimple(%v, %q) = %q, want %q", c.st, c.in, got, c.want)
		}
	}
}

var floatCases = []struct {
	in string
	ok bool
}{
	{"1", true},
	{"1.5", true},
	{".5", true},
	{"5.", true},
	{".", false},
	{"", false},
	{" 1", true},
	{"1 ", true},
	{" 1 ", true},
	{"+1", true},
	{"-1", true},
	{"+-1", false},
	{"1e5", true},
	{"1E5", true},
	{"1e", true},
	{"1e+", true},
	{"1e-", true},
	{"1e+5", true},
	{"1.e5", true},
	{".e5", false},
	{"e5", false},
	{"INF", true},
	{"-INF", true},
	{"+INF", false},
	{"NaN", true},
	{"-NaN", false},
	{"nan", false},
	{"inf", false},
	{"Infinity", false},
	{" INF", true},
	{"INF ", false},
	{" NaN ", false},
	{"1e5.5", false},
	{"1,5", false},
	{"0x10", false},
	{"1_0", false},
	{"1e99999", true},
	{"-1e99999", true},
	{"1e-99999", true},
	{"00001", true},
	{"1.2.3", false},
	{"1d", false},
	{"1f", false},
	{"--1", false},
	{"1e++5", false},
	{"1 2", false},
	{"\t1\t", true},
	{"\n1\n", true},
	{" NaN", true},
	{"-0", true},
	{"1.", true},
	{"+.5", true},
	{"-.5e-3", true},
	{"1e5 ", true},
	{"1E+05", true},
	{"00.00", true},
	{"1.5e+", true},
	{"1e-", true},
	{" -INF", true},
	{"-INF ", false},
	{"INFINITY", false},
	{"NaNa", false},
	{"1x", false},
}

var dateTimeCases = []struct {
	in string
	ok bool
}{
	{"2020-01-01T00:00:00", true},
	{" 2020-01-01T00:00:00", false},
	{"2020-01-01T00:00:00 ", false},
	{"2020-01-01T24:00:00", true},
	{"2020-02-29T00:00:00", true},
	{"2021-02-29T00:00:00", false},
	{"2020-01-01T00:00:00Z", true},
	{"2020-01-01T00:00:00+14:00", true},
	{"2020-01-01T00:00:00+13:59", true},
	{"2020-01-01T00:00:00-13:59", true},
	{"2020-01-01T00:00:00-14:00", true},
	{"2020-01-01T00:00:00.", false},
	{"2020-01-01T00:00:00.5", true},
	{"2020-01-01T00:00:60", false},
	{"2020-01-01T00:00", false},
	{"02020-01-01T00:00:00", false},
	{"12020-01-01T00:00:00", true},
	{"-2020-01-01T00:00:00", true},
	{"0000-01-01T00:00:00", false},
	{"-0000-01-01T00:00:00", false},
	{"2020-1-01T00:00:00", false},
	{"2020-01-01t00:00:00", false},
	{"2020-01-01T00:00:00z", false},
	{"2020-01-01T00:00:00+01", false},
	{"2020-01-01T00:00:00+0100", false},
	{"+2020-01-01T00:00:00", false},
	{"2020-01-01T00:00:00 Z", false},
	{"2020-01-01", false},
	{"", false},
	{"1900-02-29T00:00:00", false},
	{"2000-02-29T00:00:00", true},
	{"-0001-02-29T00:00:00", false},
	{"-0004-02-29T00:00:00", true},
	{"-0005-02-29T00:00:00", false},
	{"2020-04-31T00:00:00", false},
	{"2020-13-01T00:00:00", false},
	{"2020-00-01T00:00:00", false},
	{"2020-01-00T00:00:00", false},
	{"99999999999999999999-01-01T00:00:00", false},
	{"2020-01-01T00:00:00+00:60", false},
	{"2020-01-01T00:00:00.123456789012345", true},
	{"2020-01-01T24:00:00", true},
	{"2020-01-01T24:00:01", false},
	{"2020-01-01T24:01:00", false},
	{"2020-01-01T24:00:00.0", true},
	{"2020-01-01T24:00:00.1", false},
	{"2020-01-01T25:00:00", false},
	{"2020-01-01T00:00:00+14:01", false},
	{"2020-01-01T00:00:00-14:01", false},
	{"2020-01-01T00:00:00+15:00", false},
	{"2020-01-01T00:00:00+24:00", false},
	{"2020-01-01T00:00:00+99:00", false},
	{"2020-12-31T24:00:00", true},
	{"2020-01-01T00:00:59.999999", true},
	{"9223372036854775807-01-01T00:00:00", true},
	{"922337203685477580-01-01T00:00:00", true},
	{"-922337203685477580-01-01T00:00:00", true},
	{"2020-01-01T00:00:00+14:00 ", true},
	{"2020-01-01T00:00:00Z ", true},
	{"2020-01-01T00:00:00Zx", false},
	{"2147483647-01-01T00:00:00", true},
	{"2147483648-01-01T00:00:00", true},
	{"21474836470-01-01T00:00:00", true},
	{"-2147483648-01-01T00:00:00", true},
	{"-2147483649-01-01T00:00:00", true},
	{"2020-01-01T00:00:00\n", false},
	{"2020-01-01T00:00:00Z\n", true},
	{"2020-01-01T00:00:59.9999999999999999", false},
	{"2020-01-01T00:00:59.99999999999999", false},
	{"2020-01-01T23:59:59.999", true},
	{"2020-06-15T12:30:45-05:30", true},
	{"2020-06-15T12:30:45+05:60", false},
	{"2020-06-15T12:30:45+24:00", false},
	{"2020-06-15T12:30:45+1:00", false},
	{"2020-06-15T12:30:45+01:00:00", false},
	{"2020-06-15T12:30:45.5Z", true},
	{"2020-06-15T1:30:45", false},
	{"2020-06-15T12:3:45", false},
	{"2020-06-15T12:30:4", false},
	{"2020-06-15T12:30:45.", false},
	{"2020-06-15T12:30:45.Z", false},
	{"--06-15", false},
	{"12:30:45", false},
	{"2020-06", false},
	{"2020", false},
	{"T12:30:45", false},
	{"-12020-06-15T12:30:45", true},
	{"-02020-06-15T12:30:45", false},
	{"2020-06-15T12-30-45", false},
}

var anyURICases = []struct {
	in string
	ok bool
}{
	{"http://example.com/a", true},
	{"ivo://nasa.gsfc.gcn/SWIFT#BAT_GRB_Pos_1201696-785", true},
	{"", true},
	{" ivo://a.b/c ", true},
	{"a b", true},
	{"http://host:/x", false},
	{"http://host:80/x", true},
	{"http://[::1]/x", true},
	{"http://[::1/x", false},
	{"1abc:foo", false},
	{"abc:foo", true},
	{":foo", false},
	{"a:b:c", true},
	{"%", false},
	{"%4", false},
	{"%41", true},
	{"a%zz", false},
	{"#", true},
	{"##", false},
	{"a#b#c", false},
	{"a#[x]", true},
	{"a[b]", false},
	{"?x[y]", false},
	{"//a@b@c", false},
	{"http://a@b@c/", false},
	{"http://user@host/", true},
	{"http://ho st/", true},
	{"http://h%ZZ/", false},
	{"mailto:x@y.org", true},
	{"urn:isbn:0451450523", true},
	{"../a/b", true},
	{"./a:b", true},
	{"a/b:c", true},
	{"é", true},
	{"a|b", true},
	{"a{b}", true},
	{"a<b", true},
	{"a\"b", true},
	{"a'b", true},
	{"a\\b", true},
	{"a^b", true},
	{"a`b", true},
	{"http://a/b?c#d", true},
	{"http://a/b#c?d/e", true},
	{"x:", true},
	{"x:/", true},
	{"x://", true},
	{"x:///", true},
	{"x:////a", true},
	{"//", true},
	{"///", true},
	{"http://a:1a/", false},
	{"http://a::80/", false},
	{"http://a/%", false},
	{"http://a/%2", false},
	{"http://a/%2g", false},
	{"tag:x,y:z", true},
	{"a b c", true},
	{"\ttab", true},
	{"foo::bar", true},
	{"-a:b", false},
	{"a-:b", true},
	{"+a:b", false},
	{"a.b:c", true},
	{"http://1.2.3.4/", true},
	{"http://1.2.3.4x/", true},
	{"http://1.2.3.45x/", true},
	{"http://1.2.3.400/", true},
	{"http://[a/b]/x", true},
	{"http://[]/", true},
	{"http://a@/", true},
	{"http://@a/", true},
	{"x:a:b", true},
	{":", false},
	{"a:", true},
	{"/a:b", true},
	{"//a:b", false},
	{"//a:1/x", true},
	{"#a[b", true},
	{"x:#", true},
	{"?#", true},
	{"#?/", true},
	{"http://a/b;c=d", true},
	{"http://a/b%2fc", true},
	{"x:%41", true},
	{"%41:b", false},
	{"a%41:b", false},
	{"a@b:c", false},
}

var smallFloatCases = []struct {
	in string
	ok bool
}{
	{"0", true},
	{"1", true},
	{"0.5", true},
	{"1.0", true},
	{"1.00000001", true},
	{"1.0000001", false},
	{"1.00000006", false},
	{"1.00000005", true},
	{"1.00000007", false},
	{"-0", true},
	{"-0.0", true},
	{"-1e-50", true},
	{"-1e-45", false},
	{"-1e-46", true},
	{"-1.5e-45", false},
	{"-0.7e-45", true},
	{"-0.8e-45", false},
	{"1e-50", true},
	{"NaN", false},
	{"INF", false},
	{"-INF", false},
	{" 0.5 ", true},
	{"NaN ", false},
	{" NaN", false},
	{"INF ", false},
	{"1e", true},
	{"0.5e", true},
	{"2", false},
	{"", false},
	{"1.000000059604644775390625", true},
	{"1.0000000596046448", false},
	{"1.00000005960464", true},
	{"0.99999999999", true},
	{"1e0", true},
	{"10e-1", true},
	{".1e1", true},
}
