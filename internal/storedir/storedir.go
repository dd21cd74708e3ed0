// Package storedir holds the file primitives the broker's two on-disk
// stores share, the seen store and the journal, which live in one
// directory under one lock: opening that directory and its files
// without following a link another user could plant, making writes and
// renames durable, and the 16-byte header and CRC-32C their files use.
//
// It is a package of its own so that the journal can use these
// primitives without the seen store depending on the journal. It keeps
// no state and knows nothing of either store's records.
package storedir

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// File is what a store needs of an open file; tests substitute one that
// fails like a full disk.
type File interface {
	io.ReaderAt
	io.WriterAt
	Sync() error
	Truncate(size int64) error
	Close() error
}

// Open opens the store directory, creating it and any missing parents
// with mode 0700, and refuses it if it is unsafe:
//
//   - a symbolic link, even to a good directory: whoever can change the
//     link (or the directory holding it) could later point the store at
//     a directory of his choosing, so the real directory must be named;
//   - not a directory;
//   - on Unix, owned by another user or writable by group or others,
//     sticky bit or not (so /tmp itself is refused): another user could
//     then plant files or links in it, or take its lock first.
//
// The checks are made on the directory as opened, and the opened directory
// is confirmed to be the one examined by name, so it cannot be swapped in
// between. Only the last component of the path is checked; its parents
// are the operator's choice. Every file of the store is then opened through
// the returned Root (see [OpenFile]).
func Open(dir string) (*os.Root, error) {
	clean := filepath.Clean(dir) // a trailing slash would make Lstat follow a link
	fi, err := os.Lstat(clean)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(clean, 0o700); err != nil {
			return nil, fmt.Errorf("seen: create store directory %s: %w", dir, err)
		}
		// Make the new directory's entry durable, or a power loss could
		// take it and every key recorded in it.
		if err := syncDir(filepath.Dir(clean)); err != nil {
			return nil, fmt.Errorf("seen: create store directory %s: %w", dir, err)
		}
		fi, err = os.Lstat(clean)
	}
	if err != nil {
		return nil, fmt.Errorf("seen: open store %s: %w", dir, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fmt.Errorf("seen: store directory %s is a symbolic link; it is refused because "+
			"whoever can change the link could move the store: give the directory it points to as --eventdb", dir)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("seen: open store %s: not a directory", dir)
	}
	root, err := os.OpenRoot(clean)
	if err != nil {
		return nil, fmt.Errorf("seen: open store %s: %w", dir, err)
	}
	opened, err := root.Stat(".")
	if err == nil && !os.SameFile(fi, opened) {
		err = fmt.Errorf("seen: store directory %s was replaced while it was being opened", dir)
	}
	if err == nil {
		err = checkDir(dir, opened)
	}
	if err != nil {
		root.Close()
		return nil, err
	}
	return root, nil
}

// OpenFile opens the file name of the store directory dir, opened as
// root, creating it with mode 0600 if flag says so, without following a
// symbolic link. os.Root keeps every open inside the directory, but it
// follows a link that stays inside (and ignores O_NOFOLLOW for the last
// component), so the name is also examined: before the open it must not
// be a link or anything but a regular file, and after it the name must
// still be the file opened. Callers never pass O_TRUNC, so even a link
// swapped in between the two checks is refused before anything is read
// or written through it.
func OpenFile(root *os.Root, dir, name string, flag int) (*os.File, error) {
	if fi, err := root.Lstat(name); err == nil && !fi.Mode().IsRegular() {
		return nil, NotRegular(dir, name, fi)
	}
	f, err := root.OpenFile(name, flag, 0o600)
	if err != nil {
		if fi, lerr := root.Lstat(name); lerr == nil && !fi.Mode().IsRegular() {
			return nil, NotRegular(dir, name, fi)
		}
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		var named fs.FileInfo
		if named, err = root.Lstat(name); err == nil && !os.SameFile(fi, named) {
			err = NotRegular(dir, name, named)
		}
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// NotRegular is the error, for callers to wrap, for the file name of dir
// that is a link or not a file (fi describes it).
func NotRegular(dir, name string, fi fs.FileInfo) error {
	p := filepath.Join(dir, name)
	if fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%s is a symbolic link, which the store does not follow: remove it", p)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file: remove it", p)
	}
	return fmt.Errorf("%s was replaced while it was being opened", p)
}

// SyncRoot fsyncs the directory opened as root, so a file created or
// renamed in it survives a power loss.
func SyncRoot(root *os.Root) error {
	d, err := root.Open(".")
	if err != nil {
		return err
	}
	return syncClose(d)
}

// syncDir fsyncs the directory dir.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return syncClose(d)
}

func syncClose(d *os.File) error {
	err := d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// File header: 8 bytes of magic, big-endian uint32 version, CRC-32C of
// those 12 bytes.
const (
	HeaderSize = 16
	Version    = 1
)

// castagnoli is CRC-32C: hardware-accelerated on amd64 and arm64, and
// better at detecting the burst errors of storage than IEEE CRC-32.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// CRC is the CRC-32C of b.
func CRC(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// CRCUpdate extends crc, a CRC-32C, with b.
func CRCUpdate(crc uint32, b []byte) uint32 { return crc32.Update(crc, castagnoli, b) }

// Header returns a 16-byte file header with the 8-byte magic m.
func Header(m string) []byte {
	h := make([]byte, HeaderSize)
	copy(h, m)
	binary.BigEndian.PutUint32(h[8:12], Version)
	binary.BigEndian.PutUint32(h[12:16], CRC(h[:12]))
	return h
}

// HeaderState classifies the first bytes of a file.
type HeaderState int

const (
	HeaderOK             HeaderState = iota
	HeaderTorn                       // shorter than a header but a prefix of ours: a crash at creation
	HeaderDamaged                    // not our header
	HeaderUnknownVersion             // ours, but a version this program does not know
)

// CheckHeader classifies b, the first min(len(file), HeaderSize) bytes
// of a file whose magic is m, and returns the version it names when the
// header is intact.
func CheckHeader(b []byte, m string) (HeaderState, uint32) {
	want := Header(m)
	if len(b) < HeaderSize {
		if string(b) == string(want[:len(b)]) {
			return HeaderTorn, 0
		}
		return HeaderDamaged, 0
	}
	b = b[:HeaderSize]
	if string(b[:8]) != m || binary.BigEndian.Uint32(b[12:16]) != CRC(b[:12]) {
		return HeaderDamaged, 0
	}
	v := binary.BigEndian.Uint32(b[8:12])
	if v != Version {
		return HeaderUnknownVersion, v
	}
	return HeaderOK, v
}

// WriteHeader starts a new file with the header of magic m and syncs it.
func WriteHeader(f interface {
	io.WriterAt
	Sync() error
}, m string) error {
	if _, err := f.WriteAt(Header(m), 0); err != nil {
		return err
	}
	return f.Sync()
}

// KeepCopy saves the first size bytes of src, the damaged file name in
// root, beside it as name.corrupt-<unix time of now> (with ".N" added if
// that exists already), makes the copy and its name durable, and returns
// its path under dir. The store then repairs name: the copy keeps what
// was there for a person to look at.
func KeepCopy(root *os.Root, dir, name string, src io.ReaderAt, size int64, now time.Time) (string, error) {
	base := name + ".corrupt-" + strconv.FormatInt(now.Unix(), 10)
	cp := base
	var dst *os.File
	for i := 1; ; i++ {
		var err error
		dst, err = OpenFile(root, dir, cp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) || i > 1000 {
			return "", fmt.Errorf("%s is damaged and no copy could be kept: %w", filepath.Join(dir, name), err)
		}
		cp = base + "." + strconv.Itoa(i)
	}
	_, err := io.Copy(dst, io.NewSectionReader(src, 0, size))
	if err == nil {
		err = dst.Sync()
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = SyncRoot(root)
	}
	if err != nil {
		root.Remove(cp)
		return "", fmt.Errorf("%s is damaged and no copy could be kept: %w", filepath.Join(dir, name), err)
	}
	return filepath.Join(dir, cp), nil
}
