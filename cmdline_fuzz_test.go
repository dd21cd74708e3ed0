package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzCommandLine: whatever the arguments, parsing the command line never
// panics, and a refusal is the one line the operator sees.
func FuzzCommandLine(f *testing.F) {
	for _, s := range []string{
		"-rbv\x00--local-ivo=ivo://a.b/c",
		"--receive\x00tcp:8098:interface=\\:\\:1\x00--max-connections=5",
		"--filter=//Param[\x00--remote=[::1]:x",
		"--cmd-timeout=abc\x00--cmd=/bin/true",
		"--status=unix:/tmp/s\x00--remote-backoff-max=5m\x00-n\x00--uid=0",
		"comet\x00--subscribe=tcp:h:1\x00--author-whitelist=10.0.0.0/8",
		"-r\x00--local-ivo=ivo://a.b/c\x00--trusted-keys=/nonexistent\x00--signed-only",
		"--receive\x00dir:/var/spool/comet\x00-b\x00dir:/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var args []string
		for _, a := range strings.Split(s, "\x00") {
			if !strings.HasPrefix(a, "@") && !strings.HasPrefix(a, "--config") && !strings.HasPrefix(a, "-config") {
				args = append(args, a) // argument files are FuzzArgFile's
			}
		}
		cfg, err := parseFlags(args)
		if err == nil {
			err = cfg.check()
		}
		if err != nil && strings.ContainsAny(err.Error(), "\n\r") {
			t.Errorf("error for %q is not one line: %q", args, err)
		}
	})
}

// FuzzArgFile: any argument file gives arguments that are each part of one
// line with no space or tab around it, or a one-line refusal.
func FuzzArgFile(f *testing.F) {
	f.Add("# comment\n--receive\n--remote voevent.example.org\n\n  --filter //Param[@name=\"a b\"]  \n")
	f.Add("@other\n")
	f.Add("--config=x\r\n--cmd\t/bin/true")
	f.Fuzz(func(t *testing.T, content string) {
		name := filepath.Join(t.TempDir(), "args")
		if err := os.WriteFile(name, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		args, err := readArgFile(name)
		if err != nil {
			if strings.Count(err.Error(), "\n") > 0 {
				t.Errorf("refusal is not one line: %q", err)
			}
			return
		}
		for _, a := range args {
			if strings.Contains(a, "\n") || a != strings.Trim(a, " \t") {
				t.Errorf("argument %q from %q", a, content)
			}
		}
	})
}

// FuzzCommandFlags: whatever the arguments, parsing a command's flags
// never panics, and a refusal is one line naming the flag as it is
// written on the command line.
func FuzzCommandFlags(f *testing.F) {
	for _, s := range []string{
		"sendvo\x00-h\x00host\x00-p\x00x\x00--retry=0",
		"journal\x00--since\x00\x00--bogus=\n",
		"keygen\x00-prefix\x00--\x00-x",
		"validate\x00-\x00--help",
		"sign\x00-k=\x00-key",
		"status\x00---x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, "\x00")
		c := lookup(args[0])
		if c == nil || c.rawArgs {
			return
		}
		fl := newFlagList("comet " + c.name)
		c.flags(fl)
		if err := fl.Parse(args[1:]); err != nil {
			if msg := flagError(err); strings.ContainsAny(msg, "\n\r") {
				t.Errorf("error for %q is not one line: %q", args, msg)
			}
		}
	})
}
