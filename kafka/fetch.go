package kafka

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"
)

// fetchLoop reads tps from the broker at addr, which leads them all,
// until ctx ends, a relist is due (nil: the connection is kept for the
// next round) or something fails (the error; the connection is closed).
func (s *Source) fetchLoop(ctx context.Context, addr string, tps []topicPart, rs *roundState) error {
	err := s.fetchFrom(ctx, addr, tps, rs)
	if err == nil || ctx.Err() != nil {
		return err
	}
	// This broker failed; the others go on meanwhile. A leader that moved
	// is looked up again after a second; a broker that cannot be reached
	// is tried again after its own backoff, so that one broker down does
	// not hold up the partitions the others lead.
	delay := time.Second
	var stale *staleError
	if errors.As(err, &stale) {
		s.log.Info("kafka: following a change of partition leader", "reason", err.Error())
	} else {
		delay = s.brokerBackoff(addr)
		s.log.Warn("kafka: "+strings.TrimPrefix(err.Error(), "kafka: "), "retry_in", delay.Round(time.Millisecond))
	}
	s.mu.Lock()
	s.lastErr = err.Error()
	s.mu.Unlock()
	t := time.NewTimer(delay)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	return &roundAgain{err}
}

// roundAgain ends a round whose failed fetcher has waited already: the
// next round starts at once.
type roundAgain struct{ err error }

func (e *roundAgain) Error() string { return e.err.Error() }
func (e *roundAgain) Unwrap() error { return e.err }

// brokerBackoff returns how long to wait before trying addr again, the
// wait doubling with each failure in a row; fetchFrom forgets the
// failures once a fetch from addr is answered.
func (s *Source) brokerBackoff(addr string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := nextBackoff(s.backoff[addr], s.cfg.BackoffMax)
	s.backoff[addr] = d
	return d
}

// fetchFrom is one connection's part of fetchLoop.
func (s *Source) fetchFrom(ctx context.Context, addr string, tps []topicPart, rs *roundState) (err error) {
	c, err := s.getConn(ctx, addr)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.fetchers++
	s.state = "fetching"
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.fetchers--
		s.mu.Unlock()
		if err == nil {
			s.putConn(addr, c)
		} else {
			c.close()
		}
	}()
	if err := s.resolve(ctx, c, tps); err != nil {
		return err
	}
	for rot := 0; ; rot++ {
		if rs.relist.Load() {
			return nil
		}
		req, wait := s.fetchRequest(c, tps, rot)
		if len(req.topics) == 0 {
			// Every partition waits for a retry: sleep until the first.
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
			continue
		}
		sent := time.Now()
		body, err := c.roundTrip(ctx, req, wait)
		if err != nil {
			return err
		}
		resp, err := decodeFetchResponse(body, req.v)
		if err != nil {
			return fmt.Errorf("kafka: %s: %w", addr, err)
		}
		s.mu.Lock()
		s.lastFetch, s.lastErr = time.Now(), ""
		delete(s.backoff, addr)
		s.mu.Unlock()
		asked := make(map[topicPart]bool, len(tps))
		for _, tp := range tps {
			asked[tp] = true
		}
		moved := false
		for _, t := range resp.topics {
			for i := range t.partitions {
				pr := &t.partitions[i]
				tp := topicPart{t.name, pr.partition}
				if !asked[tp] {
					continue // not ours: a confused or hostile broker
				}
				before := s.position(tp)
				if err := s.take(ctx, c, tp, pr, rs); err != nil {
					s.save()
					return err
				}
				moved = moved || s.position(tp) != before
			}
		}
		s.save()
		// A broker answers a long poll early only with records; an early
		// answer that moved nothing (errors, a batch cut short) is paced,
		// so that a broken or hostile broker cannot make the source spin.
		if !moved && time.Since(sent) < minFetchGap {
			t := time.NewTimer(minFetchGap)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
	}
}

// minFetchGap is the least time between two fetches that took nothing.
const minFetchGap = time.Second

// position is tp's next offset now.
func (s *Source) position(tp topicPart) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parts[tp].next
}

// fetchRequest builds the next fetch of tps: every partition whose
// position is known and that is not waiting for a retry, starting one
// further along each time, so that a batch larger than a fetch's bytes
// cannot keep a later partition from being answered. wait is how long
// the broker may hold it: the long poll, cut short when a partition's
// retry comes sooner.
func (s *Source) fetchRequest(c *conn, tps []topicPart, rot int) (fetchRequest, time.Duration) {
	req := fetchRequest{v: c.versions[apiFetch], maxBytes: fetchMaxBytes, isolation: readCommitted}
	wait := s.wait
	now := time.Now()
	index := map[string]int{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range tps {
		tp := tps[(i+rot)%len(tps)]
		st := s.parts[tp]
		if st == nil || st.next < 0 || st.excluded {
			continue
		}
		if d := st.retryAt.Sub(now); d > 0 {
			wait = min(wait, d)
			continue
		}
		j, ok := index[tp.topic]
		if !ok {
			j = len(req.topics)
			index[tp.topic] = j
			req.topics = append(req.topics, fetchTopic{name: tp.topic})
		}
		req.topics[j].partitions = append(req.topics[j].partitions, fetchPartition{
			partition: tp.partition, fetchOffset: st.next, logStartOffset: -1, partitionMaxBytes: s.partMax})
	}
	req.maxWaitMs = int32(wait / time.Millisecond)
	return req, wait
}

// resolve finds where each partition of tps without a position begins,
// and stores it at once: a source that starts at the end and is stopped
// before any record must not begin at a later end when it restarts.
func (s *Source) resolve(ctx context.Context, c *conn, tps []topicPart) error {
	for _, tp := range tps {
		s.mu.Lock()
		st := s.parts[tp]
		need, start := st.next < 0, st.start
		s.mu.Unlock()
		if !need {
			continue
		}
		off, err := listOffset(ctx, c, tp, start)
		if err == nil && off < 0 {
			// No record at or after the time asked: begin at the end.
			off, err = listOffset(ctx, c, tp, offsetLatest)
		}
		if err != nil {
			return err
		}
		s.mu.Lock()
		st.next = off
		s.stored[tp] = off
		s.dirty = true
		s.mu.Unlock()
		s.log.Info("kafka: partition assigned", "topic", tp.topic, "partition", tp.partition, "offset", off)
	}
	s.save()
	return nil
}

// listOffset asks the leader c for the offset of tp at timestamp (a time
// in ms, offsetEarliest or offsetLatest); -1 means no record at or after
// the time.
func listOffset(ctx context.Context, c *conn, tp topicPart, timestamp int64) (int64, error) {
	req := listOffsetsRequest{isolation: readCommitted, topics: []listOffsetsTopic{{
		name: tp.topic, partitions: []listOffsetsPartition{{partition: tp.partition, timestamp: timestamp}}}}}
	body, err := c.roundTrip(ctx, req, 0)
	if err != nil {
		return 0, err
	}
	resp, err := decodeListOffsetsResponse(body)
	if err != nil {
		return 0, fmt.Errorf("kafka: %s: %w", c.addr, err)
	}
	for _, t := range resp.topics {
		for _, p := range t.partitions {
			if t.name != tp.topic || p.partition != tp.partition {
				continue
			}
			if p.errorCode != 0 {
				return 0, &staleError{tp, ErrorCode(p.errorCode)}
			}
			if p.offset < -1 {
				return 0, fmt.Errorf("kafka: %s: offset %d for %s", c.addr, p.offset, tp)
			}
			return p.offset, nil
		}
	}
	return 0, fmt.Errorf("kafka: %s: ListOffsets answer without %s", c.addr, tp)
}

// take handles one partition's part of a fetch answer: its error, or its
// records, each handed to Submit in offset order. The position moves
// past a record only once its verdict is final; a Failed verdict leaves
// it on that record, which is fetched again after retryPart.
func (s *Source) take(ctx context.Context, c *conn, tp topicPart, pr *fetchPartitionResponse, rs *roundState) error {
	s.mu.Lock()
	st := s.parts[tp]
	if pr.highWatermark >= 0 {
		st.hw = pr.highWatermark
	}
	next := st.next
	s.mu.Unlock()
	switch code := ErrorCode(pr.errorCode); code {
	case ErrNone:
	case ErrOffsetOutOfRange:
		return s.outOfRange(ctx, c, tp, next)
	case ErrNotLeaderOrFollower, ErrLeaderNotAvailable, ErrFencedLeaderEpoch, ErrUnknownLeaderEpoch,
		ErrReplicaNotAvailable, ErrKafkaStorageError, ErrOffsetNotAvailable:
		return &staleError{tp, code}
	case ErrUnknownTopicOrPartition, ErrTopicAuthorizationFailed:
		s.mu.Lock()
		st.excluded = true
		s.mu.Unlock()
		s.noteMissing(s.missingWith(tp.topic, code.String()))
		rs.retry.Do(func() { time.AfterFunc(s.retryMissing, func() { rs.relist.Store(true) }) })
		return nil
	default:
		s.later(st)
		if ok, dropped := s.warn.allow(); ok {
			s.log.Warn("kafka: fetch refused for a partition: trying it again in a while", "topic", tp.topic,
				"partition", tp.partition, "error", code.String(), "left_out", dropped)
		}
		return nil
	}
	if len(pr.records) == 0 {
		return nil
	}
	res, derr := decodeRecords(pr.records, next, s.budget)
	res.records = dropAborted(res.records, res.markers, pr.aborted)
	for _, r := range res.records {
		v := s.submit(tp, r)
		s.mu.Lock()
		s.records[v]++
		if v == Failed {
			st.retryAt = time.Now().Add(s.retryPart)
			s.mu.Unlock()
			return nil
		}
		st.next, s.stored[tp], s.dirty, s.progress = r.Offset+1, r.Offset+1, true, true
		st.last = time.UnixMilli(r.Timestamp)
		s.mu.Unlock()
	}
	s.mu.Lock()
	if res.next > st.next {
		st.next, s.stored[tp], s.dirty = res.next, res.next, true
	}
	s.mu.Unlock()
	if derr != nil {
		s.batchFailed(tp, st, derr)
	}
	return nil
}

// missingWith is the topics known missing, plus topic for why.
func (s *Source) missingWith(topic, why string) map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := maps.Clone(s.missing)
	m[topic] = why
	return m
}

func (s *Source) partState(tp topicPart) *partState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.parts[tp]
}

func (s *Source) later(st *partState) {
	s.mu.Lock()
	st.retryAt = time.Now().Add(s.retryPart)
	s.mu.Unlock()
}

// submit hands one record to the broker and logs a refusal, rate-limited.
func (s *Source) submit(tp topicPart, r Record) Verdict {
	log := s.log.With("topic", tp.topic, "partition", tp.partition, "offset", r.Offset)
	v, reason := Refused, "the record has no value"
	if r.Value != nil {
		s.submitMu.Lock()
		v, reason = s.cfg.Submit(r.Value, log)
		s.submitMu.Unlock()
	}
	switch v {
	case Accepted, Duplicate:
	case Refused:
		if ok, dropped := s.warn.allow(); ok {
			log.Warn("kafka: record refused: passed over", "reason", reason, "left_out", dropped)
		}
	default:
		v = Failed
		if ok, dropped := s.warn.allow(); ok {
			log.Error("kafka: record not taken: it will be fetched again", "reason", reason, "left_out", dropped)
		}
	}
	return v
}

// outOfRange handles OFFSET_OUT_OF_RANGE: the records from next on are
// gone (retention overtook the source) or the partition was recreated.
// Either way the source goes on from the earliest offset still kept, and
// says how many offsets it lost.
func (s *Source) outOfRange(ctx context.Context, c *conn, tp topicPart, next int64) error {
	earliest, err := listOffset(ctx, c, tp, offsetEarliest)
	if err != nil {
		return err
	}
	latest, err := listOffset(ctx, c, tp, offsetLatest)
	if err != nil {
		return err
	}
	log := s.log.With("topic", tp.topic, "partition", tp.partition)
	switch {
	case next < earliest:
		log.Warn("kafka: records were deleted before they were read: going on from the earliest kept",
			"lost", earliest-next, "from", next, "to", earliest)
	case next > latest:
		log.Warn("kafka: the stored position is past the partition's end (was it recreated?): going on from its earliest",
			"position", next, "end", latest, "earliest", earliest)
	default:
		// In range after all: fetch it again, after a pause, as a broker
		// that keeps saying otherwise must not make the source spin.
		s.later(s.partState(tp))
		return nil
	}
	s.mu.Lock()
	s.parts[tp].next, s.stored[tp], s.dirty = earliest, earliest, true
	s.mu.Unlock()
	return nil
}

// batchFailed counts and logs a batch decodeRecords refused. A batch
// whose checksum held but whose records cannot be had (an unsupported
// codec, output beyond the bound, records that do not parse) is passed
// over: fetching it again would give the same. One whose checksum failed
// may have been damaged on the way, so it is fetched again after a
// pause, damagedTries times in all; then it is passed over too, to where
// its header says it ends (or by one offset, if that is not sane), so
// that a batch damaged for good does not hold up its partition.
func (s *Source) batchFailed(tp topicPart, st *partState, err error) {
	var be *batchError
	resume, claimed := int64(-1), int64(-1)
	if errors.As(err, &be) {
		resume, claimed = be.resume, be.claimed
	}
	s.mu.Lock()
	say := true
	if resume < 0 {
		if st.damagedAt != st.next {
			st.damagedAt, st.damagedTries = st.next, 0
		}
		st.damagedTries++
		if st.damagedTries >= damagedTries {
			resume = st.next + 1
			if claimed > resume && (st.hw < 0 || claimed <= st.hw) {
				resume = claimed
			}
		}
	}
	if errors.Is(err, errUnsupportedCodec) {
		say, st.codecSaid = !st.codecSaid, true
	}
	if st.damagedTries <= 1 || resume >= 0 {
		s.batchErrs++ // once per batch, not per attempt
	}
	skip := resume > st.next
	from := st.next
	if skip {
		st.next, s.stored[tp], s.dirty = resume, resume, true
	} else {
		st.retryAt = time.Now().Add(s.retryPart)
	}
	s.mu.Unlock()
	if ok, dropped := s.warn.allow(); say && ok {
		log := s.log.With("topic", tp.topic, "partition", tp.partition)
		if skip {
			log.Error("kafka: record batch refused: its records are passed over", "err", err, "offsets", fmt.Sprintf("%d-%d", from, resume-1), "left_out", dropped)
		} else {
			log.Error("kafka: record batch refused: fetching it again in a while", "err", err, "left_out", dropped)
		}
	}
}

// damagedTries is how many times a batch that fails its checksum is
// fetched before it is passed over.
const damagedTries = 3

// save writes the positions if they changed. A failure is logged and the
// write retried after the next fetch; the positions in the file stay
// behind the events, which is safe.
func (s *Source) save() {
	if s.cfg.OffsetsFile == "" {
		return
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	if !s.dirty {
		s.mu.Unlock()
		return
	}
	pos := maps.Clone(s.stored)
	s.dirty = false
	s.mu.Unlock()
	if err := saveOffsets(s.cfg.OffsetsFile, pos); err != nil {
		s.mu.Lock()
		s.dirty = true
		s.mu.Unlock()
		if ok, _ := s.warn.allow(); ok {
			s.log.Error("kafka: cannot store positions: records may be read again after a restart", "err", err)
		}
	}
}

// Status returns the source's state now.
func (s *Source) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{
		Name: s.cfg.Name, Cluster: s.cfg.Addr, State: s.state, Connected: s.fetchers > 0,
		Topics: append([]string(nil), s.cfg.Topics...), Since: s.since, LastFetch: s.lastFetch,
		Records: map[string]int64{}, BatchErrors: s.batchErrs, LastError: s.lastErr,
	}
	for _, v := range Verdicts {
		st.Records[v.String()] = s.records[v]
	}
	for tp, p := range s.parts {
		ps := PartitionStatus{Topic: tp.topic, Partition: tp.partition, Next: p.next, HighWatermark: p.hw}
		if p.next >= 0 && p.hw >= 0 {
			ps.Lag = max(p.hw-p.next, 0)
		}
		if !p.last.IsZero() {
			t := p.last
			ps.LastRecord = &t
		}
		st.Partitions = append(st.Partitions, ps)
	}
	sortPartitions(st.Partitions)
	if s.auth != nil {
		if t := s.auth.expiry.Load(); t != nil {
			st.TokenExpires = t
		}
	}
	return st
}
