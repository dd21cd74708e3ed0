package seen

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// Child processes: TestMain runs crashChild or holdChild instead of the
// tests when childModeEnv is set.
const (
	childModeEnv = "SEEN_TEST_CHILD"
	childDirEnv  = "SEEN_TEST_DIR"
)

// crashChild records random keys from 8 goroutines as fast as it can, with
// compaction every 10 ms, and prints each key only after CheckAndRecord
// said first=true: a printed key is an acknowledged one.
func crashChild() {
	time.AfterFunc(60*time.Second, func() { os.Exit(3) }) // orphaned: give up
	s, err := Open(os.Getenv(childDirEnv), Options{
		CompactEvery: 10 * time.Millisecond,
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, nil)),
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var out sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				var k Key
				rand.Read(k[:])
				first, err := s.CheckAndRecord(k)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				if first {
					line := "ack " + hex.EncodeToString(k[:]) + "\n"
					out.Lock()
					os.Stdout.WriteString(line) // one write(2): whole lines only
					out.Unlock()
				}
			}
		})
	}
	wg.Wait()
}

// holdChild opens the store, says so, and holds it until stdin closes.
func holdChild() {
	s, err := Open(os.Getenv(childDirEnv), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	os.Stdout.WriteString("locked\n")
	io.Copy(io.Discard, os.Stdin)
	s.Close()
}

func child(t *testing.T, mode, dir string) *exec.Cmd {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), childModeEnv+"="+mode, childDirEnv+"="+dir)
	return cmd
}

// TestKill9 kills a child that is recording keys with SIGKILL at random
// moments, several times over the same store, and checks that every key the
// child acknowledged is still recorded and that recovery never finds more
// than a torn tail.
func TestKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	dir := t.TempDir()
	rng := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 9))
	var acked []Key
	for round := range 6 {
		cmd := child(t, "record", dir)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			defer close(lines)
			r := bufio.NewReader(stdout)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return // a line cut by the kill has no newline: not an ack
				}
				lines <- line
			}
		}()
		var kill <-chan time.Time
		armed := false
		n := 0
		for lines != nil {
			select {
			case line, ok := <-lines:
				if !ok {
					lines = nil
					continue
				}
				k, err := hex.DecodeString(strings.TrimPrefix(strings.TrimSpace(line), "ack "))
				if err != nil || len(k) != 32 {
					t.Fatalf("round %d: child printed %q", round, line)
				}
				acked = append(acked, Key(k))
				n++
				if !armed {
					// The child is up; let it run a random while,
					// compacting every 10 ms, then kill it wherever it is.
					armed = true
					kill = time.After(time.Duration(rng.IntN(200)) * time.Millisecond)
				}
			case <-kill:
				cmd.Process.Kill() // SIGKILL
				kill = nil
			}
		}
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != -1 {
			t.Fatalf("round %d: child ended with %v, not by SIGKILL; stderr:\n%s", round, err, stderr.String())
		}
		logger, sink := newLog()
		s := openT(t, dir, Options{Logger: logger})
		lost := 0
		for _, k := range acked {
			if first, err := s.CheckAndRecord(k); err != nil || first {
				lost++
			}
		}
		closeT(t, s)
		if lost > 0 {
			t.Fatalf("round %d: %d of %d acknowledged keys lost", round, lost, len(acked))
		}
		if sink.Has("level=ERROR") {
			t.Fatalf("round %d: recovery found damage, not a crash:\n%s", round, sink)
		}
		t.Logf("round %d: %d keys acknowledged before SIGKILL, %d in total, all kept", round, n, len(acked))
	}
}

// TestLockedByOtherProcess: a store held by another process cannot be
// opened, and can be once that process is gone.
func TestLockedByOtherProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	dir := t.TempDir()
	cmd := child(t, "hold", dir)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if line != "locked\n" {
		t.Fatalf("child said %q, %v; stderr:\n%s", line, err, stderr.String())
	}
	_, err = Open(dir, Options{Logger: quiet})
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Open of a store held by another process: %v", err)
	}
	wantLockedErr(t, err, dir)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v; stderr:\n%s", err, stderr.String())
	}
	closeT(t, openT(t, dir, Options{}))
}
