package handlers

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"comet/voevent"
)

// Handler acts on one accepted event. Handle runs on the handler's own
// goroutine, one event at a time, in the order events were accepted; an
// error is logged and affects nothing else. Events that find the
// handler's queue full are not given to it (see QueueLen). ctx is
// cancelled shortly before the shutdown deadline. A handler that is also
// a ContextCloser or an io.Closer is closed after its last event.
type Handler interface {
	Handle(ctx context.Context, ev *voevent.Event) error
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, ev *voevent.Event) error

// Handle calls f.
func (f HandlerFunc) Handle(ctx context.Context, ev *voevent.Event) error { return f(ctx, ev) }

// Plugin describes a handler the command line can enable.
type Plugin struct {
	// Name is the enabling flag without dashes: "save-event" → --save-event.
	Name  string
	Usage string
	// Arg, if set, makes --NAME take a value named Arg (as --cmd=PATH):
	// the flag may then be repeated, and Setup.Args holds every value.
	Arg string
	// Options are configured with --NAME-OPTION=value.
	Options []Option
	// New builds the handler once the command line is parsed. An error
	// stops the broker from starting, so it should name what is wrong.
	New func(Setup) (Handler, error)
}

// Option is one setting of a plugin.
type Option struct {
	Name    string // "directory" → --save-event-directory
	Default string
	Usage   string
}

// Setup is what a plugin gets from the command line.
type Setup struct {
	Args    []string          // values of --NAME, for plugins with an Arg
	Options map[string]string // every option, defaults filled in
	Logger  *slog.Logger
}

// Option returns the value of the named option.
func (s Setup) Option(name string) string { return s.Options[name] }

var (
	regMu   sync.Mutex
	plugins = map[string]Plugin{}
)

// Register makes a plugin available on the command line. It panics on a
// duplicate or malformed name: that is a programming error, found at start.
func Register(p Plugin) {
	regMu.Lock()
	defer regMu.Unlock()
	if p.Name == "" || strings.ContainsAny(p.Name, "= \t") || p.New == nil {
		panic(fmt.Sprintf("handlers: bad plugin %q", p.Name))
	}
	if _, dup := plugins[p.Name]; dup {
		panic(fmt.Sprintf("handlers: plugin %q registered twice", p.Name))
	}
	plugins[p.Name] = p
}

// Plugins returns the registered plugins sorted by name.
func Plugins() []Plugin {
	regMu.Lock()
	defer regMu.Unlock()
	var ps []Plugin
	for _, p := range plugins {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b Plugin) int { return strings.Compare(a.Name, b.Name) })
	return ps
}
