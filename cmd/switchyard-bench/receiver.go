package main

import (
	"sync"
	"sync/atomic"
	"time"
)

// streamStats follows one received track on one subscriber: which of the
// sender's sequence numbers arrived, in what order, and how late. It is
// written by that track's read goroutine only, and read after the
// measurement window under mu.
type streamStats struct {
	arrived   atomic.Bool // any packet, measured or not
	mu        sync.Mutex
	measuring bool
	latency   histogram
	from      uint32 // first sequence counted, set when measuring starts
	seen      []uint64
	received  uint64
	dups      uint64
	reordered uint64
	highest   uint32
	any       bool
}

// maxTrackedPackets bounds the received-set bitmap (about 1 h of video).
const maxTrackedPackets = 1 << 22

func (s *streamStats) record(seq uint32, sentAt, now int64) {
	if !s.arrived.Load() {
		s.arrived.Store(true)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.measuring || seq < s.from {
		return
	}
	s.latency.add(time.Duration(now - sentAt))
	off := seq - s.from
	if off >= maxTrackedPackets {
		return
	}
	word := int(off / 64)
	for len(s.seen) <= word {
		s.seen = append(s.seen, 0)
	}
	bit := uint64(1) << (off % 64)
	if s.seen[word]&bit != 0 {
		s.dups++
		return
	}
	s.seen[word] |= bit
	s.received++
	if s.any && seq < s.highest {
		s.reordered++
	}
	if !s.any || seq > s.highest {
		s.highest, s.any = seq, true
	}
}

// start begins counting at sequence from (the sender's next packet).
func (s *streamStats) start(from uint32) {
	s.mu.Lock()
	s.measuring, s.from = true, from
	s.mu.Unlock()
}

// result is the loss over [from, until) once the sender stopped at until.
func (s *streamStats) result(until uint32) (expected, received, reordered, dups uint64, lat *histogram) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.measuring = false
	if until > s.from {
		expected = uint64(until - s.from)
	}
	h := s.latency
	return expected, min(s.received, expected), s.reordered, s.dups, &h
}

// count is how many distinct packets have been received in the window.
func (s *streamStats) count() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
}
