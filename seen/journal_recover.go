package seen

import (
	"fmt"
	"math"
)

// recoverSeen restores the seen records of journaled events that a crash
// kept from being written. A batch's journal records are synced before
// its seen records are written, so a crash between the two leaves events in
// the journal that the seen log does not know; without this a copy of
// one (a remote broker replaying it, say) would be taken for new and
// journaled and relayed a second time. Only the last batch, and the at
// most maxLazy seen records written before it without an fsync, can be in
// that state, so only the newest maxBatch+maxLazy journal records are
// looked at. Call from Open, before the committer starts.
func (s *Store) recoverSeen() error {
	j := s.journal
	now := s.unixNow()
	var buf []byte
	n := 0
	err := j.read(j.nthLast(maxBatch+maxLazy), math.MaxUint64, func(r JournalRecord) error {
		unix := min(max(r.Received/1e9, 1), math.MaxUint32)
		if s.expired(uint32(unix), now) {
			return nil
		}
		p := prefixOf(&r.Key)
		if _, ok := s.idx.get(&p); ok {
			return nil
		}
		s.idx.put(&p, uint32(unix))
		buf = appendRecord(buf, &r.Key, unix)
		n++
		return nil
	})
	if err != nil {
		return fmt.Errorf("seen: read journal to recover: %w", err)
	}
	if n == 0 {
		return nil
	}
	if err := s.write(buf); err != nil {
		return fmt.Errorf("seen: restore seen records from the journal: %w", err)
	}
	s.log.Warn("seen: restored the seen records of journaled events a crash kept from being written",
		"path", s.path, "events", n)
	return nil
}

// nthLast returns the sequence number before the n-th newest record, 0
// if the journal holds no more than n.
func (j *journal) nthLast(n int) uint64 {
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
