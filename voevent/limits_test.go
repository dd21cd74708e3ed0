package voevent

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"
)

// hostile returns 1 MiB documents built to cost as much as possible.
func hostile() map[string]string {
	const size = 1 << 20
	fill := func(prefix, unit, suffix string) string {
		n := (size - len(prefix) - len(suffix)) / len(unit)
		return prefix + strings.Repeat(unit, n) + suffix
	}
	var nsDecls strings.Builder
	for i := range MaxAttrs - 1 {
		fmt.Fprintf(&nsDecls, ` xmlns:p%d="urn:%d"`, i, i)
	}
	return map[string]string{
		"deep":           fill("", "<a>", ""),
		"wide-attrs":     fill("<a", ` b=""`, "/>"),
		"elements":       fill("<r>", "<b/>", "</r>"),
		"attributes":     fill("<r>", `<b c="" d="" e="" f=""/>`, "</r>"),
		"namespaces":     fill("<r"+nsDecls.String()+">", "<b/>", "</r>"),
		"comments":       fill("<r>", "<!---->", "</r>"),
		"text-comments":  fill("<r>", "x<!---->", "</r>"),
		"pis":            fill("<r>", "<?p?>", "</r>"),
		"text":           fill("<r>", "x", "</r>"),
		"char-refs":      fill("<r>", "&#65;", "</r>"),
		"cdata":          fill("<r>", "<![CDATA[]]>", "</r>"),
		"attribute-text": fill(`<r a="`, "x", `"/>`),
		"attribute-refs": fill(`<r a="`, "&#9;", `"/>`),
		"long-name":      fill("<", "a", "/>"),
		"dup-attr-check": fill("<r>", "<b"+attrs(MaxAttrs)+"/>", "</r>"),
		"unclosed":       fill("<r>", "<!-- ", ""),
		"lines":          fill("<r>", "\n", "</r>"),
	}
}

// TestParseBounded checks that no 1 MiB document takes long or much
// memory: the limits stop the expensive ones early. The worst cases are
// documents just under MaxDocNodes: 300,000 model nodes of 48 bytes,
// whose slice the builder grows by appending (about five times the final
// size allocated in all) before the finished Document copies it.
func TestParseBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	for name, doc := range hostile() {
		raw := []byte(doc)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		start := time.Now()
		e, err := Parse(raw)
		if err == nil {
			Validate(e)
		}
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%-15s %8v %6.1f MB allocated, err: %.60v", name, elapsed.Round(time.Millisecond), float64(alloc)/1e6, err)
		if alloc > 100<<20 {
			t.Errorf("%s: %d bytes allocated for a 1 MiB document", name, alloc)
		}
	}
}
