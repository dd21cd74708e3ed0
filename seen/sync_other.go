//go:build !linux

package seen

// syncData makes f's written data durable with (*os.File).Sync, which on
// macOS is F_FULLFSYNC.
func syncData(f logFile) error { return f.Sync() }
