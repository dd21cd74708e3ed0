package handlers

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"comet/voevent"
)

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func newLog() (*slog.Logger, *logBuf) {
	lb := &logBuf{}
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelDebug})), lb
}

func event(t *testing.T, ivorn string) *voevent.Event {
	t.Helper()
	raw := []byte(`<?xml version="1.0"?>
<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="` + ivorn + `" role="test" version="2.0"><What/></voe:VOEvent>
`)
	ev, err := voevent.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func plugin(t *testing.T, name string) Plugin {
	t.Helper()
	for _, p := range Plugins() {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no plugin %q", name)
	return Plugin{}
}

func setup(t *testing.T, p Plugin, args []string, opts map[string]string) (Handler, *logBuf, error) {
	t.Helper()
	o := map[string]string{}
	for _, opt := range p.Options {
		o[opt.Name] = opt.Default
	}
	for k, v := range opts {
		o[k] = v
	}
	log, lb := newLog()
	h, err := p.New(Setup{Args: args, Options: o, Logger: log})
	if c, ok := h.(interface{ Close() error }); ok && err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return h, lb, err
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"ivo://nasa.gsfc.gcn/SWIFT#BAT_GRB_Pos_1234-567": "ivo__nasa.gsfc.gcn_SWIFTBAT_GRB_Pos_1234567",
		".hidden":            "hidden",
		"..":                 ".",
		"a\\b/c":             "a_b_c",
		"../../etc/passwd":   "._.._etc_passwd",
		"ivo://x/y#é z\x00!": "ivo__x_yz",
		"":                   "",
	} {
		if got := FileName(in); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := FileName(strings.Repeat("a", 1000)); len(got) != maxNameLen {
		t.Errorf("long ivorn gave a %d-byte name", len(got))
	}
}

func TestSaveEvent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir") // created on demand
	h, _, err := setup(t, plugin(t, "save-event"), nil, map[string]string{"directory": dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ev := event(t, "ivo://example.org/x#1")
	for range 3 {
		if err := h.Handle(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"ivo__example.org_x1", "ivo__example.org_x1_", "ivo__example.org_x1__"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, ev.Raw) {
			t.Errorf("%s: %v; content equal: %v", name, err, bytes.Equal(got, ev.Raw))
		}
	}
	// Names that would be the directory itself or its parent get underscores.
	for _, id := range []string{"", ".", "..."} {
		if err := h.Handle(ctx, event(t, id)); err != nil {
			t.Errorf("ivorn %q: %v", id, err)
		}
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != ".._ _ __ ivo__example.org_x1 ivo__example.org_x1_ ivo__example.org_x1__" {
		t.Errorf("directory holds %s", got)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dir), ".._")); err == nil {
		t.Error("a file escaped the directory")
	}
}

func TestSaveEventBadDirectory(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o644)
	_, _, err := setup(t, plugin(t, "save-event"), nil, map[string]string{"directory": file})
	if err == nil || !strings.Contains(err.Error(), "--save-event-directory") {
		t.Errorf("regular file as directory: %v", err)
	}
	if os.Geteuid() != 0 {
		ro := t.TempDir()
		os.Chmod(ro, 0o555)
		_, _, err := setup(t, plugin(t, "save-event"), nil, map[string]string{"directory": ro})
		if err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("read-only directory: %v", err)
		}
	}
}

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "handler.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCmdGetsEventOnStdin(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	t.Setenv("COMET_TEST_OUT", out)
	cmd := script(t, `cat > "$COMET_TEST_OUT"; echo said hello; echo complained >&2`)
	h, lb, err := setup(t, plugin(t, "cmd"), []string{cmd}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ev := event(t, "ivo://example.org/x#cmd")
	if err := h.Handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	h.(*spawner).Close() // waits for the command
	got, err := os.ReadFile(out)
	if err != nil || !bytes.Equal(got, ev.Raw) {
		t.Errorf("command read %q (%v), want the event", got, err)
	}
	for _, want := range []string{"said hello", "complained", "level=DEBUG msg=\"command succeeded\""} {
		if !strings.Contains(lb.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, lb.String())
		}
	}
}

func TestCmdFailuresLogged(t *testing.T) {
	fail := script(t, "exit 3")
	hang := script(t, "exec sleep 30")
	missing := filepath.Join(t.TempDir(), "missing")
	notExec := filepath.Join(t.TempDir(), "notexec")
	os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644)
	h, lb, err := setup(t, plugin(t, "cmd"), []string{fail, hang, missing, notExec}, map[string]string{"timeout": "0.2"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Handle(context.Background(), event(t, "ivo://example.org/x#fail")); err != nil {
		t.Fatal(err)
	}
	h.(*spawner).Close()
	log := lb.String()
	for _, want := range []string{"exit status 3", "killed after timeout", "not runnable now", "permission denied"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if n := strings.Count(log, "level=WARN msg=\"command failed"); n != 4 {
		t.Errorf("%d failures logged at WARNING, want 4:\n%s", n, log)
	}
}

func TestCmdBoundedQueue(t *testing.T) {
	release := filepath.Join(t.TempDir(), "release")
	// Each run waits until the test creates the release file.
	cmd := script(t, `while [ ! -e "`+release+`" ]; do sleep 0.01; done`)
	h, _, err := setup(t, plugin(t, "cmd"), []string{cmd}, map[string]string{"concurrency": "1", "queue": "2"})
	if err != nil {
		t.Fatal(err)
	}
	var skipped int
	for i := range 10 {
		if err := h.Handle(context.Background(), event(t, "ivo://example.org/x#q")); err != nil {
			if !strings.Contains(err.Error(), "already waiting") {
				t.Fatalf("event %d: %v", i, err)
			}
			skipped++
		}
	}
	// One running (or about to), two queued: at least 7 of 10 skipped,
	// at most 8 (if the worker had not yet taken the first).
	if skipped < 7 || skipped > 8 {
		t.Errorf("%d events skipped, want 7 or 8", skipped)
	}
	os.WriteFile(release, nil, 0o644)
}

func TestCmdOptionsChecked(t *testing.T) {
	for opt, val := range map[string]string{"timeout": "soon", "concurrency": "0", "queue": "-1"} {
		_, _, err := setup(t, plugin(t, "cmd"), []string{"/bin/true"}, map[string]string{opt: val})
		if err == nil || !strings.Contains(err.Error(), "--cmd-"+opt) {
			t.Errorf("--cmd-%s=%s: %v", opt, val, err)
		}
	}
}

func TestDispatcher(t *testing.T) {
	log, lb := newLog()
	d := NewDispatcher(log)
	var mu sync.Mutex
	var got []string
	d.Add("record", HandlerFunc(func(_ context.Context, ev *voevent.Event) error {
		mu.Lock()
		got = append(got, ev.IVORN)
		mu.Unlock()
		return nil
	}))
	d.Add("broken", HandlerFunc(func(context.Context, *voevent.Event) error { return errors.New("always fails") }))
	d.Add("panicky", HandlerFunc(func(context.Context, *voevent.Event) error { panic("site bug") }))
	var want []string
	for i := range 100 {
		id := "ivo://example.org/x#" + strings.Repeat("a", i)
		want = append(want, id)
		d.Deliver(event(t, id))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("record handler saw %d events, out of order or missing", len(got))
	}
	if n := strings.Count(lb.String(), "always fails"); n != 100 {
		t.Errorf("%d failures logged, want 100", n)
	}
	if n := strings.Count(lb.String(), "handler panicked"); n != 100 {
		t.Errorf("%d panics logged, want 100", n)
	}
	d.Deliver(event(t, "ivo://example.org/x#late")) // after Close: logged, not a panic
	if !strings.Contains(lb.String(), "handlers already stopped") {
		t.Error("delivery after Close not logged")
	}
}

func TestPrintEvent(t *testing.T) {
	h, lb, err := setup(t, plugin(t, "print-event"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Handle(context.Background(), event(t, "ivo://example.org/x#print"))
	if !strings.Contains(lb.String(), `ivorn=ivo://example.org/x#print`) || !strings.Contains(lb.String(), `voe:VOEvent`) {
		t.Errorf("log: %s", lb.String())
	}
}

func TestRegister(t *testing.T) {
	var names []string
	for _, p := range Plugins() {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, " "); got != "cmd print-event save-event" {
		t.Errorf("plugins: %s", got)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a duplicate did not panic")
		}
	}()
	Register(Plugin{Name: "cmd", New: func(Setup) (Handler, error) { return nil, nil }})
}
