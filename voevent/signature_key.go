package voevent

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
)

// maxKeyFile bounds what LoadSigningKey reads: a PEM Ed25519 key is
// about 120 bytes.
const maxKeyFile = 64 << 10

// LoadSigningKey reads an Ed25519 private key from a PEM "PRIVATE KEY"
// (PKCS #8) file, the form "openssl genpkey -algorithm ed25519" and
// "comet keygen" write. Errors name the file.
func LoadSigningKey(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(data) > maxKeyFile {
		return nil, fmt.Errorf("%s: larger than %d bytes: not a key file", path, maxKeyFile)
	}
	key, err := ParseSigningKey(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// ParseSigningKey decodes the first PEM block of data as a PKCS #8
// Ed25519 private key.
func ParseSigningKey(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	switch {
	case block == nil:
		return nil, fmt.Errorf(`no PEM block: want a "PRIVATE KEY" (PKCS #8 Ed25519) file, as "openssl genpkey -algorithm ed25519" writes`)
	case block.Type == "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("the key is encrypted: decrypt it first (openssl pkey -in KEY -out PLAIN)")
	case block.Type != "PRIVATE KEY":
		return nil, fmt.Errorf(`PEM block is %q: want "PRIVATE KEY" (PKCS #8 Ed25519)`, Clip(block.Type))
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS #8 private key: %v", err)
	}
	ed, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T, not an Ed25519 key", k)
	}
	return ed, nil
}

// MarshalSigningKey encodes key as PEM "PRIVATE KEY" (PKCS #8), the form
// LoadSigningKey reads.
func MarshalSigningKey(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}
