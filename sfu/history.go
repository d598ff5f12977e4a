package sfu

import (
	"encoding/binary"
	"sync/atomic"
)

// videoHistoryLength is how many recent packets a video track keeps for
// retransmission: about 2 s at 2 Mbit/s, longer than any NACK worth
// answering (a retransmission older than the receiver's jitter buffer is
// useless). Each slot pins one pooled 1.5 KB buffer, so about 768 KB per
// video layer at most (a simulcast track keeps one history per layer).
const videoHistoryLength = 512

// srtpReplayWindow is how far behind the newest packet SRTP still accepts
// one. pion's default of 64 packets (a quarter second of video) rejects a
// publisher's retransmission that took one NACK round, as it would any
// repair a cache as long as videoHistoryLength exists for; 1024 is what
// Chrome uses.
const srtpReplayWindow = 1024

// packetHistory keeps the last packets of one track by sequence number so
// a NACK can be answered from memory. It holds a reference to each pooled
// packet it keeps, so storing costs one atomic swap and no copy; a packet
// is copied into nothing until someone asks for it again.
//
// One goroutine (the read loop of the history's layer) stores; any
// number look up.
type packetHistory struct {
	slots []atomic.Pointer[packet]
	mask  uint16

	// Written by the storing goroutine only.
	highest uint16
	started bool
}

func newPacketHistory(size int) *packetHistory {
	n := 1
	for n < size {
		n <<= 1
	}
	return &packetHistory{slots: make([]atomic.Pointer[packet], n), mask: uint16(n - 1)}
}

// put takes over one of p's references. A packet older than the window
// (a very late retransmission) is not kept: it would evict a newer one.
// A nil history just drops the reference, so tracks without one need no
// special case.
func (h *packetHistory) put(p *packet) {
	if h == nil || p.n < 12 {
		p.release()
		return
	}
	seq := p.seq()
	if !h.started {
		h.highest, h.started = seq, true
	}
	if diff := seq - h.highest; diff < 1<<15 {
		h.highest = seq
	} else if h.highest-seq > h.mask {
		p.release()
		return
	}
	if old := h.slots[seq&h.mask].Swap(p); old != nil {
		old.release()
	}
}

// get returns the packet with sequence number seq holding a reference the
// caller must release, or nil when it is not (or no longer) kept.
func (h *packetHistory) get(seq uint16) *packet {
	if h == nil {
		return nil
	}
	p := h.slots[seq&h.mask].Load()
	if p == nil || !p.tryAcquire() {
		return nil
	}
	// Between the load and the acquire the slot may have moved on and the
	// buffer been reused for a newer packet: only its own number proves it.
	if p.seq() != seq {
		p.release()
		return nil
	}
	return p
}

// clear drops every kept packet; the track calls it when it ends.
func (h *packetHistory) clear() {
	if h == nil {
		return
	}
	for i := range h.slots {
		if p := h.slots[i].Swap(nil); p != nil {
			p.release()
		}
	}
}

// seq is the packet's RTP sequence number; the caller checked its length.
func (p *packet) seq() uint16 { return binary.BigEndian.Uint16(p.buf[2:4]) }

// tryAcquire takes a reference unless the packet is already back in the
// pool (refs reached zero), where its buffer is free for reuse.
func (p *packet) tryAcquire() bool {
	for {
		n := p.refs.Load()
		if n <= 0 {
			return false
		}
		if p.refs.CompareAndSwap(n, n+1) {
			return true
		}
	}
}
