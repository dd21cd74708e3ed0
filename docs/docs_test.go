package docs

import (
	"strings"
	"testing"
)

// TestEveryPageHasATitle: the topic list shows each page's first line, so
// every page must start with one, and Text must find every listed page.
func TestEveryPageHasATitle(t *testing.T) {
	ts := Topics()
	if len(ts) == 0 {
		t.Fatal("no pages embedded")
	}
	for _, tp := range ts {
		text, ok := Text(tp.Name)
		if !ok || !strings.HasPrefix(text, "# ") || tp.Title == "" || strings.Contains(tp.Title, "\n") {
			t.Errorf("page %q: found %v, title %q", tp.Name, ok, tp.Title)
		}
	}
}

// TestTextRefusesPaths: a topic typed by a user is a name, never a path.
func TestTextRefusesPaths(t *testing.T) {
	for _, name := range []string{"", "../docs", "/etc/passwd", "a/b", "docs.go", ".", "nonexistent"} {
		if _, ok := Text(name); ok {
			t.Errorf("Text(%q) found a page", name)
		}
	}
}
