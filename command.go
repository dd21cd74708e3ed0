package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"comet/docs"
	"comet/voevent"
)

// command is one of comet's subcommands, as the Go command's cmd/go has
// one Command value per subcommand: its name, its usage line, its help
// and flags, and what runs it. The dispatcher (dispatch) handles help and
// usage errors the same way for all of them: -h, --help or "comet help
// NAME" print the help on standard output and exit 0 (sendvo's -h is
// its host, as in Comet's comet-sendvo); a bad flag or argument is one
// line on standard error and exit status 2.
type command struct {
	name  string // as typed after "comet"
	args  string // what follows "comet NAME" in the usage line
	short string // what it does, in a line, for "comet help"
	long  string // what --help says after the usage line, before the flags

	// flags defines the command's flags, with their help, on fl and
	// returns what runs the command with the arguments left once fl has
	// parsed them.
	flags func(fl *flagList) func(args []string, std stdio) int

	// rawArgs: the arguments are not parsed as flags (an XPath
	// expression may start with a dash); only a lone -h, -help or
	// --help asks for help.
	rawArgs bool
}

// stdio is what a command reads and writes, and the name its messages
// start with.
type stdio struct {
	in       io.Reader
	out, err io.Writer
	name     string // "comet sendvo"
	usage    string // the command's usage line
}

// fail writes "comet NAME: " and msg on one line to standard error and
// returns code.
func (s stdio) fail(code int, msg any) int {
	fmt.Fprintf(s.err, "%s: %s\n", s.name, voevent.OneLine(fmt.Sprint(msg)))
	return code
}

// commands is the table of subcommands, in the order "comet help" lists
// them. It is filled in by init because the help command reads it.
var commands []*command

func init() {
	commands = []*command{sendvoCmd, validateCmd, xpathCmd, statusCmd, journalCmd, topicsCmd, keygenCmd, signCmd, verifyCmd, helpCmd}
}

// lookup returns the command called name, or nil.
func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

// dispatch runs a command line: argv0 is the name comet was invoked by
// (as comet-sendvo it is "comet sendvo"), args what follows. Anything
// that is not a subcommand's name runs the broker. It returns the exit
// status.
func dispatch(argv0 string, args []string, std stdio) int {
	if argv0 == "comet-sendvo" {
		return sendvoCmd.main(args, std)
	}
	if len(args) > 0 {
		if c := lookup(args[0]); c != nil {
			return c.main(args[1:], std)
		}
	}
	return runBroker(args, std)
}

// main runs c with args, the words after its name, and returns the exit
// status.
func (c *command) main(args []string, std stdio) int {
	std.name, std.usage = "comet "+c.name, c.usage()
	fl := newFlagList(std.name)
	do := c.flags(fl)
	if c.rawArgs {
		if len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
			c.help(std.out, fl)
			return 0
		}
		return do(args, std)
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.help(std.out, fl)
			return 0
		}
		return std.fail(2, flagError(err))
	}
	return do(fl.Args(), std)
}

// usage is c's usage line.
func (c *command) usage() string {
	return "usage: comet " + c.name + " " + c.args
}

// help writes c's usage line, what it does and its flags.
func (c *command) help(w io.Writer, fl *flagList) {
	fmt.Fprintf(w, "%s\n\n%s", c.usage(), c.long)
	if len(fl.entries) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		fl.writeHelp(w)
	}
}

var helpCmd = &command{
	name:  "help",
	args:  "[COMMAND | TOPIC]",
	short: "list the commands and documentation topics, or show one",
	long: `With no argument, lists comet's commands and the documentation topics.
With a command's name, prints that command's usage; with a topic's, the
page, which is built into the binary so that it can be read offline.
Exit status: 0, or 2 for a name that is neither.
`,
	flags: func(*flagList) func([]string, stdio) int { return runHelp },
}

// runHelp is "comet help [COMMAND | TOPIC]".
func runHelp(args []string, std stdio) int {
	switch {
	case len(args) == 0:
		writeIndex(std.out)
		return 0
	case len(args) > 1:
		return std.fail(2, fmt.Sprintf("want one command or topic, not %d (%s)", len(args), std.usage))
	}
	c := lookup(args[0])
	page, ok := docs.Text(args[0])
	switch {
	case c == nil && !ok:
		return std.fail(2, fmt.Sprintf("no command or topic %q: \"comet help\" lists them", args[0]))
	case c != nil:
		fl := newFlagList("comet " + c.name)
		c.flags(fl)
		c.help(std.out, fl)
		if ok { // a page may share a command's name: it follows the usage
			fmt.Fprintln(std.out)
		}
	}
	fmt.Fprint(std.out, page)
	return 0
}

// writeIndex writes what "comet help" lists: how to run comet, the
// commands and the documentation topics.
func writeIndex(w io.Writer) {
	fmt.Fprint(w, `comet is a VOEvent broker, a drop-in replacement for Comet 3.1.

Usage:

	comet [options]              run the broker ("comet --help" lists the options)
	comet COMMAND [arguments]

The commands are:

`)
	writeCommands(w)
	fmt.Fprint(w, "\nUse \"comet help COMMAND\" for more about a command.\n\nDocumentation topics:\n\n")
	width := 0
	topics := docs.Topics()
	for _, t := range topics {
		width = max(width, len(t.Name))
	}
	for _, t := range topics {
		fmt.Fprintf(w, "\t%-*s  %s\n", width, t.Name, t.Title)
	}
	fmt.Fprint(w, "\nUse \"comet help TOPIC\" to read a topic.\n")
}

// writeCommands writes the table of commands, a line each.
func writeCommands(w io.Writer) {
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	for _, c := range commands {
		fmt.Fprintf(w, "\t%-*s  %s\n", width, c.name, c.short)
	}
}
