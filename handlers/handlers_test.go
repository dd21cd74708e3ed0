package handlers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
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
	if err == nil {
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			switch c := h.(type) {
			case ContextCloser:
				c.CloseContext(ctx)
			case interface{ Close() error }:
				c.Close()
			}
		})
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
	h.(*spawner).CloseContext(context.Background()) // waits for the command
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
	h.(*spawner).CloseContext(context.Background())
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
	for _, st := range d.Stats() {
		want := HandlerStats{Name: st.Name, Done: 100}
		if st.Name != "record" {
			want = HandlerStats{Name: st.Name, Failed: 100}
		}
		if st != want {
			t.Errorf("stats %+v, want %+v", st, want)
		}
	}
	d.Deliver(event(t, "ivo://example.org/x#late")) // after Close: logged, not a panic
	if !strings.Contains(lb.String(), "handlers already stopped") {
		t.Error("delivery after Close not logged")
	}
}

// skipWarnings returns the "skipped=N first=IVORN" of each warning about
// skipped events in log.
func skipWarnings(log string) []string {
	var ws []string
	for line := range strings.Lines(log) {
		if strings.Contains(line, `level=WARN msg="handler falling behind: events skipped" handler=stuck`) {
			_, w, _ := strings.Cut(line, "handler=stuck ")
			w, _, _ = strings.Cut(w, " queue=")
			ws = append(ws, w)
		}
	}
	return ws
}

// TestDispatcherSkipsWhenFull fills the queue of a handler stuck on an
// event: Deliver does not wait, that handler alone skips the events that
// do not fit, and the skips are counted and logged at most once per
// warnEvery, each warning counting the skips since the one before.
func TestDispatcherSkipsWhenFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log, lb := newLog()
		d := NewDispatcher(log)
		release := make(chan struct{})
		d.Add("stuck", HandlerFunc(func(context.Context, *voevent.Event) error {
			<-release
			return nil
		}))
		var mu sync.Mutex
		var got []string
		d.Add("record", HandlerFunc(func(_ context.Context, ev *voevent.Event) error {
			mu.Lock()
			got = append(got, ev.IVORN)
			mu.Unlock()
			return nil
		}))
		ev := func(i int) *voevent.Event { return event(t, fmt.Sprintf("ivo://example.org/x#%d", i)) }
		var want []string
		deliver := func(i int) {
			e := ev(i)
			want = append(want, e.IVORN)
			d.Deliver(e) // in the bubble, a Deliver that waited would fail the test as a deadlock
		}
		deliver(0)
		synctest.Wait() // "stuck" holds event 0; both queues are empty
		for i := range QueueLen {
			deliver(1 + i)
		}
		synctest.Wait() // "stuck"'s queue is full, "record" has caught up
		skipped := QueueLen + 1
		for i := range 3 {
			deliver(skipped + i)
		}
		if got := skipWarnings(lb.String()); len(got) != 1 || got[0] != fmt.Sprintf("skipped=1 first=ivo://example.org/x#%d", skipped) {
			t.Errorf("warnings at once: %q, want one, for the first skip", got)
		}
		time.Sleep(warnEvery - time.Millisecond)
		synctest.Wait()
		if got := skipWarnings(lb.String()); len(got) != 1 {
			t.Errorf("warnings just before %v: %q, want still one", warnEvery, got)
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if got := skipWarnings(lb.String()); len(got) != 2 || got[1] != fmt.Sprintf("skipped=2 first=ivo://example.org/x#%d", skipped+1) {
			t.Errorf("warnings after %v: %q, want a second for the next two skips", warnEvery, got)
		}
		deliver(skipped + 3) // held back until the next interval ends, or Close
		synctest.Wait()
		mu.Lock()
		if len(got) != len(want) {
			t.Errorf(`"record" got %d events, want %d`, len(got), len(want))
		}
		mu.Unlock()
		wantStats := []HandlerStats{
			{Name: "stuck", Queued: QueueLen, Skipped: 4},
			{Name: "record", Done: int64(len(want))},
		}
		if stats := d.Stats(); !slices.Equal(stats, wantStats) {
			t.Errorf("stats %+v, want %+v", stats, wantStats)
		}

		close(release)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := d.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if got := skipWarnings(lb.String()); len(got) != 3 || got[2] != fmt.Sprintf("skipped=1 first=ivo://example.org/x#%d", skipped+3) {
			t.Errorf("warnings after Close: %q, want a third for the last skip", got)
		}
		if st := d.Stats()[0]; st.Done != QueueLen+1 || st.Queued != 0 {
			t.Errorf("stats after Close %+v, want the queue handled", st)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Error(`"record" got events out of order`)
		}
	})
}

// ctxCloser is a handler with both CloseContext and Close.
type ctxCloser struct{ withDeadline, closed chan bool }

func (c ctxCloser) Handle(context.Context, *voevent.Event) error { return nil }
func (c ctxCloser) CloseContext(ctx context.Context) error {
	_, ok := ctx.Deadline()
	c.withDeadline <- ok
	return nil
}
func (c ctxCloser) Close() error { c.closed <- true; return nil }

// hangingCloser is a handler whose Close waits for release.
type hangingCloser struct{ release chan struct{} }

func (hangingCloser) Handle(context.Context, *voevent.Event) error { return nil }
func (h hangingCloser) Close() error                               { <-h.release; return nil }

// TestDispatcherCloseDeadline gives Close one second with a queue of slow
// events, a handler that respects cancellation, one stuck in Handle that
// ignores it, and one whose Close hangs: Close runs what it has time for,
// returns by the deadline, and names the two that did not stop.
func TestDispatcherCloseDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log, lb := newLog()
		d := NewDispatcher(log)
		d.Add("slow", HandlerFunc(func(context.Context, *voevent.Event) error {
			time.Sleep(100 * time.Millisecond)
			return nil
		}))
		d.Add("patient", HandlerFunc(func(ctx context.Context, _ *voevent.Event) error {
			<-ctx.Done()
			return ctx.Err()
		}))
		release := make(chan struct{})
		d.Add("stuck", HandlerFunc(func(context.Context, *voevent.Event) error {
			<-release
			return nil
		}))
		d.Add("hanging", hangingCloser{release})
		cc := ctxCloser{make(chan bool, 1), make(chan bool, 1)}
		d.Add("both", cc)
		for i := range 5 {
			d.Deliver(event(t, fmt.Sprintf("ivo://example.org/x#%d", i)))
		}

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		err := d.Close(ctx)
		if elapsed := time.Since(start); elapsed > time.Second {
			t.Errorf("Close took %v with a 1 s deadline", elapsed)
		}
		if err == nil || !strings.Contains(err.Error(), "handler stuck did not stop by the deadline (handling an event)") ||
			!strings.Contains(err.Error(), "handler hanging did not stop by the deadline (closing)") {
			t.Errorf("Close: %v", err)
		}
		for _, want := range []string{
			`level=ERROR msg="handler did not stop by the deadline" handler=stuck while="handling an event"`,
			`level=ERROR msg="handler did not stop by the deadline" handler=hanging while=closing`,
			`level=WARN msg="handler stopped before its queue was empty" handler=patient skipped=4`,
		} {
			if !strings.Contains(lb.String(), want) {
				t.Errorf("log lacks %s:\n%s", want, lb)
			}
		}
		if strings.Count(lb.String(), "did not stop") != 2 {
			t.Errorf("log:\n%s", lb)
		}
		stats := map[string]HandlerStats{}
		for _, st := range d.Stats() {
			stats[st.Name] = st
		}
		for _, want := range []HandlerStats{
			{Name: "slow", Done: 5},
			{Name: "patient", Failed: 1, Skipped: 4},
			{Name: "stuck", Queued: 4},
		} {
			if stats[want.Name] != want {
				t.Errorf("stats %+v, want %+v", stats[want.Name], want)
			}
		}
		select {
		case ok := <-cc.withDeadline:
			if !ok {
				t.Error("CloseContext got no deadline")
			}
		default:
			t.Error("CloseContext not called")
		}
		if len(cc.closed) != 0 {
			t.Error("Close called on a handler with CloseContext")
		}
		close(release) // let the bubble's goroutines end
	})
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
