package seen

import "fmt"

// maxBatch caps the records written by one write+fsync. It bounds how much
// of the log's tail a crash can leave torn (maxBatch*recordSize bytes), which
// is how Open tells a torn tail from damage (see load.go). At 64 concurrent
// writers batches hold at most 64 records, so the cap only matters under
// bursts far above the design load.
const maxBatch = 1024

// batch is a group of records written and fsync'd together.
type batch struct {
	buf  []byte   // the encoded records
	keys []prefix // their keys, to forget if the write fails
	done chan struct{}
	err  error // set before done is closed
}

// openBatch returns the batch new records join: the newest queued batch
// unless it is full. The committer removes a batch from the queue before
// writing it, so a queued batch is always open. Call with s.mu held.
func (s *Store) openBatch() *batch {
	if n := len(s.queue); n > 0 && len(s.queue[n-1].keys) < maxBatch {
		return s.queue[n-1]
	}
	b := &batch{done: make(chan struct{})}
	s.queue = append(s.queue, b)
	return b
}

// commitLoop is the committer: it writes the oldest queued batch with one
// write and one fsync and wakes its callers. While it waits for the disk,
// new records gather in the next batch; that is the group commit. After
// Close it drains the queue, then returns.
func (s *Store) commitLoop() {
	for {
		s.mu.Lock()
		for len(s.queue) == 0 && !s.closed {
			s.wake.Wait()
		}
		if len(s.queue) == 0 {
			s.mu.Unlock()
			return
		}
		b := s.queue[0]
		s.queue[0] = nil
		s.queue = s.queue[1:]
		s.mu.Unlock()

		err := s.write(b.buf)

		s.mu.Lock()
		for i := range b.keys {
			delete(s.pending, b.keys[i])
			if err != nil {
				// Not durable, so not seen: a resend must be able to
				// succeed once the disk recovers.
				s.idx.del(&b.keys[i])
			}
		}
		s.mu.Unlock()
		b.err = err
		close(b.done)
	}
}

// write appends buf at the end of the acknowledged log and fsyncs it. On
// failure it cuts the file back, so a partial write cannot shift the
// records that follow; even if that fails, the next write starts at the
// same offset and overwrites the remains.
func (s *Store) write(buf []byte) error {
	s.fileMu.Lock()
	defer s.fileMu.Unlock()
	err := s.writeSync(buf)
	if err != nil {
		if terr := s.file.Truncate(s.size); terr != nil {
			s.log.Error("seen: could not cut back a failed write", "path", s.path, "offset", s.size, "err", terr)
		}
		return fmt.Errorf("seen: record event: %w", err)
	}
	s.size += int64(len(buf))
	return nil
}

func (s *Store) writeSync(buf []byte) error {
	if _, err := s.file.WriteAt(buf, s.size); err != nil {
		return err
	}
	if err := syncData(s.file); err != nil {
		return err
	}
	if s.dirDirty {
		// A compaction renamed the log but could not fsync the directory:
		// until it can, these records may vanish with the rename at a
		// power loss, so they are not acknowledged.
		if err := syncDir(s.dir); err != nil {
			return fmt.Errorf("sync directory %s: %w", s.dir, err)
		}
		s.dirDirty = false
	}
	return nil
}
