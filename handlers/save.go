package handlers

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"comet/voevent"
)

func init() {
	Register(Plugin{
		Name:  "save-event",
		Usage: "write every event to a file named after its ivorn",
		Options: []Option{{
			Name:    "directory",
			Default: ".",
			Usage:   "directory for --save-event files (created if missing)",
		}},
		New: newSaver,
	})
}

// maxNameLen keeps file names under common file-system limits (255 bytes)
// with room for the underscores added to make a name unique.
const (
	maxNameLen = 200
	maxTries   = 50
)

// saver writes each event's bytes, exactly as received, to a new file in
// one directory. Writing through os.Root means no name, however strange,
// can reach outside that directory.
type saver struct {
	root *os.Root
}

func newSaver(s Setup) (Handler, error) {
	dir := s.Option("directory")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("--save-event-directory: %w", err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("--save-event-directory: %w", err)
	}
	probe := fmt.Sprintf(".comet-probe-%d", os.Getpid())
	f, err := root.OpenFile(probe, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		root.Close()
		return nil, fmt.Errorf("--save-event-directory %s is not writable: %w", dir, err)
	}
	f.Close()
	root.Remove(probe)
	return &saver{root: root}, nil
}

// FileName turns an ivorn into the file name Comet uses: one leading "."
// dropped, "/" and "\" replaced by "_", and only [A-Za-z0-9_.] kept.
func FileName(ivorn string) string {
	ivorn = strings.TrimPrefix(ivorn, ".")
	var b strings.Builder
	for _, c := range ivorn {
		switch {
		case c == '/' || c == '\\':
			b.WriteByte('_')
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '_', c == '.':
			b.WriteRune(c)
		}
	}
	name := b.String()
	if len(name) > maxNameLen {
		name = name[:maxNameLen]
	}
	return name
}

// Handle writes the event to the first free name among FileName(ivorn),
// then with "_" appended until one is free, as Comet does. O_EXCL makes
// "free" race-proof. Names that are not plain files ("", ".", "..") are
// never free, so they too get underscores.
func (s *saver) Handle(_ context.Context, ev *voevent.Event) error {
	name := FileName(ev.IVORN)
	for range maxTries {
		if name != "" && name != "." && name != ".." {
			f, err := s.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err == nil {
				_, err = f.Write(ev.Raw)
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					return fmt.Errorf("save-event: %s: %w", name, err)
				}
				return nil
			}
			if !errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("save-event: %w", err)
			}
		}
		name += "_"
	}
	return fmt.Errorf("save-event: no free file name for %q", voevent.Clip(ev.IVORN))
}

// Close releases the directory.
func (s *saver) Close() error { return s.root.Close() }
