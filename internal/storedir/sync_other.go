//go:build !linux

package storedir

// SyncData makes f's written data durable with (*os.File).Sync, which on
// macOS is F_FULLFSYNC.
func SyncData(f File) error { return f.Sync() }
