// Package kafkapeertest runs kafkapeer, a local Kafka cluster with
// Kafka's SASL servers, a token endpoint and a control API, as a
// separate process for the tests of the Kafka source. It exists so that
// the tests of two packages (the consumer's and the broker's) share one
// launcher, and so that comet never imports kafkapeer's module, which is
// not standard library: the binary is built from its source beside the
// repository, or taken from $KAFKAPEER.
//
//   - Bin builds kafkapeer once per test process, or skips the test,
//     saying why, in -short mode or when it cannot be had (no source,
//     no Go module proxy for its dependencies); Cleanup removes the build.
//   - Start runs "kafkapeer serve" and returns a Peer once it is ready;
//     it stops when the test ends.
package kafkapeertest

import (
	"bytes"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var build struct {
	sync.Mutex
	dir, bin, why string // the build, or why there is none
	done          bool
}

// Bin returns the kafkapeer binary: $KAFKAPEER if set, else one built
// from src (kafkapeer's source directory, relative to the package under
// test) the first time any test asks. It skips tb in -short mode or when
// there is none.
func Bin(tb testing.TB, src string) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("kafkapeer: skipped in -short mode")
	}
	if bin := os.Getenv("KAFKAPEER"); bin != "" {
		return bin
	}
	build.Lock()
	defer build.Unlock()
	if !build.done {
		build.done = true
		build.bin, build.why = compile(src)
	}
	if build.bin == "" {
		tb.Skip(build.why)
	}
	return build.bin
}

func compile(src string) (bin, why string) {
	abs, err := filepath.Abs(src)
	if err == nil {
		_, err = os.Stat(filepath.Join(abs, "go.mod"))
	}
	if err != nil {
		return "", "kafkapeer: source not found beside the repository (" + err.Error() + "); set KAFKAPEER to a built binary"
	}
	if build.dir, err = os.MkdirTemp("", "kafkapeer-"); err != nil {
		return "", "kafkapeer: " + err.Error()
	}
	bin = filepath.Join(build.dir, "kafkapeer")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = abs
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", "kafkapeer: cannot be built from " + abs + " (is the Go module proxy reachable? or set KAFKAPEER to a built binary): " +
			err.Error() + "\n" + string(bytes.TrimSpace(out))
	}
	return bin, ""
}

// Cleanup removes the binary Bin built; TestMain calls it after the
// tests have run.
func Cleanup() {
	build.Lock()
	defer build.Unlock()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
}

// Peer is one running kafkapeer.
type Peer struct {
	Dir     string   // holds bootstrap, ca.pem, credentials, control, ...
	Brokers []string // the brokers' addresses, node 0 first
	Control string   // URL of the control API
	Log     *Buffer  // what it has written
}

// Buffer collects a process's output; safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Start runs "bin serve -dir DIR args..." and returns it once it is
// ready; it is stopped when tb ends. It skips tb when the process cannot
// be started or is not ready within a minute, and fails tb, with the
// peer's log, when the peer exits before it is ready.
func Start(tb testing.TB, bin string, args ...string) *Peer {
	tb.Helper()
	dir := tb.TempDir()
	cmd := exec.Command(bin, append([]string{"serve", "-dir", dir}, args...)...)
	log := &Buffer{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		tb.Skipf("kafkapeer: cannot be started: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	// kafkapeer writes DIR/ready last, and removes it on exit.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	giveUp := time.After(time.Minute)
	for {
		if _, err := os.Stat(filepath.Join(dir, "ready")); err == nil {
			break
		}
		select {
		case err := <-exited:
			exited <- err
			tb.Fatalf("kafkapeer: exited before it was ready: %v\n%s", err, log)
		case <-giveUp:
			tb.Skip("kafkapeer: not ready within a minute")
		case <-tick.C:
		}
	}
	p := &Peer{Dir: dir, Log: log}
	p.Brokers = strings.Split(p.Read(tb, "bootstrap"), ",")
	p.Control = p.Read(tb, "control")
	return p
}

// Read returns the peer's file name, trimmed.
func (p *Peer) Read(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(p.Dir, name))
	if err != nil {
		tb.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// Roots trusts the CA of the peer's TLS listeners and token endpoint.
func (p *Peer) Roots(tb testing.TB) *x509.CertPool {
	tb.Helper()
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM([]byte(p.Read(tb, "ca.pem"))) {
		tb.Fatal("kafkapeer: ca.pem holds no certificate")
	}
	return roots
}
