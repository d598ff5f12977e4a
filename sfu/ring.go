package sfu

import "sync/atomic"

// packetRing is a single-producer single-consumer queue of shared packets
// between a track's read loop (for simulcast, its layers' read loops
// taking turns: DownTrack.enqueue) and the subscriber connection's writer
// (connwriter.go), which drains it only while the read loop must not write. It
// never blocks the producer: when the subscriber falls behind, push fails
// and the caller drops the packet for that subscriber only.
type packetRing struct {
	slots []*packet
	mask  uint64
	head  atomic.Uint64 // next slot to write; only the producer stores it
	tail  atomic.Uint64 // next slot to read; only the consumer stores it
}

// newPacketRing makes a ring of size slots, rounded up to a power of two.
func newPacketRing(size int) *packetRing {
	n := 1
	for n < size {
		n <<= 1
	}
	return &packetRing{slots: make([]*packet, n), mask: uint64(n - 1)}
}

// push enqueues p and reports false when the ring is full.
func (r *packetRing) push(p *packet) bool {
	head := r.head.Load()
	if head-r.tail.Load() > r.mask {
		return false
	}
	r.slots[head&r.mask] = p
	r.head.Store(head + 1)
	return true
}

// empty reports whether nothing is queued.
func (r *packetRing) empty() bool { return r.head.Load() == r.tail.Load() }

// pop dequeues the oldest packet, or nil when the ring is empty.
func (r *packetRing) pop() *packet {
	tail := r.tail.Load()
	if tail == r.head.Load() {
		return nil
	}
	i := tail & r.mask
	p := r.slots[i]
	r.slots[i] = nil
	r.tail.Store(tail + 1)
	return p
}
