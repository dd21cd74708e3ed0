package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"comet/voevent"
	"comet/xpath"
)

var xpathCmd = &command{
	name:  "xpath",
	args:  "EXPR FILE...",
	short: "try a subscriber's XPath filter on saved events",
	long: `Evaluates the XPath 1.0 filter EXPR against each saved event FILE as the
broker does for a subscriber (the context node is the root element,
no namespace prefixes are bound) and prints one tab-separated line per file:

	FILE  match|nomatch  TYPE  VALUE

TYPE is boolean, number, string or node-set. VALUE is true/false, the
number as XPath's string() writes it, the string, or for a node-set its
size, a tab, and the string-value of its first node in document order.
Backslash, tab, newline and carriage return in FILE and VALUE are written
\\ \t \n \r. A file that cannot be read, parsed or evaluated prints
FILE, error and the reason. EXPR may start with a dash: the arguments are
not flags.

Exit status: 0 if every file was evaluated, 1 if any failed, 2 if EXPR
does not compile or the arguments are wrong.
`,
	flags:   func(*flagList) func([]string, stdio) int { return runXPath },
	rawArgs: true,
}

// runXPath is "comet xpath EXPR FILE...", a tool for users to try a
// filter on saved events before subscribing with it.
func runXPath(args []string, std stdio) int {
	stdout, stderr := std.out, std.err
	if len(args) < 2 {
		return std.fail(2, std.usage)
	}
	src := args[0]
	expr, err := xpath.Compile(src)
	if err != nil {
		var se *xpath.SyntaxError
		if !errors.As(err, &se) {
			fmt.Fprintf(stderr, "comet xpath: %v\n", err)
			return 2
		}
		fmt.Fprintf(stderr, "comet xpath: %s at offset %d\n", se.Msg, se.Offset)
		if !strings.ContainsAny(src, "\n\r") {
			fmt.Fprintf(stderr, "\t%s\n\t%s^\n", src, caretPad(src, se.Offset))
		}
		if errors.Is(err, xpath.ErrSemantic) {
			fmt.Fprintln(stderr, "(Comet would accept this filter and then match no event with it)")
		}
		return 2
	}
	w := bufio.NewWriter(stdout)
	status := 0
	for _, name := range args[1:] {
		line, ok := xpathLine(expr, name)
		if !ok {
			status = 1
		}
		w.WriteString(line)
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintf(stderr, "comet xpath: %v\n", err)
		return 1
	}
	return status
}

// xpathLine evaluates expr on one file and formats its output line; ok is
// false if the file could not be evaluated.
func xpathLine(expr *xpath.Expr, name string) (line string, ok bool) {
	fail := func(err error) (string, bool) {
		return escapeField(name) + "\terror\t" + escapeField(err.Error()) + "\n", false
	}
	raw, err := os.ReadFile(name)
	if err != nil {
		return fail(err)
	}
	ev, err := voevent.Parse(raw)
	if err != nil {
		return fail(err)
	}
	v, err := expr.Evaluate(ev.Doc.Element())
	if err != nil {
		return fail(err)
	}
	match := "nomatch"
	if v.Match() {
		match = "match"
	}
	var value string
	switch v.Type() {
	case xpath.NodeSet:
		first := ""
		if v.Len() > 0 {
			first = v.Node(0).Value()
		}
		value = strconv.Itoa(v.Len()) + "\t" + escapeField(first)
	default:
		value = escapeField(v.String())
	}
	return escapeField(name) + "\t" + match + "\t" + v.Type().String() + "\t" + value + "\n", true
}

// caretPad returns the white space that puts a caret under byte offset
// off of src, counting characters, and tabs as tabs.
func caretPad(src string, off int) string {
	off = min(max(off, 0), len(src))
	var b strings.Builder
	for _, r := range src[:off] {
		if r == '\t' {
			b.WriteByte('\t')
		} else {
			b.WriteByte(' ')
		}
	}
	return b.String()
}
