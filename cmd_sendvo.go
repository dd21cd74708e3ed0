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

var sendvoCmd = &command{
	name:  "sendvo",
	args:  "[-h HOST|unix:PATH] [-p PORT] [-f FILE] [flags]",
	short: "submit an event to a broker, as an author (also run as comet-sendvo)",
	long: `Sends one VOEvent to a broker as an author and prints the broker's answer.
As in Comet's comet-sendvo, -h is the host: --help is the help.
Exit status: 0 acknowledged, 1 refused (nak), 2 usage or connection error.
`,
	flags: sendvoFlags,
}

// sendvo is one "comet sendvo": its flags, once parsed.
type sendvo struct {
	fs                        *flag.FlagSet
	host, port, file, signKey string
	timeout, retry            time.Duration // retry 0: one attempt
	secure                    sendvoTLS
}

// sendvoFlags defines "comet sendvo"'s flags and returns what submits
// the event.
func sendvoFlags(fl *flagList) func([]string, stdio) int {
	s := &sendvo{fs: fl.FlagSet, host: "localhost", port: "8098", file: "-", timeout: 30 * time.Second}
	fl.String(&s.host, "h,host", "HOST", "the broker's host, or unix:PATH for its --receive=unix:PATH socket [default: localhost]")
	fl.String(&s.port, "p,port", "PORT", "the broker's author port [default: 8098]")
	fl.String(&s.file, "f,file", "FILE", `the event; "-" is standard input [default: -]`)
	fl.Duration(&s.timeout, "timeout", "DURATION", "for connecting and for the answer [default: 30s]")
	fl.String(&s.signKey, "sign-key", "KEYFILE", "append the key's Ed25519 signature comment before sending")
	fl.Func("retry", "DURATION", "keep trying, with growing pauses, while the broker cannot be reached or answers "+
		"with a temporary failure, for up to DURATION (90, 90s, 5m)", func(v string) (err error) {
		if s.retry, err = handlers.ParseSeconds(v); err == nil && s.retry <= 0 {
			err = errors.New("want a positive duration (90, 90s, 5m)")
		}
		return err
	})
	s.secure.register(fl)
	return s.run
}

// run submits the event and prints the broker's answer.
func (s *sendvo) run(args []string, std stdio) int {
	if len(args) > 0 {
		return std.fail(2, fmt.Sprintf("unexpected argument %q", args[0]))
	}
	host, port, stdin, stdout, stderr := s.host, s.port, std.in, std.out, std.err
	network, addr := "tcp", net.JoinHostPort(host, port)
	if path, ok := strings.CutPrefix(host, "unix:"); ok {
		network, addr = "unix", path
		if path == "" || flagGiven(s.fs, "p", "port") {
			fmt.Fprintf(stderr, "comet sendvo: invalid value %q for flag -h: want unix:PATH, without -p\n", host)
			return 2
		}
	} else if _, err := parsePort(port); err != nil {
		fmt.Fprintf(stderr, "comet sendvo: invalid value %q for flag -p: %v\n", port, err)
		return 2
	}
	tlsConf, err := s.secure.config()
	if err != nil {
		fmt.Fprintln(stderr, "comet sendvo:", err)
		return 2
	}
	var event []byte
	if s.file == "-" {
		event, err = io.ReadAll(stdin)
	} else {
		event, err = os.ReadFile(s.file)
	}
	if err != nil {
		fmt.Fprintln(stderr, "comet sendvo:", err)
		return 2
	}
	if s.signKey != "" {
		if event, err = signWithKeyFile(s.signKey, event); err != nil {
			fmt.Fprintln(stderr, "comet sendvo: --sign-key:", err)
			return 2
		}
	}
	answer, err := sendRetrying(network, addr, event, s.timeout, s.retry, tlsConf, stderr)
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

// sendEventOn connects to a broker's receive port on network ("tcp" or
// "unix"), over TLS with conf when it is not nil, sends event and returns
// its ack or nak.
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
