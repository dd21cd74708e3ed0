package main

import (
	"crypto/tls"
	"errors"
	"net"
	"time"

	"comet/vtp"
)

// sendvoTLS is comet sendvo's --tls, --ca, --cert and --key.
type sendvoTLS struct {
	on            bool
	ca, cert, key string
}

// register defines the TLS flags on fl.
func (s *sendvoTLS) register(fl *flagList) {
	fl.Bool(&s.on, "tls", "speak TLS, verifying the broker for HOST against --ca")
	fl.String(&s.ca, "ca", "FILE", "PEM CAs the broker is verified against [default: the system's]")
	fl.String(&s.cert, "cert", "FILE", "PEM client certificate to offer, with --key")
	fl.String(&s.key, "key", "FILE", "its PEM private key")
}

// config is the client configuration the flags ask for, nil without --tls.
func (s *sendvoTLS) config() (*tls.Config, error) {
	switch {
	case !s.on && (s.ca != "" || s.cert != "" || s.key != ""):
		return nil, errors.New("--ca, --cert and --key need --tls")
	case !s.on:
		return nil, nil
	case (s.cert == "") != (s.key == ""):
		return nil, errors.New("--cert and --key go together")
	}
	var certs *vtp.Certs
	if s.cert != "" {
		c, err := vtp.LoadCerts(s.cert, s.key)
		if err != nil {
			return nil, err
		}
		certs = c
	}
	conf := vtp.ClientConfig(certs, nil)
	if s.ca != "" {
		roots, err := vtp.LoadCAs(s.ca)
		if err != nil {
			return nil, err
		}
		conf.RootCAs = roots
	}
	return conf, nil
}

// startTLS runs the client handshake on c within timeout, the server
// verified for addr's host. On error c is closed and the error says
// which certificate failed and why.
func startTLS(c net.Conn, addr string, conf *tls.Config, timeout time.Duration) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		c.Close()
		return nil, err
	}
	conf = conf.Clone()
	conf.ServerName = host
	tc := tls.Client(c, conf)
	tc.SetDeadline(time.Now().Add(timeout))
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, errors.New(vtp.DescribeTLSError(err, "server", timeout))
	}
	return tc, nil
}
