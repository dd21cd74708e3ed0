package voevent

import (
	"bytes"
	"encoding/xml"
	"io"
	"os"
	"testing"
)

var benchEvents = []struct{ name, file string }{
	{"1KB", "../testdata/voevent/event-1k.xml"},
	{"5KB", "../testdata/voevent/event-5k.xml"},
	{"10KB", "../testdata/voevent/event-10k.xml"},
}

func readBench(b *testing.B, file string) []byte {
	raw, err := os.ReadFile(file)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	return raw
}

// BenchmarkParseValidate is what an author's submission costs: the safe
// parse, the document model and full schema validation.
func BenchmarkParseValidate(b *testing.B) {
	for _, ev := range benchEvents {
		b.Run(ev.name, func(b *testing.B) {
			raw := readBench(b, ev.file)
			for b.Loop() {
				e, err := Parse(raw)
				if err != nil {
					b.Fatal(err)
				}
				if err := Validate(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse is what an event from a remote broker costs.
func BenchmarkParse(b *testing.B) {
	for _, ev := range benchEvents {
		b.Run(ev.name, func(b *testing.B) {
			raw := readBench(b, ev.file)
			for b.Loop() {
				if _, err := Parse(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkValidate(b *testing.B) {
	for _, ev := range benchEvents {
		b.Run(ev.name, func(b *testing.B) {
			raw := readBench(b, ev.file)
			e, err := Parse(raw)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if err := Validate(e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEncodingXMLToken is the floor to beat: encoding/xml's Token
// loop, which checks less and builds nothing.
func BenchmarkEncodingXMLToken(b *testing.B) {
	for _, ev := range benchEvents {
		b.Run(ev.name, func(b *testing.B) {
			raw := readBench(b, ev.file)
			for b.Loop() {
				d := xml.NewDecoder(bytes.NewReader(raw))
				for {
					_, err := d.Token()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
