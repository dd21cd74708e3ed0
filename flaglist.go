package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"comet/voevent"
)

// flagList is a command's flags: the flag.FlagSet that parses them and,
// in the order they were defined, the --help entry of each. Help is
// written from these definitions, so it lists exactly the flags the
// parser takes. A flag defined with no help text is accepted but not
// listed (twistd's options, which exist only to be refused with advice).
type flagList struct {
	*flag.FlagSet
	entries []helpEntry
}

// helpEntry is one line of --help: a flag as written ("-r,
// --receive[=ENDPOINT]") and what it does, or a heading (flag empty).
type helpEntry struct {
	flag, text string
}

func newFlagList(name string) *flagList {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flagList{FlagSet: fs}
}

// define defines each of names (aliases, comma-separated: "h,host") with
// def, and adds the help entry: the names with dashes, then "=" and arg
// unless arg is "" (a switch) or starts with "[" (an optional value,
// "[=ENDPOINT]").
func (l *flagList) define(names, arg, text string, def func(name string)) {
	var shown []string
	for _, n := range strings.Split(names, ",") {
		def(n)
		shown = append(shown, dashes(n)+n)
	}
	if text == "" {
		return
	}
	s := strings.Join(shown, ", ")
	switch {
	case strings.HasPrefix(arg, "["):
		s += arg
	case arg != "":
		s += "=" + arg
	}
	l.entries = append(l.entries, helpEntry{s, text})
}

// Var defines a flag that sets v.
func (l *flagList) Var(v flag.Value, names, arg, text string) {
	l.define(names, arg, text, func(n string) { l.FlagSet.Var(v, n, text) })
}

// Func defines a repeatable flag whose values go to set.
func (l *flagList) Func(names, arg, text string, set func(string) error) {
	l.Var(funcFlag(set), names, arg, text)
}

// String defines a flag that sets *p; *p is its default.
func (l *flagList) String(p *string, names, arg, text string) {
	l.define(names, arg, text, func(n string) { l.FlagSet.StringVar(p, n, *p, text) })
}

// Bool defines a switch that sets *p.
func (l *flagList) Bool(p *bool, names, text string) {
	l.define(names, "", text, func(n string) { l.FlagSet.BoolVar(p, n, *p, text) })
}

// Duration defines a flag that sets *p, in Go's duration syntax.
func (l *flagList) Duration(p *time.Duration, names, arg, text string) {
	l.define(names, arg, text, func(n string) { l.FlagSet.DurationVar(p, n, *p, text) })
}

// Note adds a help entry for something that is not a flag of this set
// (an argument file, read before the flags are parsed), or a heading
// when flag is "".
func (l *flagList) Note(flag, text string) {
	l.entries = append(l.entries, helpEntry{flag, text})
}

// writeHelp writes the entries, aligned and wrapped as usageLine does.
func (l *flagList) writeHelp(w io.Writer) {
	for _, e := range l.entries {
		if e.flag == "" {
			fmt.Fprintf(w, "\n%s\n", e.text)
			continue
		}
		usageLine(w, e.flag, e.text)
	}
}

// usageLine writes one --help entry, its text starting in column 34 and
// wrapped at 88 columns; a long flag puts the text on the next line. A
// flag with a one-letter alias ("-r, --receive") starts in column 3 so
// that long names line up in column 7.
func usageLine(w io.Writer, flag, text string) {
	indent := "      "
	if len(flag) > 3 && flag[0] == '-' && flag[1] != '-' && flag[2] == ',' {
		indent = "  "
	}
	line := fmt.Sprintf("%-33s", indent+flag)
	if len(line) > 33 {
		fmt.Fprintln(w, line)
		line = strings.Repeat(" ", 33)
	}
	for _, word := range strings.Fields(text) {
		if len(line) > 33 && len(line)+1+len(word) > 88 {
			fmt.Fprintln(w, line)
			line = strings.Repeat(" ", 33)
		}
		line += " " + word
	}
	fmt.Fprintln(w, line)
}

// dashes is how a flag's name is written: -n, --nodaemon.
func dashes(name string) string {
	if len(name) == 1 {
		return "-"
	}
	return "--"
}

// flagNameRE finds the flag a message of package flag names, written
// with one dash ("flag provided but not defined: -bogus").
var flagNameRE = regexp.MustCompile(`(defined: |for flag |argument: )-([^\s:=]+)`)

// flagError is err from package flag with the flag written as the user
// writes it (--bogus, -x) and on one line.
func flagError(err error) string {
	msg := strings.Replace(err.Error(), "invalid boolean value", "invalid value", 1)
	msg = strings.Replace(msg, " for -", " for flag -", 1)
	if m := flagNameRE.FindStringSubmatchIndex(msg); m != nil {
		name := msg[m[4]:m[5]]
		msg = msg[:m[4]-1] + dashes(name) + msg[m[4]:]
	}
	return voevent.OneLine(msg)
}

// funcFlag is a repeatable flag whose values go to a function.
type funcFlag func(string) error

func (f funcFlag) String() string     { return "" }
func (f funcFlag) Set(s string) error { return f(s) }

// countFlag counts its occurrences (-v -v).
type countFlag struct{ n *int }

func (c countFlag) String() string   { return "" }
func (c countFlag) IsBoolFlag() bool { return true }
func (c countFlag) Set(s string) error {
	if s != "true" {
		return errors.New("takes no value")
	}
	*c.n++
	return nil
}
