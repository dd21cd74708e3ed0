package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"sync"
	"time"

	"comet/internal/storedir"
)

// Positions file: where this broker is in each upstream's journal.
const (
	positionsName  = "positions"
	positionsTmp   = positionsName + ".tmp"
	positionsMagic = "COMETPS\x00"
	maxPositionKey = 1024
)

// positionFlushEvery is how often changed positions are written.
const positionFlushEvery = time.Second

// Position is where a subscriber is in an upstream's journal: every
// event up to Seq of the journal named ID has been received and recorded.
type Position struct {
	ID  string // the upstream journal's identity, as it sent it
	Seq uint64
}

// positions holds the upstream positions in memory and writes them, when
// changed, at most once a second and at Close, as a whole new file
// renamed over the old. A position written late is only older than the
// truth, which costs a longer replay of events the seen store already
// knows (acknowledged, not relayed again); it is never newer than the
// seen records of the events it covers, since a position arrives after
// its events and each event's seen record is durable before the next
// message is read.
type positions struct {
	root  *os.Root
	dir   string
	log   *slog.Logger
	fmu   sync.Mutex // one flush at a time: they share the temporary file
	mu    sync.Mutex
	m     map[string]Position
	dirty bool
}

// Position returns the position recorded for the upstream named key.
func (j *Journal) Position(key string) (Position, bool) {
	j.positions.mu.Lock()
	defer j.positions.mu.Unlock()
	p, ok := j.positions.m[key]
	return p, ok
}

// SetPosition records the position for the upstream named key. A new
// upstream, or one whose journal identity changed, is written before
// SetPosition returns: without a position, a restart would ask for no
// replay at all. A later position in the same journal is written within
// a second, and at Close.
func (j *Journal) SetPosition(key string, p Position) {
	if len(key) > maxPositionKey || len(p.ID) > maxPositionKey {
		return
	}
	j.positions.mu.Lock()
	old, ok := j.positions.m[key]
	if ok && old == p {
		j.positions.mu.Unlock()
		return
	}
	j.positions.m[key] = p
	j.positions.dirty = true
	j.positions.mu.Unlock()
	if !ok || old.ID != p.ID {
		if err := j.positions.flush(); err != nil {
			j.log.Error("seen: cannot write upstream positions", "err", err)
		}
	}
}

// encodePositions is the file: a header, then per position the
// big-endian uint16 lengths of key and ID, key, ID, the uint64 seq, and
// the CRC-32C of the record so far.
func encodePositions(m map[string]Position) []byte {
	b := storedir.Header(positionsMagic)
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := m[k]
		start := len(b)
		b = binary.BigEndian.AppendUint16(b, uint16(len(k)))
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.ID)))
		b = append(b, k...)
		b = append(b, p.ID...)
		b = binary.BigEndian.AppendUint64(b, p.Seq)
		b = binary.BigEndian.AppendUint32(b, storedir.CRC(b[start:]))
	}
	return b
}

// decodePositions parses a positions file. Any damage is an error: the
// file is written whole and renamed into place, so it is never torn.
func decodePositions(b []byte) (map[string]Position, error) {
	if st, _ := storedir.CheckHeader(b, positionsMagic); st != storedir.HeaderOK {
		return nil, errors.New("bad header")
	}
	m := map[string]Position{}
	for off := storedir.HeaderSize; off < len(b); {
		if len(b)-off < 4 {
			return nil, fmt.Errorf("truncated record at offset %d", off)
		}
		kl, il := int(binary.BigEndian.Uint16(b[off:])), int(binary.BigEndian.Uint16(b[off+2:]))
		n := 4 + kl + il + 8 + 4
		if kl > maxPositionKey || il > maxPositionKey || len(b)-off < n {
			return nil, fmt.Errorf("bad record at offset %d", off)
		}
		r := b[off : off+n]
		if binary.BigEndian.Uint32(r[n-4:]) != storedir.CRC(r[:n-4]) {
			return nil, fmt.Errorf("checksum mismatch at offset %d", off)
		}
		k := string(r[4 : 4+kl])
		m[k] = Position{ID: string(r[4+kl : 4+kl+il]), Seq: binary.BigEndian.Uint64(r[4+kl+il:])}
		off += n
	}
	return m, nil
}

func loadPositions(root *os.Root, dir string, log *slog.Logger) (*positions, error) {
	p := &positions{root: root, dir: dir, log: log, m: map[string]Position{}}
	b, err := readSmall(root, dir, positionsName)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return p, nil
	case err != nil:
		return nil, fmt.Errorf("seen: read %s: %w", dir+string(os.PathSeparator)+positionsName, err)
	}
	m, err := decodePositions(b)
	if err != nil {
		// Losing positions costs full replays, not events: go on.
		log.Error("seen: upstream positions file is damaged: replays start from what upstreams hold",
			"path", dir+string(os.PathSeparator)+positionsName, "err", err)
		return p, nil
	}
	p.m = m
	return p, nil
}

// flush writes the positions if they changed.
func (p *positions) flush() error {
	p.fmu.Lock()
	defer p.fmu.Unlock()
	p.mu.Lock()
	if !p.dirty {
		p.mu.Unlock()
		return nil
	}
	b := encodePositions(p.m)
	p.dirty = false
	p.mu.Unlock()
	if err := replaceFile(p.root, p.dir, positionsTmp, positionsName, b); err != nil {
		p.mu.Lock()
		p.dirty = true
		p.mu.Unlock()
		return fmt.Errorf("seen: write upstream positions in %s: %w", p.dir, err)
	}
	return nil
}

func (p *positions) flushLoop(stop <-chan struct{}) {
	t := time.NewTicker(positionFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			if err := p.flush(); err != nil {
				p.log.Error("seen: cannot write upstream positions", "err", err)
			}
		}
	}
}
