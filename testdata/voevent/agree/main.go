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
//	go run ./testdata/voevent/agree [-v21] [-corpus DIR] [-schema FILE] [-per N] [-seed S] [-keep DIR]
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
	"sort"
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
