package main

import (
	"bytes"
	"flag"
	"os"
	"strings"
	"testing"

	"comet/docs"
)

// TestHelpExitsZero: -h, -help and --help print a command's usage on
// standard output and exit 0, for every command and for the broker; so
// does "comet help COMMAND", with the same text. sendvo's -h is Comet's
// host flag, so there only -help and --help are help.
func TestHelpExitsZero(t *testing.T) {
	for _, c := range commands {
		var first string
		for _, h := range []string{"-h", "-help", "--help"} {
			if c == sendvoCmd && h == "-h" {
				continue
			}
			var stdout, stderr bytes.Buffer
			code := run([]string{c.name, h}, &stdout, &stderr)
			if code != 0 || stderr.Len() > 0 || !strings.HasPrefix(stdout.String(), "usage: comet "+c.name+" ") {
				t.Errorf("comet %s %s: exit %d, stdout %q, stderr %q; want 0 and the usage", c.name, h, code, stdout.String(), stderr.String())
			}
			first = stdout.String()
		}
		var stdout, stderr bytes.Buffer
		// A documentation page of the same name follows the usage.
		if code := run([]string{"help", c.name}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), first) {
			t.Errorf("comet help %s: exit %d, %q; want 0 and what --help prints, %q", c.name, code, stdout.String(), first)
		}
	}
	for _, h := range []string{"-h", "-help", "--help"} {
		var stdout, stderr bytes.Buffer
		if code := run([]string{h}, &stdout, &stderr); code != 0 || !strings.HasPrefix(stdout.String(), "Usage: comet [options]") {
			t.Errorf("comet %s: exit %d, %q", h, code, stdout.String())
		}
	}
	var stdout, stderr bytes.Buffer
	if code := dispatch("comet-sendvo", []string{"--help"}, stdio{out: &stdout, err: &stderr}); code != 0 ||
		!strings.HasPrefix(stdout.String(), "usage: comet sendvo ") {
		t.Errorf("comet-sendvo --help: exit %d, %q", code, stdout.String())
	}
}

// TestSendvoHIsTheHost: "comet sendvo -h" wants a host, as Comet's
// comet-sendvo does, under either name.
func TestSendvoHIsTheHost(t *testing.T) {
	for _, argv0 := range []string{"comet", "comet-sendvo"} {
		args := []string{"-h"}
		if argv0 == "comet" {
			args = []string{"sendvo", "-h"}
		}
		var stdout, stderr bytes.Buffer
		code := dispatch(argv0, args, stdio{out: &stdout, err: &stderr})
		if code != 2 || stdout.Len() > 0 || stderr.String() != "comet sendvo: flag needs an argument: -h\n" {
			t.Errorf("%s %q: exit %d, stdout %q, stderr %q", argv0, args, code, stdout.String(), stderr.String())
		}
	}
}

// TestUsageErrorIsOneLine: a flag a command does not have is exit status
// 2 and one line on standard error naming the command and the flag.
func TestUsageErrorIsOneLine(t *testing.T) {
	for _, c := range commands {
		var stdout, stderr bytes.Buffer
		code := run([]string{c.name, "--no-such-flag"}, &stdout, &stderr)
		msg := stderr.String()
		if code != 2 || stdout.Len() > 0 || strings.Count(msg, "\n") != 1 || !strings.HasPrefix(msg, "comet "+c.name+": ") {
			t.Errorf("comet %s --no-such-flag: exit %d, stdout %q, stderr %q; want 2 and one line", c.name, code, stdout.String(), msg)
		}
		if !c.rawArgs && !strings.Contains(msg, "--no-such-flag") {
			t.Errorf("comet %s --no-such-flag: %q does not name the flag", c.name, msg)
		}
	}
}

// TestHelpCommand: "comet help" lists every command and every
// documentation topic; "comet help TOPIC" prints the page; anything else
// is one line and exit status 2.
func TestHelpCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"help"}, &stdout, &stderr); code != 0 || stderr.Len() > 0 {
		t.Fatalf("comet help: exit %d, %q", code, stderr.String())
	}
	for _, c := range commands {
		if !strings.Contains(stdout.String(), "\t"+c.name+" ") {
			t.Errorf("comet help does not list the command %s:\n%s", c.name, stdout.String())
		}
	}
	topics := docs.Topics()
	if len(topics) == 0 {
		t.Fatal("no documentation topics")
	}
	names := map[string]bool{}
	for _, tp := range topics {
		names[tp.Name] = true
		if !strings.Contains(stdout.String(), "\t"+tp.Name+" ") || !strings.Contains(stdout.String(), tp.Title+"\n") {
			t.Errorf("comet help does not list the topic %s (%s):\n%s", tp.Name, tp.Title, stdout.String())
		}
		want, _ := docs.Text(tp.Name)
		var page bytes.Buffer
		// A command of the same name has its usage first.
		if code := run([]string{"help", tp.Name}, &page, &stderr); code != 0 || !strings.HasSuffix(page.String(), want) ||
			lookup(tp.Name) == nil && page.String() != want {
			t.Errorf("comet help %s: exit %d, %d bytes; want 0 and the page's %d", tp.Name, code, page.Len(), len(want))
		}
	}
	if !names["comet"] {
		t.Errorf("no topic comet among %v", topics)
	}
	for _, args := range [][]string{{"help", "no-such-topic"}, {"help", "../docs"}, {"help", "comet", "sendvo"}} {
		var stdout, stderr bytes.Buffer
		code := run(args, &stdout, &stderr)
		if code != 2 || stdout.Len() > 0 || strings.Count(stderr.String(), "\n") != 1 || !strings.HasPrefix(stderr.String(), "comet help: ") {
			t.Errorf("comet %q: exit %d, stdout %q, stderr %q; want 2 and one line", args, code, stdout.String(), stderr.String())
		}
	}
}

// TestEveryFlagDocumented: every flag the parsers take, the broker's
// and each command's, is in its --help and in the documentation (the
// README or a page "comet help" shows), so that the three cannot drift.
// twistd's options, which exist only to be refused, are not flags of
// brokerFlags.
func TestEveryFlagDocumented(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	documentation := string(readme)
	for _, tp := range docs.Topics() {
		text, _ := docs.Text(tp.Name)
		documentation += text
	}
	check := func(what string, fl *flagList, help string) {
		fl.VisitAll(func(f *flag.Flag) {
			name := dashes(f.Name) + f.Name
			switch {
			case f.Usage == "":
				t.Errorf("%s: %s has no help text", what, name)
			case !strings.Contains(help, name):
				t.Errorf("%s: --help does not show %s", what, name)
			case len(f.Name) > 1 && !strings.Contains(documentation, name):
				t.Errorf("%s: %s is in no documentation page and not in README.md", what, name)
			}
		})
	}
	var help bytes.Buffer
	usage(&help)
	_, fl := brokerFlags()
	check("comet", fl, help.String())
	for _, c := range commands {
		fl := newFlagList("comet " + c.name)
		c.flags(fl)
		var help bytes.Buffer
		c.help(&help, fl)
		check("comet "+c.name, fl, help.String())
	}
}
