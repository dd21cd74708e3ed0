package main

import (
	"bufio"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"comet/handlers"
	"comet/voevent"
	"comet/vtp"
)

// runSendvo implements "comet sendvo" and comet-sendvo: submit one event
// as an author and report the broker's answer. Exit status: 0 ack, 1 nak,
// 2 for usage and connection errors (including no answer).
func runSendvo(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sendvo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	host, port, file := "localhost", "8098", "-"
	timeout := 30 * time.Second
	for _, n := range []string{"h", "host"} {
		fs.StringVar(&host, n, host, "")
	}
	for _, n := range []string{"p", "port"} {
		fs.StringVar(&port, n, port, "")
	}
	for _, n := range []string{"f", "file"} {
		fs.StringVar(&file, n, file, "")
	}
	fs.DurationVar(&timeout, "timeout", timeout, "")
	signKey := fs.String("sign-key", "", "")
	var retry time.Duration // 0: one attempt
	fs.Var(funcFlag(func(s string) (err error) {
		if retry, err = handlers.ParseSeconds(s); err == nil && retry <= 0 {
			err = errors.New("want a positive duration (90, 90s, 5m)")
		}
		return err
	}), "retry", "")
	help := fs.Bool("help", false, "")
	var secure sendvoTLS
	secure.add(fs)
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		if err == nil {
			err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
		}
		fmt.Fprintln(stderr, "comet sendvo:", strings.Replace(err.Error(), " -", " --", 1))
		return 2
	}
	if *help {
		fmt.Fprintln(stdout, `Usage: comet sendvo [-h HOST|unix:PATH] [-p PORT] [-f FILE] [--timeout 30s] [--retry DURATION] [--sign-key KEYFILE]
                   [--tls [--ca FILE] [--cert FILE --key FILE]]
Send one VOEvent to a broker as an author; FILE "-" (the default) is standard input.
HOST unix:PATH is a broker's --receive=unix:PATH socket.
--retry keeps trying, with growing pauses, while the broker cannot be reached or
answers with a temporary failure, for up to DURATION (90, 90s, 5m).
--sign-key appends the key's Ed25519 signature comment before sending.
--tls speaks TLS, verifying the broker for HOST against --ca (default: the
system's CAs) and offering --cert/--key as client certificate.
Exit status: 0 acknowledged, 1 refused (nak), 2 usage or connection error.`)
		return 0
	}
	network, addr := "tcp", net.JoinHostPort(host, port)
	if path, ok := strings.CutPrefix(host, "unix:"); ok {
		network, addr = "unix", path
		if path == "" || flagGiven(fs, "p", "port") {
			fmt.Fprintf(stderr, "comet sendvo: invalid value %q for flag -h: want unix:PATH, without -p\n", host)
			return 2
		}
	} else if _, err := parsePort(port); err != nil {
		fmt.Fprintf(stderr, "comet sendvo: invalid value %q for flag -p: %v\n", port, err)
		return 2
	}
	tlsConf, err := secure.config()
	if err != nil {
		fmt.Fprintln(stderr, "comet sendvo:", err)
		return 2
	}
	var event []byte
	if file == "-" {
		event, err = io.ReadAll(stdin)
	} else {
		event, err = os.ReadFile(file)
	}
	if err != nil {
		fmt.Fprintln(stderr, "comet sendvo:", err)
		return 2
	}
	if *signKey != "" {
		if event, err = signWithKeyFile(*signKey, event); err != nil {
			fmt.Fprintln(stderr, "comet sendvo: --sign-key:", err)
			return 2
		}
	}
	answer, err := sendRetrying(network, addr, event, timeout, retry, tlsConf, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "comet sendvo:", err)
		return 2
	}
	t := vtp.ParseTransport(answer)
	line := fmt.Sprintf("%s %s from %s", t.Role, t.Origin, t.Response)
	if len(t.Results) > 0 {
		line += ": " + strings.Join(t.Results, "; ")
	}
	fmt.Fprintln(stdout, line)
	if t.Role == vtp.RoleAck {
		return 0
	}
	return 1
}

// sendEvent connects to a broker's receive port, sends event and returns
// its ack or nak.
func sendEvent(addr string, event []byte, timeout time.Duration) (*voevent.Event, error) {
	return sendEventOn("tcp", addr, event, timeout, nil)
}

// sendEventOn is sendEvent on a network ("tcp" or "unix"), over TLS with
// conf when it is not nil.
func sendEventOn(network, addr string, event []byte, timeout time.Duration, conf *tls.Config) (*voevent.Event, error) {
	c, err := net.DialTimeout(network, addr, timeout)
	if err == nil && conf != nil {
		c, err = startTLS(c, addr, conf, timeout)
	}
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	if err := vtp.WriteFrame(c, event); err != nil {
		return nil, err
	}
	raw, err := vtp.ReadFrame(bufio.NewReader(c), vtp.DefaultMaxFrame)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("%s closed the connection without answering", addr)
	}
	if err != nil {
		return nil, err
	}
	ev, err := voevent.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("unreadable answer from %s: %v", addr, err)
	}
	if ev.Role != vtp.RoleAck && ev.Role != vtp.RoleNak {
		return nil, fmt.Errorf("unexpected answer from %s: role %q", addr, ev.Role)
	}
	return ev, nil
}
