package kafka

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// codec is the compression of a record batch, bits 0-2 of its attributes.
type codec int8

const (
	codecNone   codec = 0
	codecGzip   codec = 1
	codecSnappy codec = 2
	codecLZ4    codec = 3
	codecZstd   codec = 4
)

func (c codec) String() string {
	switch c {
	case codecNone:
		return "none"
	case codecGzip:
		return "gzip"
	case codecSnappy:
		return "snappy"
	case codecLZ4:
		return "lz4"
	case codecZstd:
		return "zstd"
	}
	return fmt.Sprintf("codec %d", int8(c))
}

// errOverLimit is wrapped by every refusal of a payload that would
// decompress to more than the caller allowed, so that the consumer can
// count such refusals apart from damaged data: a few kilobytes of zstd or
// gzip can expand to gigabytes, and the limit is what keeps one hostile
// batch from taking the broker's memory.
var errOverLimit = errors.New("decompresses to more than the limit")

// errUnsupportedCodec is wrapped when a batch uses a codec the standard
// library cannot decode (snappy, lz4), so that the consumer can say which
// codec a producer would have to stop using.
var errUnsupportedCodec = errors.New("compression not supported")

// decompress returns src decoded with c, refusing output longer than
// limit bytes with an error wrapping errOverLimit. The result of
// codecNone is src itself.
func decompress(c codec, src []byte, limit int) ([]byte, error) {
	switch c {
	case codecNone:
		if len(src) > limit {
			return nil, fmt.Errorf("uncompressed records of %d bytes: %w of %d bytes", len(src), errOverLimit, limit)
		}
		return src, nil
	case codecGzip:
		return gunzip(src, limit)
	case codecZstd:
		return unzstd(src, limit)
	case codecSnappy, codecLZ4:
		return nil, fmt.Errorf("%v: %w (only none, gzip and zstd are)", c, errUnsupportedCodec)
	}
	return nil, fmt.Errorf("unknown codec %d: %w", int8(c), errUnsupportedCodec)
}

// gunzip decodes a gzip stream of one or more members (a producer may
// concatenate them), reading at most limit+1 bytes of output so that a
// bomb is refused after limit bytes rather than expanded in full.
func gunzip(src []byte, limit int) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("gzip: %w", err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("gzip payload of %d bytes %w of %d bytes", len(src), errOverLimit, limit)
	}
	return out, nil
}

// ELF64 constants for the in-memory file that carries a zstd frame to
// the standard library's decoder.
const (
	elfHeaderSize  = 64
	elfSectionSize = 64
	elfChdrSize    = 24
	elfCompressed  = 0x800 // SHF_COMPRESSED
	elfZstd        = 2     // ELFCOMPRESS_ZSTD
)

// elfNames is the section-name string table: the empty name, the
// compressed section's name and the table's own.
const elfNames = "\x00.z\x00.shstrtab\x00"

// unzstd decodes zstd frames with the standard library's decoder (RFC
// 8878, no dictionaries), which Go exposes only through debug/elf: the
// frames are wrapped in a minimal ELF64 file whose one SHF_COMPRESSED
// section says ELFCOMPRESS_ZSTD, and read back through Section.Open. The
// output is read through a limit of limit+1 bytes: Section.Data would
// read only as much as the section header declares and silently drop the
// rest, turning a bomb into truncated data without an error.
func unzstd(src []byte, limit int) ([]byte, error) {
	f, err := elf.NewFile(bytes.NewReader(zstdELF(src, limit)))
	if err != nil {
		return nil, fmt.Errorf("zstd: wrapping the frame: %w", err)
	}
	var sec *elf.Section
	for _, s := range f.Sections {
		if s.Name == ".z" {
			sec = s
		}
	}
	if sec == nil {
		return nil, errors.New("zstd: wrapping the frame: section missing")
	}
	out, err := io.ReadAll(io.LimitReader(sec.Open(), int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("zstd: %w", err)
	}
	if len(out) > limit {
		return nil, fmt.Errorf("zstd payload of %d bytes %w of %d bytes", len(src), errOverLimit, limit)
	}
	return out, nil
}

// zstdELF lays out the ELF64 file around frame: header, the compressed
// section (compression header, then the frame), the name table, then the
// null, compressed and name-table section headers. The compression
// header's size is informational here: Section.Open reads until the
// decoder ends, and unzstd bounds that itself.
func zstdELF(frame []byte, limit int) []byte {
	le := binary.LittleEndian
	secOff := elfHeaderSize
	secLen := elfChdrSize + len(frame)
	namesOff := secOff + secLen
	shOff := namesOff + len(elfNames)
	b := make([]byte, shOff+3*elfSectionSize)

	copy(b, "\x7fELF")
	b[4] = 2                // ELFCLASS64
	b[5] = 1                // ELFDATA2LSB
	b[6] = 1                // EV_CURRENT
	le.PutUint16(b[16:], 1) // ET_REL
	le.PutUint16(b[18:], 0) // EM_NONE
	le.PutUint32(b[20:], 1) // EV_CURRENT
	le.PutUint64(b[40:], uint64(shOff))
	le.PutUint16(b[52:], elfHeaderSize)
	le.PutUint16(b[58:], elfSectionSize)
	le.PutUint16(b[60:], 3) // e_shnum
	le.PutUint16(b[62:], 2) // e_shstrndx

	le.PutUint32(b[secOff:], elfZstd)
	le.PutUint64(b[secOff+8:], uint64(limit))
	le.PutUint64(b[secOff+16:], 1)
	copy(b[secOff+elfChdrSize:], frame)
	copy(b[namesOff:], elfNames)

	sh := b[shOff+elfSectionSize:]
	le.PutUint32(sh[0:], 1) // ".z"
	le.PutUint32(sh[4:], uint32(elf.SHT_PROGBITS))
	le.PutUint64(sh[8:], elfCompressed)
	le.PutUint64(sh[24:], uint64(secOff))
	le.PutUint64(sh[32:], uint64(secLen))
	le.PutUint64(sh[48:], 1)

	sh = b[shOff+2*elfSectionSize:]
	le.PutUint32(sh[0:], 4) // ".shstrtab"
	le.PutUint32(sh[4:], uint32(elf.SHT_STRTAB))
	le.PutUint64(sh[24:], uint64(namesOff))
	le.PutUint64(sh[32:], uint64(len(elfNames)))
	le.PutUint64(sh[48:], 1)
	return b
}
