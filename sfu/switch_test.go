package sfu

import (
	"testing"

	"github.com/pion/rtp"
)

// TestSwitchLeavesNoGap: between asking for a layer and its keyframe the
// subscriber keeps getting every frame of the layer it has, whole; from
// the keyframe on it gets every frame of the new layer and nothing of the
// old, with continuous sequence numbers. Up and down alike, with the layers' packets interleaved as their
// read loops deliver them.
func TestSwitchLeavesNoGap(t *testing.T) {
	cases := []struct {
		name          string
		from, to      int8
		askAt, keyAt  int // frames: the allocator's switch, the target's keyframe
		firstKeyframe int // the from layer's keyframe that starts the stream
	}{
		{"up", 0, 2, 5, 11, 0},
		{"down", 2, 0, 6, 9, 0},
		{"up one", 1, 2, 3, 4, 0},
	}
	packetsPerFrame := [maxLayers]int{1, 3, 5}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sel := newLayerSelector(simulcastTestTrack())
			sel.setTarget(c.from)
			var streams [maxLayers]layerStream
			type frameKey struct {
				layer int8
				frame int
			}
			got := map[frameKey]int{}
			var lastSeq uint16
			started := false
			now := int64(1_000_000_000)
			const frames = 20
			for frame := range frames {
				if frame == c.askAt {
					sel.setTarget(c.to)
				}
				now += 33_333_333
				// The layers' packets interleave, one of each in turn.
				for k := range packetsPerFrame[maxLayers-1] {
					for layer := range int8(maxLayers) {
						if k >= packetsPerFrame[layer] {
							continue
						}
						s := &streams[layer]
						key := k == 0 && ((layer == c.from && frame == c.firstKeyframe) || (layer == c.to && frame == c.keyAt))
						h := rtp.Header{SequenceNumber: s.seq, Timestamp: s.ts, Marker: k == packetsPerFrame[layer]-1}
						s.seq++
						if k == packetsPerFrame[layer]-1 {
							s.ts += 3000
						}
						if !sel.accepts(layer) || !sel.forward(&h, layer, vp8Payload(k == 0, key, 320, 180, 50), now) {
							continue
						}
						if started && h.SequenceNumber != lastSeq+1 {
							t.Fatalf("frame %d layer %d: seq %d after %d", frame, layer, h.SequenceNumber, lastSeq)
						}
						started, lastSeq = true, h.SequenceNumber
						got[frameKey{layer, frame}]++
					}
				}
			}
			for frame := range frames {
				want := map[int8]int{}
				switch {
				case frame < c.keyAt:
					want[c.from] = packetsPerFrame[c.from]
				default:
					want[c.to] = packetsPerFrame[c.to]
				}
				for layer := range int8(maxLayers) {
					n := got[frameKey{layer, frame}]
					if frame == c.keyAt && layer == c.from && n <= packetsPerFrame[layer] {
						// The old layer's frame in progress when the keyframe
						// starts is cut there: one frame the decoder skips,
						// since the keyframe needs nothing before it.
						continue
					}
					if n != want[layer] {
						t.Errorf("frame %d, layer %d: %d packets forwarded, want %d (switch asked at frame %d, keyframe at %d)", frame, layer, n, want[layer], c.askAt, c.keyAt)
					}
				}
			}
		})
	}
}

// TestLayerGaugeAndSwitchCounts: the engine's stats follow one
// subscription through a start, an upswitch, a pause and its end.
func TestLayerGaugeAndSwitchCounts(t *testing.T) {
	var stats counters
	track := simulcastTestTrack()
	track.stats = &stats
	sel := newLayerSelector(track)
	seq := [maxLayers]uint16{}
	send := func(layer int8, key bool) {
		h := rtp.Header{SequenceNumber: seq[layer], Timestamp: uint32(seq[layer]) * 3000}
		seq[layer]++
		sel.forward(&h, layer, vp8Payload(true, key, 320, 180, 50), int64(seq[layer])*33_000_000)
	}
	check := func(when string, byLayer [maxLayers]int64, paused int64, up, down uint64) {
		t.Helper()
		s := stats.snapshot()
		if s.SubscriptionsByLayer != byLayer || s.SubscriptionsPaused != paused || s.LayerSwitchesUp != up || s.LayerSwitchesDown != down {
			t.Errorf("%s: by layer %v paused %d, switches up %d down %d; want %v %d, %d %d", when, s.SubscriptionsByLayer, s.SubscriptionsPaused, s.LayerSwitchesUp, s.LayerSwitchesDown, byLayer, paused, up, down)
		}
	}
	check("before any layer", [maxLayers]int64{}, 0, 0, 0)
	sel.setTarget(0)
	send(0, true)
	check("started on q", [maxLayers]int64{1, 0, 0}, 0, 0, 0)
	sel.setTarget(2)
	send(0, false)
	send(2, true)
	check("up to f", [maxLayers]int64{0, 0, 1}, 0, 1, 0)
	sel.setTarget(1)
	send(1, true)
	check("down to h", [maxLayers]int64{0, 1, 0}, 0, 1, 1)
	sel.setTarget(noLayer)
	send(1, false)
	check("paused", [maxLayers]int64{}, 1, 1, 1)
	sel.setTarget(0)
	send(0, true)
	check("resumed: not a switch", [maxLayers]int64{1, 0, 0}, 0, 1, 1)
	sel.view(-1)
	check("ended", [maxLayers]int64{}, 0, 1, 1)
}

// TestGroupStatsFollowTheGroupsSubscribers: a group's figures count its
// subscribers' video alone and go with its last subscriber.
func TestGroupStatsFollowTheGroupsSubscribers(t *testing.T) {
	e := &Engine{}
	a1, a2, b := e.groups.join("a"), e.groups.join("a"), e.groups.join("b")
	if a1 != a2 || a1 == b || e.groups.join("") != nil {
		t.Fatal("groups not shared by name")
	}
	e.groups.leave("b")
	track := simulcastTestTrack()
	sel := newLayerSelector(track)
	sel.group = a1
	sel.setTarget(0)
	h := rtp.Header{SequenceNumber: 1}
	sel.forward(&h, 0, vp8Payload(true, true, 320, 180, 50), 1)
	sel.setTarget(1)
	h = rtp.Header{SequenceNumber: 7}
	sel.forward(&h, 1, vp8Payload(true, true, 640, 360, 50), 2)
	got := e.GroupStats()
	if len(got) != 1 || got["a"].SubscriptionsByLayer != [maxLayers]int64{0, 1, 0} || got["a"].LayerSwitchesUp != 1 {
		t.Errorf("group stats %+v, want only a: one subscription on h, one switch up", got)
	}
	sel.view(-1)
	e.groups.leave("a")
	if got := e.GroupStats(); got["a"].SubscriptionsByLayer != [maxLayers]int64{} {
		t.Errorf("a subscriber left: %+v", got)
	}
	e.groups.leave("a")
	if got := e.GroupStats(); len(got) != 0 {
		t.Errorf("every subscriber left: %+v, want no groups", got)
	}
}
