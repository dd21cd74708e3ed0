package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"comet/vtp"
)

// tlsFlags are the command line's TLS options, and what load makes of
// them once the command line is known to be good. This file is the TLS
// extension's wiring: its flags, loading its files, and SIGHUP.
type tlsFlags struct {
	cert, key  string   // --tls-cert, --tls-key
	clientCA   string   // --tls-client-ca
	ca         string   // --tls-ca
	authorIDs  []string // --author-identity
	subIDs     []string // --subscriber-identity
	certs      *vtp.Certs
	brokerConf vtp.TLS
}

// register defines the TLS flags on fl.
func (t *tlsFlags) register(fl *flagList) {
	fl.String(&t.cert, "tls-cert", "FILE", "PEM certificate for tls: endpoints, also offered to tls: remotes; re-read on SIGHUP")
	fl.String(&t.key, "tls-key", "FILE", "its PEM private key; re-read on SIGHUP")
	fl.String(&t.clientCA, "tls-client-ca", "FILE", "PEM CAs: tls: endpoints then admit only clients with a certificate they verify (mutual TLS)")
	identity := func(list *[]string) func(string) error {
		return func(s string) error {
			// An identity is only ever an ivo:// URI from a certificate:
			// any other value would match no peer, silently.
			if !strings.HasPrefix(s, "ivo://") || strings.TrimSpace(s) != s {
				return errors.New("want an ivo:// identity such as ivo://example.org/author, as a certificate's URI subject alternative name carries it (a common name is never an identity)")
			}
			*list = append(*list, s)
			return nil
		}
	}
	fl.Func("author-identity", "IVOID", "only this certificate identity may publish over TLS (repeatable) [default: any verified]", identity(&t.authorIDs))
	fl.Func("subscriber-identity", "IVOID", "only this one may subscribe over TLS (repeatable)", identity(&t.subIDs))
	fl.String(&t.ca, "tls-ca", "FILE", "PEM CAs that tls: remotes are verified against [default: the system's]")
}

// load checks how the TLS flags fit together and reads the files they
// name. Every error is one line naming the flag, and the file if one is
// at fault.
func (t *tlsFlags) load(cfg *config) error {
	tlsPort, tlsRemote := false, false
	for _, ep := range append(append([]endpoint{}, cfg.receive...), cfg.broadcast...) {
		tlsPort = tlsPort || ep.network == "tls"
	}
	for _, r := range cfg.remotes {
		tlsRemote = tlsRemote || strings.HasPrefix(r, "tls:")
	}
	switch {
	case (t.cert == "") != (t.key == ""):
		return &usageError{"--tls-cert and --tls-key go together"}
	case tlsPort && t.cert == "":
		return &usageError{"a tls: endpoint needs --tls-cert and --tls-key"}
	case t.clientCA != "" && !tlsPort:
		return &usageError{"--tls-client-ca needs a tls: endpoint for --receive or --broadcast"}
	case (len(t.authorIDs) > 0 || len(t.subIDs) > 0) && t.clientCA == "":
		return &usageError{"--author-identity and --subscriber-identity need --tls-client-ca: without it TLS clients have no identity"}
	}
	if t.cert != "" {
		certs, err := vtp.LoadCerts(t.cert, t.key)
		if err != nil {
			return &usageError{err.Error()}
		}
		t.certs = certs
	}
	t.brokerConf = vtp.TLS{AuthorIdentities: t.authorIDs, SubscriberIdentities: t.subIDs}
	if tlsPort {
		var clientCAs *x509.CertPool
		if t.clientCA != "" {
			pool, err := vtp.LoadCAs(t.clientCA)
			if err != nil {
				return &usageError{fmt.Sprintf("--tls-client-ca: %v", err)}
			}
			clientCAs = pool
		}
		t.brokerConf.Server = vtp.ServerConfig(t.certs, clientCAs)
	}
	if tlsRemote {
		var roots *x509.CertPool // nil: the system's
		if t.ca != "" {
			pool, err := vtp.LoadCAs(t.ca)
			if err != nil {
				return &usageError{fmt.Sprintf("--tls-ca: %v", err)}
			}
			roots = pool
		}
		t.brokerConf.Client = vtp.ClientConfig(t.certs, roots)
	}
	return nil
}

// reload reads the certificate and key again, at SIGHUP. A bad file is
// an ERROR and the pair in use is kept.
func (t *tlsFlags) reload(log *slog.Logger) {
	if t.certs == nil {
		return
	}
	if err := t.certs.Reload(); err != nil {
		log.Error("TLS certificate not reloaded: keeping the one in use", "err", err)
		return
	}
	leaf := t.certs.Leaf()
	log.Info("TLS certificate reloaded", "subject", leaf.Subject.String(),
		"not_after", leaf.NotAfter.UTC().Format("2006-01-02T15:04:05Z"))
}
