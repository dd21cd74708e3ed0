package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"comet/voevent"
	"comet/vtp"
)

// Pauses between sendvo's attempts under --retry: the first, doubling up
// to the last.
const (
	retryFirst = 100 * time.Millisecond
	retryMax   = 5 * time.Second
)

// errGaveUp is --retry's time running out.
var errGaveUp = errors.New("gave up")

// sendRetrying sends event once, or with retry > 0 keeps trying for that
// long while the broker cannot be reached, closes the connection without
// answering, or naks with a temporary storage failure: what a broker
// being restarted does. Resending is safe: an event the broker recorded
// before the connection broke is acknowledged as already seen. Each
// failed attempt is one line on stderr.
func sendRetrying(network, addr string, event []byte, timeout, retry time.Duration, conf *tls.Config, stderr io.Writer) (*voevent.Event, error) {
	if retry <= 0 {
		return sendEventOn(network, addr, event, timeout, conf)
	}
	deadline := time.Now().Add(retry)
	pause := retryFirst
	for attempt := 1; ; attempt++ {
		answer, err := sendEventOn(network, addr, event, min(timeout, max(time.Until(deadline), time.Second)), conf)
		if err == nil && !temporaryNak(answer) {
			return answer, nil
		}
		if err == nil {
			err = fmt.Errorf("%s: %s", addr, vtp.ReasonStorageFailure)
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil, fmt.Errorf("%w after %d attempts in %v: %v", errGaveUp, attempt, retry, err)
		}
		wait := min(pause, left)
		fmt.Fprintf(stderr, "comet sendvo: attempt %d failed: %v; retrying in %v\n", attempt, err, wait.Round(time.Millisecond))
		time.Sleep(wait)
		pause = min(2*pause, retryMax)
	}
}

// temporaryNak reports whether answer is a nak for the broker's own
// temporary failure, which a later attempt may not meet.
func temporaryNak(answer *voevent.Event) bool {
	t := vtp.ParseTransport(answer)
	if t.Role != vtp.RoleNak {
		return false
	}
	for _, r := range t.Results {
		if r == "Event rejected: "+vtp.ReasonStorageFailure {
			return true
		}
	}
	return false
}

// flagGiven reports whether any of names was set on fs's command line.
func flagGiven(fs *flag.FlagSet, names ...string) bool {
	given := false
	fs.Visit(func(f *flag.Flag) {
		for _, n := range names {
			given = given || f.Name == n
		}
	})
	return given
}
