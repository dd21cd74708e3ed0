//go:build ignore

// Command agree compares the verdict of comet's validator (voevent.Parse
// then voevent.Validate) with the reference: xmllint --schema
// VOEvent-v2.0.xsd, plus the IVOID rule (an ivorn needs a local part) on the root's ivorn,
// checked here with an independent regular expression. It runs both over
// a corpus of real packets and over mutations generated from every
// packet the reference finds valid, and prints each disagreement.
//
// The reference applies the schema the root's namespace names (xmllint is
// given one schema per document). With -v21 the default schema is
// VOEvent-v2.1-draft.xsd, the corpus packets
// are moved to the 2.1 namespace (version="2.1"), each valid one also
// gets a variant using every element 2.1 adds, the mutations use 2.1's
// names, and the IVOID rule accepts '?' as the local-part separator.
//
// It is a development tool, not a test: it needs xmllint (libxml2) and
// the shared corpus. From the module root:
//
//	go run testdata/voevent/agree.go [-v21] [-corpus DIR] [-schema FILE] [-per N] [-seed S] [-keep DIR]
package main

import (
	"bytes"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"comet/voevent"
)

var (
	corpusDir = flag.String("corpus", "../shared/voevents/real", "directory of real VOEvent packets")
	schema    = flag.String("schema", "", "the schema (default ../shared/schema/VOEvent-v2.0.xsd, or v2.1-draft with -v21)")
	v21       = flag.Bool("v21", false, "check VOEvent 2.1: move the corpus to its namespace, use its schema and names")
	per       = flag.Int("per", 120, "mutations per valid corpus packet")
	seed      = flag.Uint64("seed", 1, "random seed for the mutations")
	keep      = flag.String("keep", "", "copy disagreeing documents into this directory")
	extra     = flag.String("extra", "", "comma-separated globs of more documents to judge as they are (default testdata/voevent/*.xml,testdata/voevent/*/*.xml, or voevent/testdata/v21/*/*.xml with -v21)")
	verbose   = flag.Bool("v", false, "print every disagreement in full")
)

// doc is one document to judge.
type doc struct {
	name   string // corpus file name, or source file + mutation
	kind   string // "corpus" or the mutation kind
	data   []byte
	ref    bool   // reference verdict: valid
	refWhy string // first xmllint error or IVOID reason
	ours   bool
	why    string
}

// ns is the namespace of the documents made here.
var ns = voevent.Namespace

func main() {
	flag.Parse()
	if *v21 {
		ns = voevent.Namespace21
		strayNames = append(strayNames, newNames...)
	}
	if *schema == "" {
		*schema = map[bool]string{false: "../shared/schema/VOEvent-v2.0.xsd", true: "../shared/schema/VOEvent-v2.1-draft.xsd"}[*v21]
	}
	if *extra == "" {
		*extra = map[bool]string{false: "testdata/voevent/*.xml,testdata/voevent/*/*.xml", true: "voevent/testdata/v21/*/*.xml"}[*v21]
	}
	if _, err := exec.LookPath("xmllint"); err != nil {
		fmt.Fprintln(os.Stderr, "agree: xmllint not found")
		os.Exit(2)
	}
	files, err := filepath.Glob(filepath.Join(*corpusDir, "*.xml"))
	if err != nil || len(files) == 0 {
		fmt.Fprintln(os.Stderr, "agree: no corpus in", *corpusDir)
		os.Exit(2)
	}
	sort.Strings(files)
	var corpus []*doc
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintln(os.Stderr, "agree:", err)
			os.Exit(2)
		}
		if *v21 {
			data = to21(data)
		}
		corpus = append(corpus, &doc{name: filepath.Base(f), kind: "corpus", data: data})
	}
	judge(corpus)
	if *v21 {
		// A variant of each valid packet with the elements 2.1 adds, so
		// that the mutations reach them too.
		var enriched []*doc
		for _, d := range corpus {
			if root, err := parseTree(d.data); err == nil && d.ref {
				enrich(root)
				enriched = append(enriched, &doc{name: d.name + "+2.1", kind: "enriched", data: serialize(root)})
			}
		}
		judge(enriched)
		corpus = append(corpus, enriched...)
	}

	rng := rand.New(rand.NewPCG(*seed, 42))
	var muts []*doc
	for _, d := range corpus {
		if !d.ref {
			continue
		}
		root, err := parseTree(d.data)
		if err != nil {
			fmt.Fprintf(os.Stderr, "agree: %s: %v\n", d.name, err)
			continue
		}
		muts = append(muts, mutate(d.name, root, rng, *per)...)
	}
	if *v21 {
		for _, d := range fixed() {
			d.data = to21(d.data)
			muts = append(muts, d)
		}
		muts = append(muts, fixed21()...)
	} else {
		muts = append(muts, fixed()...)
	}
	judge(muts)

	var extras []*doc
	for _, g := range strings.Split(*extra, ",") {
		names, _ := filepath.Glob(g)
		for _, f := range names {
			data, err := os.ReadFile(f)
			if err != nil {
				fmt.Fprintln(os.Stderr, "agree:", err)
				os.Exit(2)
			}
			extras = append(extras, &doc{name: f, kind: "extra", data: data})
		}
	}
	judge(extras)

	report("corpus", corpus)
	report("mutations", muts)
	report("extra", extras)
}

// refused reports documents the broker refuses by design although
// libxml2 reads them (see voevent.Parse): a DOCTYPE, UTF-16, an encoding
// label other than the names of UTF-8, US-ASCII and ISO-8859-1 (glibc's
// iconv, which libxml2 asks, also takes mangled ones like "utf-0008").
func refused(d *doc) bool {
	return bytes.Contains(d.data, []byte("<!DOCTYPE")) ||
		len(d.data) >= 2 && (d.data[0] == 0 || d.data[1] == 0 || d.data[0] == 0xFF && d.data[1] == 0xFE) ||
		strings.Contains(d.why, "unsupported encoding")
}

func report(what string, docs []*doc) {
	kinds := map[string][2]int{} // kind -> checked, disagreements
	bad, valid, byDesign := 0, 0, 0
	for _, d := range docs {
		if d.ref && !d.ours && refused(d) {
			byDesign++
		}
		k := kinds[d.kind]
		k[0]++
		if d.ref {
			valid++
		}
		if d.ref != d.ours && !(d.ref && refused(d)) {
			k[1]++
			bad++
			fmt.Printf("DISAGREE %s [%s]: xmllint+ivoid %s, comet %s\n", d.name, d.kind, verdict(d.ref, d.refWhy), verdict(d.ours, d.why))
			if *verbose {
				fmt.Printf("%s\n----\n", d.data)
			}
			if *keep != "" {
				os.MkdirAll(*keep, 0o755)
				os.WriteFile(filepath.Join(*keep, strings.NewReplacer("/", "_", " ", "_").Replace(d.name)+".xml"), d.data, 0o644)
			}
		}
		kinds[d.kind] = k
	}
	fmt.Printf("%s: %d documents (%d valid per reference), %d disagreements, %d refused by design (DOCTYPE, UTF-16, encoding labels)\n", what, len(docs), valid, bad, byDesign)
	if what != "corpus" {
		var ks []string
		for k := range kinds {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			fmt.Printf("  %-22s %6d checked %4d disagree\n", k, kinds[k][0], kinds[k][1])
		}
	}
}

func verdict(ok bool, why string) string {
	if ok {
		return "valid"
	}
	return "invalid (" + why + ")"
}

// judge fills in both verdicts for docs.
func judge(docs []*doc) {
	dir, err := os.MkdirTemp("", "agree")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	names := make([]string, len(docs))
	for i, d := range docs {
		names[i] = filepath.Join(dir, fmt.Sprintf("d%06d.xml", i))
		if err := os.WriteFile(names[i], d.data, 0o644); err != nil {
			panic(err)
		}
		e, err := voevent.Parse(d.data)
		if err == nil {
			err = voevent.Validate(e)
		}
		d.ours = err == nil
		if err != nil {
			d.why = err.Error()
		}
	}
	// xmllint reports "FILE validates" for each valid file; everything
	// else (parse errors, validity errors) is invalid. The first error
	// line mentioning a file is kept as the reason.
	valid := map[string]bool{}
	why := map[string]string{}
	bySchema := map[string][]string{}
	for i, d := range docs {
		bySchema[schemaOf(d.data)] = append(bySchema[schemaOf(d.data)], names[i])
	}
	for xsd, names := range bySchema {
		judgeWith(xsd, names, dir, valid, why)
	}
	for i, d := range docs {
		d.ref = valid[names[i]]
		d.refWhy = why[names[i]]
		if d.ref {
			if msg := ivoidRule(d.data); msg != "" {
				d.ref, d.refWhy = false, msg
			}
		}
	}
}

// schemaOf is the schema the reference applies to a document: the other
// revision's when the root element is in its namespace, else -schema.
func schemaOf(data []byte) string {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) { return r, nil }
	for {
		tok, err := d.Token()
		if err != nil {
			return *schema
		}
		if se, ok := tok.(xml.StartElement); ok {
			switch {
			case se.Name.Space == voevent.Namespace21 && !*v21:
				return "../shared/schema/VOEvent-v2.1-draft.xsd"
			case se.Name.Space == voevent.Namespace && *v21:
				return "../shared/schema/VOEvent-v2.0.xsd"
			}
			return *schema
		}
	}
}

// judgeWith runs xmllint with the schema xsd over the files names.
func judgeWith(xsd string, names []string, dir string, valid map[string]bool, why map[string]string) {
	for start := 0; start < len(names); start += 400 {
		end := min(start+400, len(names))
		args := append([]string{"--noout", "--nonet", "--schema", xsd}, names[start:end]...)
		out, _ := exec.Command("xmllint", args...).CombinedOutput()
		for _, line := range strings.Split(string(out), "\n") {
			if f, ok := strings.CutSuffix(line, " validates"); ok {
				valid[f] = true
				continue
			}
			if f, rest, ok := strings.Cut(line, ":"); ok && strings.HasPrefix(f, dir) && why[f] == "" {
				why[f] = strings.TrimSpace(rest)
			}
		}
	}
}

// The IVOID rule for ivorns (a non-empty local part), written independently of voevent.
var (
	ivornRE = regexp.MustCompile(`^ivo://[A-Za-z0-9][A-Za-z0-9_~*'().-]{2,}((/[A-Za-z0-9_~*'().-]+)*)#(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})+$`)
	// In 2.1 the local part may follow '?' instead.
	ivornRE21 = regexp.MustCompile(`^ivo://[A-Za-z0-9][A-Za-z0-9_~*'().-]{2,}((/[A-Za-z0-9_~*'().-]+)*)[#?](?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})+$`)
	dotSegRE  = regexp.MustCompile(`/\.\.?(/|$)`)
)

func ivoidRule(data []byte) string {
	v, ok := rootIVORN(data)
	if !ok {
		return "no ivorn"
	}
	re := ivornRE
	if strings.Contains(schemaOf(data), "v2.1") {
		re = ivornRE21
	}
	m := re.FindStringSubmatch(v)
	if m == nil {
		return fmt.Sprintf("ivorn %q breaks the IVOID rule", v)
	}
	if dotSegRE.MatchString(m[1]) {
		return fmt.Sprintf("ivorn %q has a . or .. segment", v)
	}
	return ""
}

// rootIVORN finds the ivorn attribute of the root element of a document
// xmllint found valid, by hand rather than with encoding/xml, whose name
// tables are older than XML 1.0 Fifth Edition: the first '<' not followed
// by '?' or '!' opens the root; its value is unescaped and normalised.
var attrRE = regexp.MustCompile(`^\s+([^\s=]+)\s*=\s*("[^"]*"|'[^']*')`)

func rootIVORN(data []byte) (string, bool) {
	s := string(data)
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 || i+1 >= len(s) {
			return "", false
		}
		s = s[i+1:]
		switch s[0] {
		case '?':
			s = s[strings.Index(s, "?>")+2:]
			continue
		case '!':
			s = s[strings.Index(s, "-->")+3:]
			continue
		}
		break
	}
	s = strings.TrimLeftFunc(s, func(r rune) bool { return !strings.ContainsRune(" \t\r\n/>", r) })
	for {
		m := attrRE.FindStringSubmatch(s)
		if m == nil {
			return "", false
		}
		s = s[len(m[0]):]
		if m[1] == "ivorn" {
			v := m[2][1 : len(m[2])-1]
			v = strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(strings.ReplaceAll(v, "\r\n", "\n"))
			return unescape(v), true
		}
	}
}

var charRefRE = regexp.MustCompile(`&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|apos|quot);`)

func unescape(s string) string {
	return charRefRE.ReplaceAllStringFunc(s, func(r string) string {
		switch r {
		case "&lt;":
			return "<"
		case "&gt;":
			return ">"
		case "&amp;":
			return "&"
		case "&apos;":
			return "'"
		case "&quot;":
			return `"`
		}
		var n int64
		if r[2] == 'x' {
			n, _ = strconv.ParseInt(r[3:len(r)-1], 16, 32)
		} else {
			n, _ = strconv.ParseInt(r[2:len(r)-1], 10, 32)
		}
		return string(rune(n))
	})
}

// ---- a small DOM that round-trips what the mutations need ----

type nodeKind int

const (
	elemNode nodeKind = iota
	textNode
	cdataNode
	commentNode
	piNode
)

type node struct {
	kind     nodeKind
	name     xml.Name // Space is the prefix as written
	attrs    []xml.Attr
	children []*node
	text     string
}

func parseTree(data []byte) (*node, error) {
	dec := xml.NewDecoder(bytes.NewReader(data))
	dec.Strict = true
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) { return r, nil }
	top := &node{kind: elemNode} // document
	stack := []*node{top}
	for {
		tok, err := dec.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		cur := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{kind: elemNode, name: t.Name, attrs: append([]xml.Attr(nil), t.Attr...)}
			cur.children = append(cur.children, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			cur.children = append(cur.children, &node{kind: textNode, text: string(t)})
		case xml.Comment:
			cur.children = append(cur.children, &node{kind: commentNode, text: string(t)})
		case xml.ProcInst:
			if t.Target == "xml" {
				continue
			}
			cur.children = append(cur.children, &node{kind: piNode, name: xml.Name{Local: t.Target}, text: string(t.Inst)})
		}
	}
	for _, c := range top.children {
		if c.kind == elemNode {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no root")
}

func (n *node) clone() *node {
	c := *n
	c.attrs = append([]xml.Attr(nil), n.attrs...)
	c.children = make([]*node, len(n.children))
	for i, ch := range n.children {
		c.children[i] = ch.clone()
	}
	return &c
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

var attrEsc = strings.NewReplacer("&", "&amp;", "<", "&lt;", `"`, "&quot;", "\t", "&#9;", "\n", "&#10;", "\r", "&#13;")
var textEsc = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "\r", "&#13;")

func (n *node) write(b *bytes.Buffer) {
	switch n.kind {
	case textNode:
		b.WriteString(textEsc.Replace(n.text))
	case cdataNode:
		b.WriteString("<![CDATA[" + n.text + "]]>")
	case commentNode:
		b.WriteString("<!--" + n.text + "-->")
	case piNode:
		b.WriteString("<?" + n.name.Local + " " + n.text + "?>")
	case elemNode:
		b.WriteString("<" + qname(n.name))
		for _, a := range n.attrs {
			b.WriteString(" " + qname(a.Name) + `="` + attrEsc.Replace(a.Value) + `"`)
		}
		if len(n.children) == 0 {
			b.WriteString("/>")
			return
		}
		b.WriteString(">")
		for _, c := range n.children {
			c.write(b)
		}
		b.WriteString("</" + qname(n.name) + ">")
	}
}

func serialize(root *node) []byte {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
	root.write(&b)
	b.WriteString("\n")
	return b.Bytes()
}

// ---- mutations ----

// elems lists every element of the tree with its parent, in document order.
type site struct {
	n, parent *node
	idx       int // index in parent.children
}

func sites(root *node) []site {
	out := []site{{n: root, idx: -1}}
	var walk func(p *node)
	walk = func(p *node) {
		for i, c := range p.children {
			if c.kind == elemNode {
				out = append(out, site{c, p, i})
				walk(c)
			}
		}
	}
	walk(root)
	return out
}

var (
	floats = []string{"1", "-1.5e-3", "1e", "1e+", ".5", "5.", ".", "", " 1 ", "\n1\n", "NaN", " NaN", "NaN ", "INF", " INF", "INF ",
		"-INF", "+INF", "inf", "1.0.0", "abc", "1,5", "+1", "0x1", "1e99999", "1 2", "-0", "1E5", "e5", "+-1"}
	dates = []string{"2020-01-01T00:00:00", " 2020-01-01T00:00:00", "2020-01-01T00:00:00 ", "2020-01-01T00:00:00Z ",
		"2020-01-01T24:00:00", "2020-01-01T24:00:01", "2020-02-30T00:00:00", "2020-02-29T12:00:00", "2021-02-29T12:00:00",
		"2020-01-01", "2020-01-01T00:00:00+14:00", "2020-01-01T00:00:00+14:01", "2020-01-01T00:00:00-05:30",
		"0000-01-01T00:00:00", "2020-01-01T00:00:60", "2020-01-01 00:00:00", "2020-01-01T00:00:00.", "12020-01-01T00:00:00",
		"02020-01-01T00:00:00", "2020-01-01T00:00:59.9999999999999999", "2020-01-01T00:00:00.123456", "2020-1-1T0:0:0",
		"1900-02-29T00:00:00", "2000-02-29T00:00:00", "-0001-01-01T00:00:00", "2020-01-01T00:00:00z", "2020-01-01T00:00"}
	uris = []string{"", " ", "http://a b/", "%zz", "http://h:/", "http://h:80/", "x:##", "a#b#c", "1abc:foo", ":x", "ivo://x/y#z",
		"http://[::1]/", "http://[::1/", "a[b]", "a#[b]", "é", `a\b`, "mailto:a@b", "//a@b@c", "x:", " ivo://a.b/c ", "a:b:c"}
	enums = []string{"string", "float", "int", "Float", "bool", " float", "float ", "", "followup", "supersedes", "retraction",
		"FOLLOWUP", "test", "Test", "observation", "utility", "prediction", "observe", "UTC-FK5-GEO", "UTC-FK5-GEO ",
		"TT-ICRS-TOPO", "GPS-FK5-TOPO", "utc-fk5-geo"}
	smalls  = []string{"0", "1", "0.5", "1.00000005", "1.0000001", "-0", "-1e-45", "-0.7e-45", "2", "0.5e", "NaN", "INF", " 0.5 ", "1e0", "10e-1"}
	ids     = []string{"a", "1a", " a ", "a b", "é", "ǅ", "_x", "a:b", "a-b.c", "", "Ⅰ"}
	strs    = []string{"", "x", "  ", "<&>", "é"}
	version = []string{"2.0", " 2.0 ", "2.0\t", "2.1", " 2.1\n", "2.10", "2", "", "2.00", "2. 0", "1.1"}
	roles   = []string{"Editor", "Other", "editor", " Editor", "Editor ", "", "ContactPerson", "WorkPackageLeader", "Author"}
	ivorns  = []string{"ivo://a.b/c#d", "ivo://a.b/c", "ivo://a.b/c#", "ivo://ab/c#d", "ivo://a.b/c/#d", "ivo://a.b//c#d",
		"ivo://a.b/./c#d", "ivo://a.b/c/..#d", "ivo://a.b/c#d#e", "ivo://a.b/c#d%", "ivo://a.b/c#d%41", "ivo://a.b/c#d e", "ivo://a.b/c#é",
		"IVO://a.b/c#d", " ivo://a.b/c#d", "ivo://a.b#d", "ivo://_ab/c#d", "ivo://a.b/c?x#d", "ivo://a.b/c#[d]",
		"ivo://a.b/c#d/e?f", "ivo://a~b/c(d)#x", "ivo://a.b/c%41#d", "ivo://a b/c#d", "http://a.b/c#d",
		"ivo://a.b/c?d", "ivo://a.b/c?", "ivo://a.b?d", "ivo://a.b/c?d?e", "ivo://a.b/c?d#e", "ivo://a.b/c?d/e", "ivo://a.b/c/?d",
		"ivo://a.b/c?d%4", "ivo://a.b/c?é", "ivo://a.b/./c?d"}
	allValues = concat(floats, dates, uris, enums, smalls, ids, strs, version, roles)
)

func concat(ss ...[]string) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s...)
	}
	return out
}

func pick(rng *rand.Rand, s []string) string { return s[rng.IntN(len(s))] }

var strayNames = []string{"Foo", "Param", "Group", "Who", "What", "Description", "Reference", "EventIVORN", "TD", "C1", "Name",
	"ObsDataLocation", "AstroCoords", "Time", "Value", "Field", "Data", "TR", "Table", "Inference", "Author", "Date"}

// mutate returns n random mutations of the tree rooted at root.
func mutate(src string, root *node, rng *rand.Rand, n int) []*doc {
	type mutation struct {
		kind string
		fn   func(r *node, s site) bool // false: not applicable
	}
	muts := []mutation{
		{"insert-new", func(r *node, s site) bool {
			if !*v21 {
				return false
			}
			c := newElement(rng)
			s.n.children = insert(s.n.children, rng.IntN(len(s.n.children)+1), c)
			return true
		}},
		{"remove", func(r *node, s site) bool {
			if s.parent == nil {
				return false
			}
			s.parent.children = append(s.parent.children[:s.idx], s.parent.children[s.idx+1:]...)
			return true
		}},
		{"duplicate", func(r *node, s site) bool {
			if s.parent == nil {
				return false
			}
			s.parent.children = insert(s.parent.children, s.idx+1, s.n.clone())
			return true
		}},
		{"swap-next", func(r *node, s site) bool {
			if s.parent == nil {
				return false
			}
			for j := s.idx + 1; j < len(s.parent.children); j++ {
				if s.parent.children[j].kind == elemNode {
					c := s.parent.children
					c[s.idx], c[j] = c[j], c[s.idx]
					return true
				}
			}
			return false
		}},
		{"rename", func(r *node, s site) bool {
			if s.parent == nil {
				return false
			}
			s.n.name.Local = pick(rng, strayNames)
			return true
		}},
		{"stray-child", func(r *node, s site) bool {
			c := &node{kind: elemNode, name: xml.Name{Local: pick(rng, strayNames)}}
			s.n.children = insert(s.n.children, rng.IntN(len(s.n.children)+1), c)
			return true
		}},
		{"text", func(r *node, s site) bool {
			s.n.children = insert(s.n.children, rng.IntN(len(s.n.children)+1), &node{kind: textNode, text: pick(rng, []string{"x", " x ", "1"})})
			return true
		}},
		{"whitespace", func(r *node, s site) bool {
			s.n.children = insert(s.n.children, rng.IntN(len(s.n.children)+1), &node{kind: textNode, text: pick(rng, []string{" ", "\n  ", "\t"})})
			return true
		}},
		{"cdata", func(r *node, s site) bool {
			s.n.children = insert(s.n.children, rng.IntN(len(s.n.children)+1), &node{kind: cdataNode, text: pick(rng, []string{"", " ", "x"})})
			return true
		}},
		{"comment-pi", func(r *node, s site) bool {
			c := &node{kind: commentNode, text: "c"}
			if rng.IntN(2) == 0 {
				c = &node{kind: piNode, name: xml.Name{Local: "pi"}, text: "x"}
			}
			s.n.children = insert(s.n.children, rng.IntN(len(s.n.children)+1), c)
			return true
		}},
		{"nest-group", func(r *node, s site) bool {
			if s.parent == nil || s.n.name.Local != "Param" && s.n.name.Local != "Group" {
				return false
			}
			g := &node{kind: elemNode, name: xml.Name{Local: "Group"}, children: []*node{s.n}}
			if rng.IntN(2) == 0 {
				g = &node{kind: elemNode, name: xml.Name{Local: "Group"}, children: []*node{g}}
			}
			s.parent.children[s.idx] = g
			return true
		}},
		{"move-up", func(r *node, s site) bool {
			// put a copy of the element into its grandparent
			if s.parent == nil || s.parent == r {
				return false
			}
			r.children = insert(r.children, rng.IntN(len(r.children)+1), s.n.clone())
			return true
		}},
		{"drop-attr", func(r *node, s site) bool {
			if len(s.n.attrs) == 0 {
				return false
			}
			i := rng.IntN(len(s.n.attrs))
			if strings.HasPrefix(qname(s.n.attrs[i].Name), "xmlns") {
				return false
			}
			s.n.attrs = append(s.n.attrs[:i], s.n.attrs[i+1:]...)
			return true
		}},
		{"attr-value", func(r *node, s site) bool {
			if len(s.n.attrs) == 0 {
				return false
			}
			i := rng.IntN(len(s.n.attrs))
			if strings.HasPrefix(qname(s.n.attrs[i].Name), "xmlns") {
				return false
			}
			pool := allValues
			switch s.n.attrs[i].Name.Local {
			case "ivorn":
				pool = ivorns
			case "version":
				pool = version
			case "probability":
				pool = smalls
			case "id":
				pool = ids
			}
			s.n.attrs[i].Value = pick(rng, pool)
			return true
		}},
		{"add-attr", func(r *node, s site) bool {
			a := pick(rng, []string{"foo", "name", "type", "value", "dataType", "id", "unit", "cite", "uri", "role", "ucd", "pos_unit", "ivorn", "altIdentifier",
				"xsi:schemaLocation", "xsi:noNamespaceSchemaLocation", "xsi:nil", "xsi:foo", "xml:lang", "xml:id", "voe:name"})
			name := xml.Name{Local: a}
			if p, l, ok := strings.Cut(a, ":"); ok {
				name = xml.Name{Space: p, Local: l}
				if p == "xsi" {
					s.n.attrs = ensureNS(s.n.attrs, "xsi", "http://www.w3.org/2001/XMLSchema-instance")
				}
				if p == "voe" {
					s.n.attrs = ensureNS(s.n.attrs, "voe", ns)
				}
			}
			for _, x := range s.n.attrs {
				if x.Name == name {
					return false
				}
			}
			s.n.attrs = append(s.n.attrs, xml.Attr{Name: name, Value: pick(rng, allValues)})
			return true
		}},
		{"xsi-type", func(r *node, s site) bool {
			for _, x := range s.n.attrs {
				if x.Name.Local == "type" && x.Name.Space == "xsi" {
					return false
				}
			}
			s.n.attrs = ensureNS(s.n.attrs, "xsi", "http://www.w3.org/2001/XMLSchema-instance")
			s.n.attrs = ensureNS(s.n.attrs, "xs", "http://www.w3.org/2001/XMLSchema")
			s.n.attrs = ensureNS(s.n.attrs, "voe", ns)
			t := pick(rng, []string{"voe:" + s.n.name.Local, "voe:Who", "voe:Param", "xs:string", "xs:token", "xs:float",
				"xs:anyURI", "xs:dateTime", "voe:smallFloat", "voe:dataType", "xs:NCName", "xs:int", "Foo", "voe:Foo", "x:y", "xs:anyType",
				"voe:EventIVORN", "voe:coord_value", "voe:Name", "voe:TimeInterval", "voe:Error2", "voe:contributorRole", "voe:idValues", "voe:TimeFrameType", "xs:ID"})
			s.n.attrs = append(s.n.attrs, xml.Attr{Name: xml.Name{Space: "xsi", Local: "type"}, Value: t})
			return true
		}},
		{"namespace", func(r *node, s site) bool {
			switch rng.IntN(3) {
			case 0: // default namespace on this element
				s.n.attrs = append(s.n.attrs, xml.Attr{Name: xml.Name{Local: "xmlns"}, Value: pick(rng, []string{voevent.Namespace, "urn:x", ""})})
			case 1: // qualify it with the voe prefix
				s.n.attrs = ensureNS(s.n.attrs, "voe", ns)
				s.n.name.Space = "voe"
			default: // another prefix
				s.n.attrs = ensureNS(s.n.attrs, "x", pick(rng, []string{"urn:x", voevent.Namespace21, voevent.Namespace}))
				s.n.name.Space = "x"
			}
			return true
		}},
		{"root-attr", func(r *node, s site) bool {
			name := pick(rng, []string{"ivorn", "ivorn", "version", "role"})
			pool := map[string][]string{"ivorn": ivorns, "version": version, "role": enums}[name]
			for i, a := range r.attrs {
				if a.Name.Space == "" && a.Name.Local == name {
					if rng.IntN(5) == 0 {
						r.attrs = append(r.attrs[:i], r.attrs[i+1:]...)
					} else {
						r.attrs[i].Value = pick(rng, pool)
					}
					return true
				}
			}
			r.attrs = append(r.attrs, xml.Attr{Name: xml.Name{Local: name}, Value: pick(rng, pool)})
			return true
		}},
		{"typed-text", func(r *node, s site) bool {
			var leaves []*node
			for _, t := range sites(r) {
				switch t.n.name.Local {
				case "Date", "C1", "C2", "C3", "Error2Radius", "Error", "TimeOffset", "AuthorIVORN", "logoURL", "EventIVORN":
					leaves = append(leaves, t.n)
				}
			}
			if len(leaves) == 0 {
				return false
			}
			n := leaves[rng.IntN(len(leaves))]
			pool := uris
			switch n.name.Local {
			case "Date":
				pool = dates
			case "C1", "C2", "C3", "Error2Radius", "Error", "TimeOffset":
				pool = floats
			}
			v := pick(rng, pool)
			if rng.IntN(3) == 0 { // split by a comment: libxml2 joins the text
				i := rng.IntN(len(v) + 1)
				n.children = []*node{{kind: textNode, text: v[:i]}, {kind: commentNode, text: "c"}, {kind: textNode, text: v[i:]}}
			} else {
				n.children = []*node{{kind: textNode, text: v}}
			}
			return true
		}},
		{"leaf-text", func(r *node, s site) bool {
			for _, c := range s.n.children {
				if c.kind == elemNode {
					return false
				}
			}
			pool := allValues
			switch s.n.name.Local {
			case "Date":
				pool = dates
			case "C1", "C2", "C3", "Error2Radius", "Error", "TimeOffset":
				pool = floats
			case "AuthorIVORN", "logoURL":
				pool = uris
			}
			s.n.children = []*node{{kind: textNode, text: pick(rng, pool)}}
			return true
		}},
	}
	all := sites(root)
	var out []*doc
	for tries := 0; len(out) < n && tries < 20*n; tries++ {
		m := muts[rng.IntN(len(muts))]
		r := root.clone()
		ss := sites(r)
		i := rng.IntN(len(all))
		if m.kind == "attr-value" || m.kind == "drop-attr" {
			// favour the root: its attributes carry the required ones
			if rng.IntN(4) == 0 {
				i = 0
			}
		}
		if !m.fn(r, ss[i]) {
			continue
		}
		path := qname(ss[i].n.name)
		data := serialize(r)
		enc := "utf8"
		if rng.IntN(8) == 0 {
			data, enc = encode(data, rng)
		}
		out = append(out, &doc{name: fmt.Sprintf("%s#%d:%s@%s(%s)", src, len(out), m.kind, path, enc), kind: m.kind, data: data})
	}
	return out
}

// encode rewrites a serialised document: CRLF line ends, a byte-order
// mark, or Latin-1 when every character fits.
func encode(data []byte, rng *rand.Rand) ([]byte, string) {
	switch rng.IntN(3) {
	case 0:
		return bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n")), "crlf"
	case 1:
		return append([]byte("\xEF\xBB\xBF"), data...), "bom"
	}
	var out []byte
	for _, r := range string(data) {
		if r > 0xFF {
			return data, "utf8"
		}
		out = append(out, byte(r))
	}
	return bytes.Replace(out, []byte(`encoding="UTF-8"`), []byte(`encoding="ISO-8859-1"`), 1), "latin1"
}

func insert(s []*node, i int, n *node) []*node {
	s = append(s, nil)
	copy(s[i+1:], s[i:])
	s[i] = n
	return s
}

func ensureNS(attrs []xml.Attr, prefix, uri string) []xml.Attr {
	for _, a := range attrs {
		if a.Name.Space == "xmlns" && a.Name.Local == prefix {
			return attrs
		}
	}
	return append(attrs, xml.Attr{Name: xml.Name{Space: "xmlns", Local: prefix}, Value: uri})
}

// fixed are hand-written documents for rules the corpus mutations reach
// rarely: root namespaces and the smallest events.
func fixed() []*doc {
	const head = `<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d" role="test" version="2.0">`
	bodies := []string{
		"", "<What/>", "<How/>", "<Why/>", "<Citations/>", "<WhereWhen/>", "<Reference uri=\"x\"> </Reference>",
		"<Who><Author/></Who>", "<What><Table/></What>", "<What><Table><Data/></Table></What>",
		"<What><Group><Group/></Group></What>", "<Citations><EventIVORN/><Description/><EventIVORN/></Citations>",
		"<WhereWhen><ObsDataLocation><ObservatoryLocation/><ObservationLocation><AstroCoordSystem/><AstroCoords/></ObservationLocation></ObsDataLocation></WhereWhen>",
	}
	var out []*doc
	for i, b := range bodies {
		out = append(out, &doc{name: fmt.Sprintf("fixed#%d", i), kind: "fixed", data: []byte(head + b + "</voe:VOEvent>")})
	}
	roots := []string{
		`<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d" version="2.0"/>`,
		`<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d" version="2.0"><Who xmlns=""/></VOEvent>`,
		`<VOEvent xmlns="http://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d" version="2.0"><Who/></VOEvent>`,
		`<VOEvent ivorn="ivo://a.b/c#d" version="2.0"/>`,
		`<voe:VOEvent xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.1" ivorn="ivo://a.b/c#d" version="2.0"/>`,
		`<voe:VOEvent xmlns:voe="https://www.ivoa.net/xml/VOEvent/v2.0" ivorn="ivo://a.b/c#d" version="2.0"/>`,
		`<voe:Who xmlns:voe="http://www.ivoa.net/xml/VOEvent/v2.0"/>`,
		`<trn:Transport xmlns:trn="http://www.telescope-networks.org/xml/Transport/v1.1" version="1.0" role="ack"/>`,
	}
	for i, r := range roots {
		out = append(out, &doc{name: fmt.Sprintf("root#%d", i), kind: "root", data: []byte(r)})
	}
	return out
}

// ---- VOEvent 2.1 ----

// newNames are the element names 2.1 adds, for stray and renamed elements.
var newNames = []string{"Contributor", "TimeInterval", "ISOTimeStart", "ISOTimeStop", "PositionName", "Error2", "Error3",
	"TimeFrame", "SpaceFrame", "ReferencePosition", "SpaceRefFrame", "CoordFlavor", "TimeInstant", "Error", "Position2D", "Error2Radius"}

var versionAttr = regexp.MustCompile(`\bversion\s*=\s*("2\.0"|'2\.0')`)

// to21 moves a document to the 2.1 namespace: every mention of the 2.0
// namespace, and the first version="2.0" (the root's, in these packets).
func to21(data []byte) []byte {
	data = bytes.ReplaceAll(data, []byte(voevent.Namespace), []byte(voevent.Namespace21))
	if loc := versionAttr.FindIndex(data); loc != nil {
		data = slices.Concat(data[:loc[0]], []byte(`version="2.1"`), data[loc[1]:])
	}
	return data
}

func elem(name string, children ...*node) *node {
	return &node{kind: elemNode, name: xml.Name{Local: name}, children: children}
}

func text(s string) *node { return &node{kind: textNode, text: s} }

func leaf(name, value string) *node { return elem(name, text(value)) }

// enrich adds, where 2.1 allows them, a Contributor to each Author, a
// TimeFrame and SpaceFrame to each AstroCoordSystem, a PositionName to
// each AstroCoords, an Error2 or Error3 to each position, attributes to
// the coordinates, and turns the first TimeInstant into a TimeInterval.
func enrich(root *node) {
	interval := false
	for _, s := range sites(root) {
		n := s.n
		switch n.name.Local {
		case "Author":
			c := leaf("Contributor", "A. Person")
			c.attrs = []xml.Attr{{Name: xml.Name{Local: "role"}, Value: "Editor"}, {Name: xml.Name{Local: "altIdentifier"}, Value: "https://orcid.org/0000-0001-2345-6789"}}
			n.children = append(n.children, c)
		case "AstroCoordSystem":
			n.children = []*node{elem("TimeFrame", leaf("Name", "t"), leaf("TimeScale", "UTC")), elem("SpaceFrame", leaf("SpaceRefFrame", "ICRS"), leaf("CoordFlavor", "SPHERICAL"))}
		case "AstroCoords":
			at := 0
			for i, c := range n.children {
				if c.kind == elemNode && c.name.Local == "Time" {
					at = i + 1
				}
			}
			n.children = insert(n.children, at, leaf("PositionName", "Jupiter"))
		case "Position2D":
			n.children = append(n.children, elem("Error2", leaf("C1", "0.1"), leaf("C2", "0.2")))
		case "Position3D":
			n.children = append(n.children, elem("Error3", leaf("C3", "1")))
		case "C1", "C2", "C3":
			n.attrs = append(n.attrs, xml.Attr{Name: xml.Name{Local: "ucd"}, Value: "pos.eq.ra"}, xml.Attr{Name: xml.Name{Local: "pos_unit"}, Value: "deg"})
		case "TimeInstant":
			if !interval {
				interval = true
				n.name.Local = "TimeInterval"
				n.children = []*node{leaf("ISOTimeStart", "2020-01-01T00:00:00"), leaf("ISOTimeStop", "2020-01-01T00:01:00")}
			}
		}
	}
}

// newElement returns one of the elements 2.1 adds, with typical content.
func newElement(rng *rand.Rand) *node {
	switch rng.IntN(8) {
	case 0:
		c := leaf("Contributor", "x")
		if rng.IntN(2) == 0 {
			c.attrs = []xml.Attr{{Name: xml.Name{Local: "role"}, Value: pick(rng, roles)}}
		}
		return c
	case 1:
		return elem("TimeInterval", leaf("ISOTimeStart", "a"), leaf("ISOTimeStop", "b"))
	case 2:
		return leaf("PositionName", "M31")
	case 3:
		return elem("Error2", leaf("C1", pick(rng, floats)))
	case 4:
		return elem("Error3", leaf("C2", "1"), leaf("C3", "2"))
	case 5:
		return elem("TimeFrame", leaf("TimeScale", "TT"))
	case 6:
		return elem("SpaceFrame", leaf("Name", "n"))
	}
	return elem("TimeInstant", leaf("ISOTime", "2020-01-01T00:00:00"))
}

// fixed21 are hand-written 2.1 documents: the root, the ivorn
// separators and duplicate xs:ID values.
func fixed21() []*doc {
	const where = `<WhereWhen id="%s"><ObsDataLocation><ObservatoryLocation><AstroCoordSystem id="%s"/></ObservatoryLocation><ObservationLocation><AstroCoordSystem id="%s"><TimeFrame id="%s"/><SpaceFrame id="%s"/></AstroCoordSystem><AstroCoords/></ObservationLocation></ObsDataLocation></WhereWhen>`
	var out []*doc
	add := func(kind, d string) {
		out = append(out, &doc{name: fmt.Sprintf("fixed21#%d", len(out)), kind: kind, data: []byte(d)})
	}
	for _, ids := range [][5]string{{"a", "b", "c", "d", "e"}, {"a", "a", "c", "d", "e"}, {"a", "b", "c", "d", "a"}, {"a", " b", "b ", "d", "e"},
		{"a", "b", "c", "c", "e"}, {"x1", "UTC-FK5-GEO", "UTC-FK5-GEO", "t", "s"}} {
		add("ids", fmt.Sprintf(`<voe:VOEvent xmlns:voe="%s" ivorn="ivo://a.b/c?d" version="2.1">`+where+`</voe:VOEvent>`, ns, ids[0], ids[1], ids[2], ids[3], ids[4]))
	}
	for _, iv := range ivorns {
		add("ivorn", fmt.Sprintf(`<voe:VOEvent xmlns:voe="%s" ivorn="%s" version="2.1"/>`, ns, attrEsc.Replace(iv)))
	}
	for _, r := range []string{
		`<VOEvent xmlns="` + voevent.Namespace21 + `" ivorn="ivo://a.b/c#d" version="2.1"/>`,
		`<voe:VOEvent xmlns:voe="` + voevent.Namespace21 + `" ivorn="ivo://a.b/c#d" version="2.0"/>`,
		`<voe:VOEvent xmlns:voe="` + voevent.Namespace + `" ivorn="ivo://a.b/c?d" version="2.0"/>`,
		`<voe:VOEvent xmlns:voe="` + voevent.Namespace21 + `" xmlns:v="` + voevent.Namespace + `" ivorn="ivo://a.b/c#d" version="2.1"><Who><v:Author/></Who></voe:VOEvent>`,
	} {
		add("root", r)
	}
	return out
}
