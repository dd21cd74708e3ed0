package main

import (
	"io"
	"os"
	"time"

	"comet/voevent"
)

// How the tests reach the commands: as the comet binary would, with the
// streams they choose.

// run is comet with args, reading standard input.
func run(args []string, stdout, stderr io.Writer) int {
	return dispatch("comet", args, stdio{in: os.Stdin, out: stdout, err: stderr, name: "comet"})
}

// runCmd runs the subcommand c with args, the words after its name.
func runCmd(c *command, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return c.main(args, stdio{in: stdin, out: stdout, err: stderr})
}

func cmdValidate(args []string, stdout, stderr io.Writer) int {
	return runCmd(validateCmd, args, os.Stdin, stdout, stderr)
}

func cmdValidateFrom(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runCmd(validateCmd, args, stdin, stdout, stderr)
}

func cmdXPath(args []string, stdout, stderr io.Writer) int {
	return runCmd(xpathCmd, args, os.Stdin, stdout, stderr)
}

func cmdKeygen(args []string, stdout, stderr io.Writer) int {
	return runCmd(keygenCmd, args, os.Stdin, stdout, stderr)
}

func cmdSign(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runCmd(signCmd, args, stdin, stdout, stderr)
}

func cmdVerify(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runCmd(verifyCmd, args, stdin, stdout, stderr)
}

func cmdSendvo(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runCmd(sendvoCmd, args, stdin, stdout, stderr)
}

// sendEvent connects to a broker's receive port, sends event and returns
// its ack or nak.
func sendEvent(addr string, event []byte, timeout time.Duration) (*voevent.Event, error) {
	return sendEventOn("tcp", addr, event, timeout, nil)
}
