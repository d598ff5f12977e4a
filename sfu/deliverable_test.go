package sfu

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// A new simulcast subscriber asks for its layer's keyframe only once a
// packet could reach it: a request while it is unbound or unconnected
// would bring a keyframe that is lost, and nothing would ask again before
// the switch retry. A keyframe arriving meanwhile does not start the
// layer either; the first keyframe after it can deliver does.
func TestSimulcastKeyframeWaitsForADeliverableSubscriber(t *testing.T) {
	track := simulcastTestTrack()
	track.stats = &counters{}
	var plis atomic.Int32
	track.writeRTCP = func(pkts []rtcp.Packet) error {
		plis.Add(int32(len(pkts)))
		return nil
	}
	track.addLayerFeedback(1)
	track.keyframes[1] = newKeyframeRequester(0, func() { track.sendPLI(1) })
	defer track.stopLayerFeedback()

	var up atomic.Bool
	w := &payloadWriter{}
	d := &DownTrack{track: track, stats: &counters{}, selector: newLayerSelector(track)}
	d.selector.canDeliver = func() bool { return d.bound.Load() != nil && up.Load() }
	keyframe := func(seq uint16) {
		raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: true, SSRC: 101},
			Payload: vp8Payload(true, true, 640, 360, 300)}).Marshal()
		p := getPacket()
		p.n = copy(p.buf[:], raw)
		p.refs.Store(1)
		p.layer = 1
		d.writeAt(p, time.Now().UnixNano())
		p.release()
	}

	now := time.Now()
	d.selector.setTargetAt(1, now)
	if n := plis.Load(); n != 0 {
		t.Fatalf("%d PLIs before the track was bound, want 0", n)
	}
	d.bound.Store(&binding{ssrc: 7, payloadType: 96, writer: w})
	d.selector.setTargetAt(1, now.Add(allocateInterval))
	if n := plis.Load(); n != 0 {
		t.Fatalf("%d PLIs before the connection was up, want 0", n)
	}
	keyframe(10) // e.g. another subscriber's request, answered now
	if w.count() != 0 || d.selector.current.Load() != int32(noLayer) {
		t.Fatalf("a keyframe started the layer before the connection was up (%d written)", w.count())
	}
	up.Store(true)
	d.selector.setTargetAt(1, now.Add(2*allocateInterval))
	if n := plis.Load(); n != 1 {
		t.Fatalf("%d PLIs once deliverable, want 1", n)
	}
	keyframe(11)
	if n := plis.Load(); n != 1 {
		t.Errorf("%d PLIs after the layer started at its keyframe, want 1", n)
	}
	if w.count() != 1 || d.selector.current.Load() != 1 {
		t.Errorf("the keyframe after the connection came up was not forwarded (%d written, layer %d)", w.count(), d.selector.current.Load())
	}
}
