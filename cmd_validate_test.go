package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const validEvent = `<?xml version="1.0" encoding="UTF-8"?>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" version="2.0" role="test" ivorn="ivo://org.example/test#1">
  <Who><AuthorIVORN>ivo://org.example/test</AuthorIVORN></Who>
</voe:VOEvent>
`

const validEvent21 = `<?xml version="1.0" encoding="UTF-8"?>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.1" version="2.1" role="test" ivorn="ivo://org.example/test?1">
  <Who><AuthorIVORN>ivo://org.example/test</AuthorIVORN><Author><Contributor role="Editor">A. Person</Contributor></Author></Who>
</voe:VOEvent>
`

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestValidateCommand(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"good.xml":            validEvent,
		"bad-role.xml":        strings.Replace(validEvent, `role="test"`, `role="observe"`, 1),
		"broken.xml":          strings.Replace(validEvent, "</Who>", "</who>", 1),
		"no-local.xml":        strings.Replace(validEvent, "#1", "", 1),
		"v21.xml":             validEvent21,
		"v21-bad.xml":         strings.Replace(validEvent21, "<Who>", "<Who><Foo/>", 1),
		"v21-query-empty.xml": strings.Replace(validEvent21, "?1", "?", 1),
		"v22.xml":             strings.ReplaceAll(validEvent21, "2.1", "2.2"),
		"transport.xml":       `<trn:Transport xmlns:trn="http://www.telescope-networks.org/xml/Transport/v1.1" version="1.0" role="ack"/>`,
	})
	p := func(name string) string { return filepath.Join(dir, name) }
	for _, c := range []struct {
		name   string
		args   []string
		status int
		stdout string
		stderr string
	}{
		{"valid", []string{p("good.xml")}, 0, p("good.xml") + "\tvalid\tVOEvent 2.0\n", ""},
		{"invalid", []string{p("bad-role.xml")}, 1,
			p("bad-role.xml") + "\tinvalid\tline 2: VOEvent: attribute role: \"observe\" is not one of observation, prediction, utility, test\tVOEvent 2.0\n", ""},
		{"mixed", []string{p("good.xml"), p("broken.xml"), p("no-local.xml"), p("good.xml")}, 1,
			p("good.xml") + "\tvalid\tVOEvent 2.0\n" +
				p("broken.xml") + "\tinvalid\tline 3: end tag </who> does not match <Who>\t-\n" +
				p("no-local.xml") + "\tinvalid\tline 2: VOEvent: attribute ivorn: \"ivo://org.example/test\" is not a valid IVORN: no local part after '#'\tVOEvent 2.0\n" +
				p("good.xml") + "\tvalid\tVOEvent 2.0\n", ""},
		{"versions", []string{p("v21.xml"), p("good.xml"), p("v21-bad.xml"), p("v21-query-empty.xml"), p("v22.xml"), p("transport.xml")}, 1,
			p("v21.xml") + "\tvalid\tVOEvent 2.1\n" +
				p("good.xml") + "\tvalid\tVOEvent 2.0\n" +
				p("v21-bad.xml") + "\tinvalid\tline 3: Who: element Foo not allowed (expected AuthorIVORN, Date, Description, Reference, Author)\tVOEvent 2.1\n" +
				p("v21-query-empty.xml") + "\tinvalid\tline 2: VOEvent: attribute ivorn: \"ivo://org.example/test?\" is not a valid IVORN: no local part after '#' or '?'\tVOEvent 2.1\n" +
				p("v22.xml") + "\tinvalid\tline 2: root element voe:VOEvent is in namespace http://www.ivoa.net/xml/VOEvent/v2.2, not http://www.ivoa.net/xml/VOEvent/v2.0 or http://www.ivoa.net/xml/VOEvent/v2.1\t-\n" +
				p("transport.xml") + "\tinvalid\tline 1: root element trn:Transport (namespace http://www.telescope-networks.org/xml/Transport/v1.1) is not a VOEvent\t-\n", ""},
		{"double-dash", []string{"--", p("good.xml")}, 0, p("good.xml") + "\tvalid\tVOEvent 2.0\n", ""},
		{"missing-file", []string{p("good.xml"), p("nope.xml")}, 2, p("good.xml") + "\tvalid\tVOEvent 2.0\n", "no such file"},
		{"missing-and-invalid", []string{p("nope.xml"), p("bad-role.xml")}, 2, p("bad-role.xml") + "\tinvalid\t", "nope.xml"},
		{"no-files", nil, 2, "", "no files given"},
		{"unknown-flag", []string{"-x", p("good.xml")}, 2, "", "flag provided but not defined: -x"},
		{"help", []string{"-h"}, 0, "usage: comet validate", ""},
		{"help-long", []string{"--help"}, 0, "usage: comet validate", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			status := cmdValidate(c.args, &stdout, &stderr)
			if status != c.status {
				t.Errorf("status %d, want %d\nstdout: %s\nstderr: %s", status, c.status, stdout.String(), stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), c.stdout) || c.stdout == "" && stdout.Len() > 0 && c.name != "help" {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), c.stdout)
			}
			if c.stderr == "" && stderr.Len() > 0 || !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("stderr: %q, want %q", stderr.String(), c.stderr)
			}
			for _, line := range strings.Split(strings.TrimSuffix(stdout.String(), "\n"), "\n") {
				if c.name == "help" || c.name == "help-long" || line == "" {
					continue
				}
				if f := strings.Split(line, "\t"); len(f) < 3 || len(f) > 4 || (f[1] == "valid") != (len(f) == 3) ||
					!slices.Contains([]string{"VOEvent 2.0", "VOEvent 2.1", "-"}, f[len(f)-1]) {
					t.Errorf("line %q is not FILE<TAB>valid<TAB>SCHEMA or FILE<TAB>invalid<TAB>REASON<TAB>SCHEMA", line)
				}
			}
		})
	}
}

// TestValidateCommandTestdata runs the command over the shared test
// documents: everything in valid/ is valid, everything in invalid/ is not,
// and the 2.1 documents are checked against 2.1.
func TestValidateCommandTestdata(t *testing.T) {
	for dir, want := range map[string]int{"testdata/voevent/valid": 0, "testdata/voevent/invalid": 1, "voevent/testdata/v21/valid": 0, "voevent/testdata/v21/invalid": 1} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
		if len(files) == 0 {
			t.Fatalf("no documents in %s", dir)
		}
		var stdout, stderr bytes.Buffer
		if status := cmdValidate(files, &stdout, &stderr); status != want {
			t.Errorf("%s: status %d, want %d\n%s%s", dir, status, want, stdout.String(), stderr.String())
		}
		verdict := map[int]string{0: "\tvalid", 1: "\tinvalid\t"}[want]
		for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
			if !strings.Contains(line, verdict) {
				t.Errorf("%s: %q", dir, line)
			}
			if strings.Contains(dir, "v21") && !strings.HasSuffix(line, "\tVOEvent 2.1") {
				t.Errorf("%s: %q was not checked against 2.1", dir, line)
			}
		}
	}
}
