// Package docs holds comet's documentation as Markdown pages embedded in
// the binary, so that "comet help TOPIC" works on a telescope control
// machine with no network. Each page is one file NAME.md in this
// directory: its first line is "# " and its title, which the topic list
// shows; NAME is the topic.
//
//   - [Topics] lists the pages, by name.
//   - [Text] returns one page.
package docs

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.md
var pages embed.FS

// Topic is one page: its name (the file name without .md) and its title.
type Topic struct {
	Name, Title string
}

// Topics lists the pages in name order.
func Topics() []Topic {
	names, err := fs.Glob(pages, "*.md")
	if err != nil { // the pattern is a constant and well formed
		return nil
	}
	sort.Strings(names)
	var ts []Topic
	for _, n := range names {
		name := strings.TrimSuffix(n, ".md")
		text, _ := Text(name)
		title, _, _ := strings.Cut(text, "\n")
		ts = append(ts, Topic{Name: name, Title: strings.TrimPrefix(title, "# ")})
	}
	return ts
}

// Text returns the page named name, and false if there is none.
func Text(name string) (string, bool) {
	if !fs.ValidPath(name) || strings.Contains(name, "/") {
		return "", false
	}
	b, err := pages.ReadFile(name + ".md")
	if err != nil {
		return "", false
	}
	return string(b), true
}
