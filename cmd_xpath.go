package main

import "io"

// runXPath implements "comet xpath EXPR FILE...". (stub, being written)
func runXPath(args []string, stdout, stderr io.Writer) int { return 2 }
