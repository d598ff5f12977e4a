package sfu

import (
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// A join storm on a simulcast track — many subscribers on each layer all
// asking at once, through every path that asks — costs each layer's SSRC
// one PLI now (the trailing one is an interval away), and a storm on one
// layer does not swallow another layer's request.
func TestJoinStormCostsEachLayerOnePLI(t *testing.T) {
	var stats counters
	track := simulcastTestTrack()
	track.stats = &stats
	var mu sync.Mutex
	plis := map[uint32]int{}
	track.writeRTCP = func(pkts []rtcp.Packet) error {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range pkts {
			plis[p.(*rtcp.PictureLossIndication).MediaSSRC]++
		}
		return nil
	}
	for l := range int8(maxLayers) {
		track.addLayerFeedback(l)
		// An interval no test run outlasts, so no trailing request fires.
		track.keyframes[l] = newKeyframeRequester(time.Hour, func() { track.sendPLI(l) })
	}
	defer track.stopLayerFeedback()

	var wg sync.WaitGroup
	for i := range 60 {
		layer := int8(i % maxLayers)
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := &DownTrack{track: track, selector: newLayerSelector(track)}
			d.selector.setTarget(layer) // a switch asks for the layer's keyframe
			d.requestKeyframe()         // the first delivered packet, or a PLI
		}()
	}
	wg.Wait()
	track.RequestKeyframe() // unmute: every layer, folded into the same
	mu.Lock()
	defer mu.Unlock()
	for l := range maxLayers {
		if got := plis[uint32(100+l)]; got != 1 {
			t.Errorf("layer %d got %d PLIs, want 1", l, got)
		}
	}
	if len(plis) != maxLayers || stats.keyframeRequests.Load() != maxLayers {
		t.Errorf("PLIs %v (%d counted), want one per layer SSRC", plis, stats.keyframeRequests.Load())
	}
}

// A sender report is relayed with the offset in force for the layer the
// subscriber is forwarded, and for no other layer, and not while paused.
func TestSenderReportOffsetFollowsTheForwardedLayer(t *testing.T) {
	sel := newLayerSelector(simulcastTestTrack())
	forward := func(layer int8, seq uint16, ts uint32, key bool, now int64) (uint32, bool) {
		h := rtp.Header{SequenceNumber: seq, Timestamp: ts}
		if !sel.forward(&h, layer, vp8Payload(true, key, 320, 180, 20), now) {
			return 0, false
		}
		return h.Timestamp, true
	}
	if _, ok := sel.timestampOffset(0); ok {
		t.Error("an offset before anything was forwarded")
	}
	sel.setTarget(0)
	out0, _ := forward(0, 10, 5000, true, 1e9)
	if off, ok := sel.timestampOffset(0); !ok || 5000+off != out0 {
		t.Errorf("layer 0 offset %d ok %v, want %d", off, ok, out0-5000)
	}
	sel.setTarget(1)
	out1, ok := forward(1, 900, 7_000_000, true, 2e9)
	if !ok {
		t.Fatal("layer 1 keyframe not forwarded")
	}
	if _, ok := sel.timestampOffset(0); ok {
		t.Error("layer 0's report still relayed after the switch to layer 1")
	}
	if off, ok := sel.timestampOffset(1); !ok || 7_000_000+off != out1 {
		t.Errorf("layer 1 offset %d ok %v, want %d", off, ok, out1-7_000_000)
	}
	sel.setTarget(noLayer)
	forward(1, 901, 7_003_000, false, 3e9)
	if _, ok := sel.timestampOffset(1); ok {
		t.Error("a report relayed to a paused subscriber")
	}
}
