package sfu

// switchHistory is how many layer switches a rewriter remembers for
// mapping outgoing sequence numbers back (for retransmissions); a NACK
// older than that many switches is not worth answering anyway.
const switchHistory = 8

// noLayer marks a subscriber that receives no layer: not started yet, or
// paused because it cannot take even the lowest one.
const noLayer int8 = -1

// seqRewriter turns the packets of whichever simulcast layer a subscriber
// currently receives into one stream with continuous sequence numbers and
// monotonic timestamps. Between switches the mapping is a pure offset —
// out = in + offset — so an outgoing sequence number maps back to the
// layer packet it came from (see original). Only the writer goroutine of
// one DownTrack uses it.
type seqRewriter struct {
	clockRate uint32

	layer       int8   // layer being forwarded, or noLayer
	switchSeq   uint16 // first incoming seq of the current layer
	seqOffset   uint16
	tsOffset    uint32
	started     bool   // something was written: maxSeq/maxTS are valid
	maxSeq      uint16 // highest outgoing seq so far
	maxTS       uint32 // outgoing timestamp that went with maxSeq
	lastWritten int64  // unix nanoseconds of the last packet written

	history [switchHistory]switchPoint
	next    int // index in history for the next switch
}

// switchPoint records from which outgoing seq a layer's offset applies.
type switchPoint struct {
	valid     bool
	firstOut  uint16
	layer     int8
	seqOffset uint16
}

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
	outSeq, outTS := seq, ts
	if r.started {
		outSeq = r.maxSeq + 1
		ticks := uint32(max(1, (now-r.lastWritten)*int64(r.clockRate)/1e9))
		outTS = r.maxTS + ticks
	}
	r.layer = layer
	r.switchSeq = seq
	r.seqOffset = outSeq - seq
	r.tsOffset = outTS - ts
	r.history[r.next] = switchPoint{valid: true, firstOut: outSeq, layer: layer, seqOffset: r.seqOffset}
	r.next = (r.next + 1) % switchHistory
}

// pause stops forwarding; the next switchTo resumes where it left off.
func (r *seqRewriter) pause() { r.layer = noLayer }

// rewrite maps a packet of the current layer to its outgoing seq and
// timestamp. Packets that predate the switch onto this layer are refused:
// their numbers belong to the previous layer's range.
func (r *seqRewriter) rewrite(seq uint16, ts uint32, now int64) (outSeq uint16, outTS uint32, ok bool) {
	if r.layer == noLayer || int16(seq-r.switchSeq) < 0 {
		return 0, 0, false
	}
	outSeq, outTS = seq+r.seqOffset, ts+r.tsOffset
	if !r.started || int16(outSeq-r.maxSeq) > 0 {
		r.maxSeq, r.maxTS = outSeq, outTS
		r.started = true
	}
	r.lastWritten = now
	return outSeq, outTS, true
}

// original maps an outgoing seq back to the layer and incoming seq it was
// written from, as long as the switch it belongs to is remembered.
func (r *seqRewriter) original(outSeq uint16) (layer int8, seq uint16, ok bool) {
	if !r.started || int16(outSeq-r.maxSeq) > 0 {
		return noLayer, 0, false
	}
	best := -1
	for i, p := range r.history {
		if !p.valid || int16(outSeq-p.firstOut) < 0 {
			continue
		}
		// The switch closest before outSeq is the one whose range holds it.
		if best < 0 || int16(p.firstOut-r.history[best].firstOut) > 0 {
			best = i
		}
	}
	if best < 0 {
		return noLayer, 0, false
	}
	p := r.history[best]
	return p.layer, outSeq - p.seqOffset, true
}
