// Command comet is a VOEvent broker: a drop-in replacement for Comet 3.1.
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches the subcommands; the broker itself is not wired yet.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		switch args[0] {
		case "validate":
			return runValidate(args[1:], stdout, stderr)
		case "xpath":
			return runXPath(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintln(stderr, "comet: the broker is not built yet")
	return 2
}
