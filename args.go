package main

import (
	"fmt"
	"strings"

	"comet/voevent"
)

// maxArgFile bounds an argument file: a command line, not a data file.
const maxArgFile = 1 << 20

// expandArgFiles replaces "@FILE", "--config=FILE" and "--config FILE"
// with the arguments FILE holds, so that a service unit need not carry a
// long command line. Arguments before and after keep their places, so a
// later single-valued flag wins and repeatable ones accumulate.
func expandArgFiles(args []string) ([]string, error) {
	var out []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...), nil
		}
		name, ok := argFileName(a)
		if !ok && (a == "--config" || a == "-config") {
			if i+1 == len(args) {
				return nil, &usageError{"flag needs an argument: --config"}
			}
			i++
			name, ok = args[i], true
		}
		if !ok {
			out = append(out, a)
			continue
		}
		more, err := readArgFile(name)
		if err != nil {
			return nil, err
		}
		out = append(out, more...)
	}
	return out, nil
}

// argFileName reports the file named by "@FILE" or "--config=FILE".
func argFileName(a string) (string, bool) {
	if name, ok := strings.CutPrefix(a, "@"); ok {
		return name, true
	}
	for _, p := range []string{"--config=", "-config="} {
		if name, ok := strings.CutPrefix(a, p); ok {
			return name, true
		}
	}
	return "", false
}

// readArgFile reads one flag a line, "--flag=value" or "--flag value"
// (split at the first space or tab only, so a value may hold spaces). Blank
// lines and lines starting with "#" are skipped, and space around each
// line is trimmed. A file may not name another argument file.
func readArgFile(name string) ([]string, error) {
	if name == "" {
		return nil, &usageError{"argument file: empty file name"}
	}
	raw, err := readLimited(name, maxArgFile)
	if err != nil {
		return nil, &usageError{fmt.Sprintf("argument file: %v", voevent.OneLine(err.Error()))}
	}
	var args []string
	for n, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		arg := []string{line}
		if sp := strings.IndexAny(line, " \t"); sp > 0 && line[0] == '-' && !strings.Contains(line[:sp], "=") {
			arg = []string{line[:sp], strings.TrimSpace(line[sp:])}
		}
		if _, nested := argFileName(arg[0]); nested || arg[0] == "--config" || arg[0] == "-config" {
			return nil, &usageError{fmt.Sprintf("argument file %s, line %d: %q: an argument file may not name another", name, n+1, line)}
		}
		args = append(args, arg...)
	}
	return args, nil
}
