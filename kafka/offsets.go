package kafka

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// The offsets file keeps, for every topic-partition a source has read,
// the offset of the next record to take. It is written whole to a
// temporary file, flushed to disk, and renamed over the old one, so a
// crash leaves either the old positions or the new. It is written only
// after every record below each position is durable in the broker, so a
// position never runs ahead of the events: a crash can only make the
// source read again what the seen store then absorbs as duplicates.
//
// Its text, one line each:
//
//	comet kafka offsets 1
//	TOPIC PARTITION NEXT
//	...
//	crc32c HEX
//
// where HEX is the CRC-32C of every line before it. A file that does not
// read back exactly is refused, never taken as empty: starting over
// from from=end would skip records silently.
const offsetsMagic = "comet kafka offsets 1"

// maxOffsetsFile bounds the file read at start: a line is at most about
// 280 bytes, and a source reads thousands of partitions at most.
const maxOffsetsFile = 16 << 20

// loadOffsets reads path; a missing file is no positions.
func loadOffsets(path string) (map[topicPart]int64, error) {
	out := map[topicPart]int64{}
	if path == "" {
		return out, nil
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kafka: offsets: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("kafka: offsets: %w", err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxOffsetsFile {
		return nil, fmt.Errorf("kafka: offsets file %s is not a regular file under %d bytes", path, maxOffsetsFile)
	}
	data := make([]byte, fi.Size())
	if _, err := f.ReadAt(data, 0); err != nil {
		return nil, fmt.Errorf("kafka: offsets: %w", err)
	}
	if err := parseOffsets(data, out); err != nil {
		return nil, fmt.Errorf("kafka: offsets file %s is damaged (%v): move it aside to start every partition afresh by from=", path, err)
	}
	return out, nil
}

func parseOffsets(data []byte, out map[topicPart]int64) error {
	i := bytes.LastIndex(data, []byte("crc32c "))
	if i < 0 || (i > 0 && data[i-1] != '\n') || !bytes.HasSuffix(data, []byte("\n")) {
		return errors.New("no checksum line at its end")
	}
	body, sum := data[:i], strings.TrimSpace(string(data[i+len("crc32c "):]))
	want, err := strconv.ParseUint(sum, 16, 32)
	if err != nil || crc32.Checksum(body, castagnoli) != uint32(want) {
		return errors.New("checksum does not match")
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	if !sc.Scan() || sc.Text() != offsetsMagic {
		return errors.New("first line is not " + strconv.Quote(offsetsMagic))
	}
	for n := 2; sc.Scan(); n++ {
		f := strings.Fields(sc.Text())
		if len(f) != 3 || !validTopic(f[0]) {
			return fmt.Errorf("line %d is not TOPIC PARTITION NEXT", n)
		}
		p, err1 := strconv.ParseInt(f[1], 10, 32)
		o, err2 := strconv.ParseInt(f[2], 10, 64)
		if err1 != nil || err2 != nil || p < 0 || o < 0 {
			return fmt.Errorf("line %d is not TOPIC PARTITION NEXT", n)
		}
		out[topicPart{f[0], int32(p)}] = o
	}
	return sc.Err()
}

// formatOffsets renders positions in the file's text, sorted.
func formatOffsets(pos map[topicPart]int64) []byte {
	keys := make([]topicPart, 0, len(pos))
	for k := range pos {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].topic != keys[j].topic {
			return keys[i].topic < keys[j].topic
		}
		return keys[i].partition < keys[j].partition
	})
	var b bytes.Buffer
	b.WriteString(offsetsMagic + "\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "%s %d %d\n", k.topic, k.partition, pos[k])
	}
	fmt.Fprintf(&b, "crc32c %08x\n", crc32.Checksum(b.Bytes(), castagnoli))
	return b.Bytes()
}

// saveOffsets replaces path with pos, durably: a temporary file beside
// it, flushed, renamed over it, and the directory flushed.
func saveOffsets(path string, pos map[topicPart]int64) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("kafka: offsets: %w", err)
	}
	_, err = f.Write(formatOffsets(pos))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("kafka: offsets: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return fmt.Errorf("kafka: offsets: flushing the directory: %w", err)
		}
	}
	return nil
}
