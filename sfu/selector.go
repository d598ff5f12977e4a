package sfu

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// layerSelector decides, per subscriber, which simulcast layer of a track
// reaches it. The allocator sets the target; the track's read loops ask
// accepts (two atomic loads) before queueing a packet; the DownTrack's
// writer calls forward, which moves to the target layer only at one of
// its keyframes and rewrites seq and timestamp through the rewriter.
type layerSelector struct {
	track  *Track
	family int

	target  atomic.Int32 // layer wanted, or noLayer to pause video
	current atomic.Int32 // layer being forwarded, or noLayer

	// Largest size the subscriber asked for; 0 means no limit.
	maxWidth, maxHeight atomic.Int32

	rw *seqRewriter // rewrites under the write lock; maps back from any

	// scratch holds a packet whose VP8 descriptor this subscriber's
	// stream numbers differently (vp8munge.go). Under the write lock.
	scratch [maxPacketSize]byte

	// canDeliver reports whether a packet written now could reach the
	// subscriber (deliverable.go); nil means always. Set before fan-out.
	canDeliver func() bool

	// group is the subscriber's group, or nil; AddTrack sets it before
	// the track is fanned out to it (the writer reads it after).
	group *groupCounters

	// viewing is the layerViewers slot counting this subscription (layer+1,
	// 0 paused), or -1 before its first layer. Under the write lock.
	viewing int8

	// Allocator goroutine only.
	pause    pauseState
	hyst     hysteresis
	probing  probeControl
	askedAt  time.Time // when a keyframe was last asked for the target
	askedFor int8      // the target it was asked for
}

func newLayerSelector(t *Track) *layerSelector {
	s := &layerSelector{track: t, family: codecFamily(t.codec.MimeType), rw: newSeqRewriter(t.codec.ClockRate)}
	s.askedFor = noLayer
	s.viewing = -1
	s.target.Store(int32(noLayer))
	s.current.Store(int32(noLayer))
	return s
}

// accepts reports whether packets of layer may be needed: those of the
// layer being forwarded, and those of the target, whose keyframe ends a
// switch.
func (s *layerSelector) accepts(layer int8) bool {
	l := int32(layer)
	return l == s.current.Load() || l == s.target.Load()
}

// switchKeyframeRetry is how long a switch waits for the keyframe it
// asked for before asking again: the publisher's answer (RTT, an encoder
// frame, the per-layer throttle of keyframe.go, NACK repair of a lost
// keyframe packet) normally comes well within it, so one switch costs
// one keyframe request.
const switchKeyframeRetry = 1500 * time.Millisecond

// setTarget asks for layer (noLayer pauses) and, when that means a
// switch, a keyframe on it: once per switch, and again only when the
// switch is still waiting switchKeyframeRetry later. It reports whether
// the target changed.
func (s *layerSelector) setTarget(layer int8) bool { return s.setTargetAt(layer, time.Now()) }

// setTargetAt is setTarget at now, for the allocator's (test) clock.
func (s *layerSelector) setTargetAt(layer int8, now time.Time) bool {
	old := s.target.Swap(int32(layer))
	if layer != noLayer && int32(layer) != s.current.Load() && s.deliverable() &&
		(layer != s.askedFor || now.Sub(s.askedAt) >= switchKeyframeRetry) {
		s.askedFor, s.askedAt = layer, now
		s.track.requestLayerKeyframe(layer)
	}
	return old != int32(layer)
}

// forward rewrites h for the subscriber and reports whether the packet
// is to be sent. now is the packet's time in unix nanoseconds.
func (s *layerSelector) forward(h *rtp.Header, layer int8, payload []byte, now int64) bool {
	target := int8(s.target.Load())
	if target == noLayer {
		if s.rw.layer != noLayer {
			s.rw.pause()
			s.current.Store(int32(noLayer))
			s.view(0)
		}
		return false
	}
	if layer != s.rw.layer {
		if layer != target || !isKeyframeStart(s.family, payload) {
			return false
		}
		s.countSwitch(s.rw.layer, layer)
		s.rw.switchTo(layer, h.SequenceNumber, h.Timestamp, now)
		if s.family == codecVP8 {
			s.rw.continueVP8(payload)
		}
		s.current.Store(int32(layer))
		s.view(layer + 1)
	}
	seq, ts, ok := s.rw.rewrite(h.SequenceNumber, h.Timestamp, now)
	if !ok {
		return false
	}
	h.SequenceNumber, h.Timestamp = seq, ts
	return true
}

// rewritePayload gives a packet forward accepted the subscriber's VP8
// descriptor numbering; other codecs' payloads pass as they are. Under
// the write lock.
func (s *layerSelector) rewritePayload(payload []byte) []byte {
	if s.family != codecVP8 {
		return payload
	}
	return s.rw.rewriteVP8(payload, &s.scratch)
}

// view moves this subscription to slot of the layer gauge (-1: out of it).
func (s *layerSelector) view(slot int8) {
	if slot == s.viewing {
		return
	}
	if st := s.track.stats; st != nil {
		if s.viewing >= 0 {
			st.layerViewers[s.viewing].Add(-1)
		}
		if slot >= 0 {
			st.layerViewers[slot].Add(1)
		}
	}
	if g := s.group; g != nil {
		if s.viewing >= 0 {
			g.layerViewers[s.viewing].Add(-1)
		}
		if slot >= 0 {
			g.layerViewers[slot].Add(1)
		}
	}
	s.viewing = slot
}

// countSwitch counts a switch at its keyframe; starting and resuming
// (from noLayer) are not switches.
func (s *layerSelector) countSwitch(from, to int8) {
	if from == noLayer {
		return
	}
	if st := s.track.stats; st != nil {
		if to > from {
			st.layerSwitchesUp.Add(1)
		} else {
			st.layerSwitchesDown.Add(1)
		}
	}
	if g := s.group; g != nil {
		if to > from {
			g.layerSwitchesUp.Add(1)
		} else {
			g.layerSwitchesDown.Add(1)
		}
	}
}

// requestKeyframe asks the publisher for a keyframe on the stream this
// subscriber decodes: its simulcast layer, or the whole track.
func (d *DownTrack) requestKeyframe() {
	if d.selector == nil {
		d.track.RequestKeyframe()
		return
	}
	layer := int8(d.selector.current.Load())
	if layer == noLayer {
		layer = int8(d.selector.target.Load())
	}
	if layer != noLayer {
		d.track.requestLayerKeyframe(layer)
	}
}

// timestampOffset is what this subscriber adds to layer's timestamps, or
// false when it is not being forwarded layer (another layer, or paused):
// a sender report of another layer would mislead its lip sync.
func (s *layerSelector) timestampOffset(layer int8) (uint32, bool) {
	if int32(layer) != s.current.Load() {
		return 0, false
	}
	return s.rw.timestampOffset(layer)
}

// lookup implements retransmitSource: a NACKed outgoing seq maps back
// through the rewriter to the layer and incoming seq it was made from,
// whose history holds the packet.
func (s *layerSelector) lookup(out uint16) (*packet, rewriteFix) {
	layer, seq, fix, ok := s.rw.original(out)
	if !ok || layer < 0 {
		return nil, rewriteFix{}
	}
	return s.track.history[layer].get(seq), fix
}

// padded implements paddingSource: whether out was probe padding, and its
// timestamp.
func (s *layerSelector) padded(out uint16) (uint32, bool) { return s.rw.padded(out) }
