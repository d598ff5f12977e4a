package sfu

import (
	"sync"
	"sync/atomic"
)

// switchHistory is how many layer switches (and probe bursts, which
// shift the offset too) a rewriter remembers for mapping outgoing
// sequence numbers back (for retransmissions). Probe bursts are at least
// probeBurstGap apart, so this covers about 3 s of them; a NACK older
// than that is not worth answering anyway.
const switchHistory = 48

// noLayer marks a subscriber that receives no layer: not started yet, or
// paused because it cannot take even the lowest one.
const noLayer int8 = -1

// seqRewriter turns the packets of whichever simulcast layer a subscriber
// currently receives into one stream with continuous sequence numbers and
// monotonic timestamps. Between switches the mapping is a pure offset —
// out = in + offset — so an outgoing sequence number maps back to the
// layer packet it came from (see original). Whoever holds one
// DownTrack's write lock rewrites; original and timestampOffset may be called from any
// goroutine (the subscriber's RTCP reader answering NACKs, the publisher's
// relaying sender reports): they see only the switch history, guarded by
// mu and changed at switches alone, and the newest outgoing seq, which
// the writer publishes atomically — so a packet costs no further lock.
type seqRewriter struct {
	clockRate uint32

	layer       int8   // layer being forwarded, or noLayer
	floorSeq    uint16 // incoming seqs older than this are refused
	maxIn       uint16 // newest incoming seq of the current layer
	seqOffset   uint16
	started     bool   // something was written: maxSeq/maxTS are valid
	maxSeq      uint16 // highest outgoing seq so far
	maxSeqExt   uint64 // maxSeq counted without wrapping
	maxTS       uint32 // outgoing timestamp that went with maxSeq
	lastWritten int64  // unix nanoseconds of the last packet written

	// rewriteFix is the current layer's timestamp offset and, for VP8
	// (vp8munge.go), its descriptor offsets; vp8Last is the newest
	// descriptor written. Writer only.
	rewriteFix
	vp8Last vp8Values

	// newestOut is maxSeqExt+1 once something was written, else 0.
	newestOut atomic.Uint64

	mu      sync.Mutex
	history [switchHistory]switchPoint
	next    int // index in history for the next switch
}

// switchPoint records from which outgoing seq (counted without
// wrapping) a layer's offset applies.
type switchPoint struct {
	valid     bool
	padFrom   uint64 // a probe burst: outgoing [padFrom, firstOut) is padding
	padTS     uint32 // the burst's outgoing timestamp
	firstOut  uint64
	layer     int8
	seqOffset uint16
	rewriteFix
}

// rewriteFix is what a retransmission of a packet must change beyond its
// seq to match what was first sent under it: the offsets in force then.
type rewriteFix struct {
	tsOffset uint32
	vp8      vp8Offsets
}

// reorderWindow is how far behind the newest packet a packet may arrive
// and still be forwarded or mapped back; it keeps every seq comparison
// well inside the half of the 16-bit space where it is unambiguous.
const reorderWindow = 0x4000

func newSeqRewriter(clockRate uint32) *seqRewriter {
	if clockRate == 0 {
		clockRate = 90000
	}
	return &seqRewriter{clockRate: clockRate, layer: noLayer}
}

// switchTo makes (seq, ts), the first packet of a keyframe of layer, the
// next packet out: one seq after the last one written, and later in time
// by the wall-clock time since then (at least one tick, so the decoder
// never sees two frames with one timestamp).
func (r *seqRewriter) switchTo(layer int8, seq uint16, ts uint32, now int64) {
	outSeq, outTS, outExt := seq, ts, uint64(seq)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.started {
		// Nothing was written under earlier switches: nothing maps to them.
		r.history, r.next = [switchHistory]switchPoint{}, 0
	} else {
		outSeq, outExt = r.maxSeq+1, r.maxSeqExt+1
		ticks := uint32(max(1, (now-r.lastWritten)*int64(r.clockRate)/1e9))
		outTS = r.maxTS + ticks
	}
	r.layer = layer
	r.floorSeq, r.maxIn = seq, seq
	r.seqOffset = outSeq - seq
	r.tsOffset = outTS - ts
	r.history[r.next] = switchPoint{valid: true, firstOut: outExt, layer: layer, seqOffset: r.seqOffset, rewriteFix: r.rewriteFix}
	r.next = (r.next + 1) % switchHistory
}

// padding reserves n outgoing seqs right after the newest one, for
// padding-only probe packets carrying the newest timestamp, and shifts
// the layer's offset past them. Packets of the layer older than the
// newest one are refused from now on (as at a switch): their seqs would
// land on the padding; a late one is still resent when NACKed. ok is
// false when nothing is being forwarded.
func (r *seqRewriter) padding(n int) (first uint16, ts uint32, ok bool) {
	if r.layer == noLayer || !r.started || n <= 0 {
		return 0, 0, false
	}
	first, ts = r.maxSeq+1, r.maxTS
	r.mu.Lock()
	defer r.mu.Unlock()
	padFrom := r.maxSeqExt + 1
	r.seqOffset += uint16(n)
	r.maxSeq += uint16(n)
	r.maxSeqExt += uint64(n)
	r.floorSeq = r.maxIn + 1
	r.history[r.next] = switchPoint{valid: true, padFrom: padFrom, padTS: ts, firstOut: r.maxSeqExt + 1, layer: r.layer, seqOffset: r.seqOffset, rewriteFix: r.rewriteFix}
	r.next = (r.next + 1) % switchHistory
	r.newestOut.Store(r.maxSeqExt + 1)
	return first, ts, true
}

// pause stops forwarding; the next switchTo resumes where it left off.
func (r *seqRewriter) pause() { r.layer = noLayer }

// rewrite maps a packet of the current layer to its outgoing seq and
// timestamp. Packets that predate the switch onto this layer are refused:
// their numbers belong to the previous layer's range.
func (r *seqRewriter) rewrite(seq uint16, ts uint32, now int64) (outSeq uint16, outTS uint32, ok bool) {
	if r.layer == noLayer || int16(seq-r.floorSeq) < 0 {
		return 0, 0, false
	}
	if int16(seq-r.maxIn) > 0 {
		r.maxIn = seq
		// The floor follows the newest packet at a distance, so that it
		// stays comparable however long the layer runs.
		if uint16(r.maxIn-r.floorSeq) > reorderWindow {
			r.floorSeq = r.maxIn - reorderWindow
		}
	}
	outSeq, outTS = seq+r.seqOffset, ts+r.tsOffset
	switch {
	case !r.started:
		r.maxSeq, r.maxSeqExt, r.maxTS = outSeq, uint64(outSeq), outTS
		r.started = true
		r.newestOut.Store(r.maxSeqExt + 1)
	case int16(outSeq-r.maxSeq) > 0:
		r.maxSeqExt += uint64(uint16(outSeq - r.maxSeq))
		r.maxSeq, r.maxTS = outSeq, outTS
		r.newestOut.Store(r.maxSeqExt + 1)
	}
	r.lastWritten = now
	return outSeq, outTS, true
}

// original maps an outgoing seq back to the layer and incoming seq it was
// written from, and the offsets applied to it, as long as it is
// recent and its switch is remembered. Safe beside the writer.
func (r *seqRewriter) original(outSeq uint16) (layer int8, seq uint16, fix rewriteFix, ok bool) {
	p, ext, found := r.pointOf(outSeq)
	if !found || p.padFrom != 0 && ext < p.firstOut {
		return noLayer, 0, fix, false // unknown, or padding: no media behind it
	}
	return p.layer, outSeq - p.seqOffset, p.rewriteFix, true
}

// continueVP8 sets the VP8 offsets of the layer switchTo has just begun
// from payload, its keyframe's first packet: each descriptor field goes
// on one past the newest value written. Writer only.
func (r *seqRewriter) continueVP8(payload []byte) {
	r.vp8 = vp8Offsets{}
	if f, ok := vp8DescriptorFields(payload); ok {
		r.vp8 = continuing(r.vp8Last, f.read(payload))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.history[(r.next+switchHistory-1)%switchHistory].vp8 = r.vp8
}

// rewriteVP8 applies the current layer's VP8 offsets to a packet being
// written (into scratch when they change it) and remembers the newest
// values written, for the next switch. Writer only.
func (r *seqRewriter) rewriteVP8(payload []byte, scratch *[maxPacketSize]byte) []byte {
	out, v, ok := mungeVP8(payload, r.vp8, scratch)
	if ok && (!v.hasPic || !r.vp8Last.hasPic || !picNewer(r.vp8Last.pic, v.pic)) {
		r.vp8Last = v
	}
	return out
}

// padded reports whether outSeq was a padding packet of a remembered probe
// burst, and the timestamp it went out with, so that a NACK for it can be
// answered with padding again. Safe beside the writer.
func (r *seqRewriter) padded(outSeq uint16) (ts uint32, ok bool) {
	p, ext, found := r.pointOf(outSeq)
	if !found || p.padFrom == 0 || ext >= p.firstOut {
		return 0, false
	}
	return p.padTS, true
}

// pointOf finds the remembered switch or probe burst whose range holds
// outSeq, and outSeq counted without wrapping.
func (r *seqRewriter) pointOf(outSeq uint16) (p switchPoint, ext uint64, ok bool) {
	newest := r.newestOut.Load()
	if newest == 0 {
		return p, 0, false
	}
	maxExt := newest - 1
	behind := uint16(maxExt) - outSeq
	if behind > reorderWindow || uint64(behind) > maxExt {
		return p, 0, false
	}
	ext = maxExt - uint64(behind)
	r.mu.Lock()
	defer r.mu.Unlock()
	best := -1
	for i, h := range r.history {
		if h.valid && h.padFrom != 0 && h.padFrom <= ext && ext < h.firstOut {
			return h, ext, true
		}
		// The latest switch at or before outSeq is the one whose range holds it.
		if h.valid && h.firstOut <= ext && (best < 0 || h.firstOut > r.history[best].firstOut) {
			best = i
		}
	}
	if best < 0 {
		return p, 0, false
	}
	return r.history[best], ext, true
}

// timestampOffset is the offset in force for layer: that of the latest
// switch, if it was onto layer. Safe beside the writer.
func (r *seqRewriter) timestampOffset(layer int8) (uint32, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.history[(r.next+switchHistory-1)%switchHistory]
	return p.tsOffset, p.valid && p.layer == layer
}
