package journal

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"comet/internal/storedir"
)

// ErrStopRead may be returned by a ReadJournal callback to end the read
// early without an error.
var ErrStopRead = errors.New("seen: stop reading the journal")

// ReadJournal calls fn, in order, for every journaled event with a
// sequence number in (after, upto], as far as the journal still holds
// them: a request for more than it holds gets what it holds. The record's
// Raw is only valid during the call. Reading takes no lock across I/O, so
// writers and trimming go on meanwhile; a segment trimmed while it is
// being read ends it early, and a record damaged since Open is skipped
// with an ERROR. fn's error, other than ErrStopRead, is returned.
func (j *Journal) ReadJournal(after, upto uint64, fn func(Record) error) error {
	return j.read(after, upto, fn)
}

// chunk is the part of one segment a read covers, captured under mu.
type chunk struct {
	name string
	seqs []uint64
	offs []uint32
	size int64
}

func (j *Journal) read(after, upto uint64, fn func(Record) error) error {
	var buf []byte
	for after < upto {
		j.mu.Lock()
		si, ei := j.find(after)
		if si == len(j.segs) {
			j.mu.Unlock()
			return nil
		}
		seg := j.segs[si]
		c := chunk{name: seg.name, seqs: seg.seqs[ei:len(seg.seqs):len(seg.seqs)], offs: seg.offs[ei:len(seg.offs):len(seg.offs)], size: seg.size}
		j.mu.Unlock()
		if len(c.seqs) == 0 {
			return nil
		}
		last, err := j.readChunk(c, upto, &buf, fn)
		if errors.Is(err, ErrStopRead) {
			return nil
		}
		if err != nil {
			return err
		}
		if last <= after {
			return nil
		}
		after = last
	}
	return nil
}

// readChunk reads the records of c up to upto and returns the last
// sequence number it passed.
func (j *Journal) readChunk(c chunk, upto uint64, buf *[]byte, fn func(Record) error) (uint64, error) {
	f, err := j.root.Open(c.name)
	if errors.Is(err, fs.ErrNotExist) {
		j.log.Warn("seen: journal segment trimmed while it was being read", "path", j.path(c.name))
		return c.seqs[len(c.seqs)-1], nil
	}
	if err != nil {
		return 0, fmt.Errorf("seen: read journal %s: %w", j.path(c.name), err)
	}
	defer f.Close()
	start := int64(c.offs[0])
	br := bufio.NewReaderSize(io.NewSectionReader(f, start, c.size-start), 256<<10)
	pos := start
	var hb [jHeaderSize]byte
	var last uint64
	for i, seq := range c.seqs {
		if seq > upto {
			return last, nil
		}
		last = seq
		if off := int64(c.offs[i]); off != pos {
			// Damage skipped at Open lies between: jump over it.
			br.Reset(io.NewSectionReader(f, off, c.size-off))
			pos = off
		}
		if _, err := io.ReadFull(br, hb[:]); err != nil {
			return last, fmt.Errorf("seen: read journal %s at offset %d: %w", j.path(c.name), pos, err)
		}
		h, ok := decodeJournalHead(hb[:])
		if ok && h.seq == seq {
			if cap(*buf) < int(h.length) {
				*buf = make([]byte, h.length)
			}
			body := (*buf)[:h.length]
			if _, err := io.ReadFull(br, body); err != nil {
				return last, fmt.Errorf("seen: read journal %s at offset %d: %w", j.path(c.name), pos, err)
			}
			pos += jHeaderSize + int64(h.length)
			if h.checks(hb[:], body) {
				if err := fn(Record{Seq: seq, Received: h.unixNano, Key: h.key, Raw: body}); err != nil {
					return last, err
				}
				continue
			}
		}
		j.log.Error("seen: journal record damaged since the journal was opened: skipped",
			"path", j.path(c.name), "offset", c.offs[i], "seq", seq)
		pos = -1 // force a jump to the next record's offset
	}
	return last, nil
}

// Reader is a read-only view of a journal, for "comet journal".
type Reader struct {
	j *Journal
}

// OpenReader opens the journal in the store directory dir read-only. It
// takes no lock and changes nothing, so it works while a broker is
// running on dir: segments are only ever appended to or deleted whole,
// the end of the segment being written is read up to its last whole
// record, and a segment trimmed meanwhile is skipped. Damage is reported
// to log but not repaired.
func OpenReader(dir string, log *slog.Logger) (*Reader, error) {
	if log == nil {
		log = slog.Default()
	}
	if _, err := os.Lstat(dir); err != nil {
		return nil, fmt.Errorf("seen: open journal: %w", err)
	}
	root, err := storedir.Open(dir)
	if err != nil {
		return nil, err
	}
	j := &Journal{root: root, dir: dir, log: log, now: time.Now, readOnly: true}
	if err := j.init(); err != nil {
		root.Close()
		return nil, err
	}
	return &Reader{j: j}, nil
}

// Read is Journal.ReadJournal on the read-only view.
func (r *Reader) Read(after, upto uint64, fn func(Record) error) error {
	return r.j.read(after, upto, fn)
}

// Close releases the directory.
func (r *Reader) Close() error { return r.j.root.Close() }

// nthLast returns the sequence number before the n-th newest record, 0
// if the journal holds no more than n.
func (j *Journal) nthLast(n int) uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i := len(j.segs) - 1; i >= 0; i-- {
		seqs := j.segs[i].seqs
		if len(seqs) > n {
			return seqs[len(seqs)-n-1]
		}
		n -= len(seqs)
	}
	return 0
}
