package main

import "io"

// runValidate implements "comet validate FILE...". (stub, being written)
func runValidate(args []string, stdout, stderr io.Writer) int { return 2 }
