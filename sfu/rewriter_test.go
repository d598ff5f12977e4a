package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
)

// vp8Payload builds a VP8 payload: a descriptor with S set on a frame's
// first packet, then a keyframe header (with size) or an interframe tag.
func vp8Payload(first, key bool, width, height int, size int) []byte {
	b := make([]byte, max(size, 11))
	if first {
		b[0] = 0x10
	}
	if key {
		b[1] = 0x00 // frame tag, P bit clear
		b[4], b[5], b[6] = 0x9d, 0x01, 0x2a
		b[7], b[8] = byte(width), byte(width>>8)
		b[9], b[10] = byte(height), byte(height>>8)
	} else {
		b[1] = 0x01
	}
	return b
}

// layerStream is one fake simulcast layer with its own seq and ts bases.
type layerStream struct {
	seq uint16
	ts  uint32
}

type sent struct {
	layer   int8
	inSeq   uint16
	outSeq  uint16
	outTS   uint32
	key     bool
	frameNo int
}

func simulcastTestTrack() *Track {
	t := &Track{id: "t_sim", kind: webrtc.RTPCodecTypeVideo, codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}}}
	t.writeRTCP = func([]rtcp.Packet) error { return nil }
	t.sim = &simulcastLayers{family: codecVP8}
	for i := range maxLayers {
		t.sim.layers[i].ssrc.Store(uint32(100 + i))
	}
	t.downs.Store(&[]*DownTrack{})
	return t
}

// TestRewriterSwitchesOnlyAtKeyframesWithContinuousNumbers runs three
// layers with unrelated seq/ts bases through a selector whose target moves
// up, down, pauses and resumes, and checks what a subscriber would see.
func TestRewriterSwitchesOnlyAtKeyframesWithContinuousNumbers(t *testing.T) {
	sel := newLayerSelector(simulcastTestTrack())
	streams := [maxLayers]layerStream{{seq: 65500, ts: 4294960000}, {seq: 10, ts: 7}, {seq: 30000, ts: 2_000_000_000}}
	packetsPerFrame := [maxLayers]int{1, 2, 3}
	// Keyframes come every 12 frames, at different frames per layer.
	keyOffset := [maxLayers]int{0, 4, 8}
	targets := map[int]int8{0: 2, 20: 0, 45: 1, 70: noLayer, 80: 2, 100: 0}

	var out []sent
	now := int64(1_000_000_000)
	for frame := range 130 {
		if l, ok := targets[frame]; ok {
			sel.setTarget(l)
		}
		now += 33_333_333
		for layer := range int8(maxLayers) {
			s := &streams[layer]
			key := (frame+keyOffset[layer])%12 == 0
			for k := range packetsPerFrame[layer] {
				payload := vp8Payload(k == 0, key && k == 0, 320<<layer, 180<<layer, 100)
				h := rtp.Header{SequenceNumber: s.seq, Timestamp: s.ts, SSRC: uint32(100 + int(layer))}
				s.seq++
				if !sel.accepts(layer) {
					continue
				}
				if sel.forward(&h, layer, payload, now) {
					out = append(out, sent{layer: layer, inSeq: s.seq - 1, outSeq: h.SequenceNumber, outTS: h.Timestamp, key: key && k == 0, frameNo: frame})
				}
			}
			s.ts += 3000
		}
	}

	if len(out) == 0 {
		t.Fatal("nothing forwarded")
	}
	layersSeen := map[int8]bool{}
	switches := 0
	for i, p := range out {
		layersSeen[p.layer] = true
		if i == 0 {
			if !p.key {
				t.Fatalf("first packet out is not a keyframe: %+v", p)
			}
			continue
		}
		prev := out[i-1]
		if p.outSeq != prev.outSeq+1 {
			t.Errorf("packet %d: seq %d after %d, want continuous", i, p.outSeq, prev.outSeq)
		}
		if int32(p.outTS-prev.outTS) < 0 {
			t.Errorf("packet %d: timestamp %d after %d goes back", i, p.outTS, prev.outTS)
		}
		if p.frameNo != prev.frameNo && p.outTS == prev.outTS {
			t.Errorf("packet %d: new frame with the previous frame's timestamp %d", i, p.outTS)
		}
		if p.layer != prev.layer {
			switches++
			if !p.key {
				t.Errorf("packet %d: switched from layer %d to %d on a non-keyframe", i, prev.layer, p.layer)
			}
		}
	}
	if len(layersSeen) != maxLayers || switches < 4 {
		t.Errorf("saw layers %v with %d switches; the plan moves through all three at least 4 times", layersSeen, switches)
	}
	// While paused (frames 70–79) nothing goes out; the resume waits for
	// a layer-2 keyframe (frames 88, 100, …).
	for _, p := range out {
		if p.frameNo >= 70 && p.frameNo < 88 {
			t.Errorf("packet of frame %d forwarded while paused or before the resume keyframe", p.frameNo)
			break
		}
	}
	// Every outgoing seq of the last switches maps back to its layer packet.
	recent := 0
	for _, p := range out[len(out)-40:] {
		layer, seq, _, ok := sel.rw.original(p.outSeq)
		if !ok || layer != p.layer || seq != p.inSeq {
			t.Errorf("original(%d) = layer %d seq %d ok %v, want layer %d seq %d", p.outSeq, layer, seq, ok, p.layer, p.inSeq)
		}
		recent++
	}
	if _, _, _, ok := sel.rw.original(out[len(out)-1].outSeq + 1); ok {
		t.Error("original maps a seq that was never sent")
	}
}

func TestRewriterRefusesPacketsFromBeforeTheSwitch(t *testing.T) {
	rw := newSeqRewriter(90000)
	rw.switchTo(0, 1000, 5000, 0)
	for seq := uint16(1000); seq < 1010; seq++ {
		if _, _, ok := rw.rewrite(seq, 5000, 0); !ok {
			t.Fatalf("seq %d refused", seq)
		}
	}
	rw.switchTo(1, 40000, 900, 10_000_000) // 10 ms later
	if _, _, ok := rw.rewrite(39999, 600, 10_000_000); ok {
		t.Error("a layer-1 packet older than its switch keyframe was forwarded")
	}
	seq, ts, ok := rw.rewrite(40000, 900, 10_000_000)
	if !ok || seq != 1010 || ts != 5000+900 {
		t.Errorf("first packet after switch = seq %d ts %d ok %v, want 1010, %d (10 ms at 90 kHz later)", seq, ts, ok, 5000+900)
	}
}

func TestKeyframeDetection(t *testing.T) {
	cases := []struct {
		name    string
		family  int
		payload []byte
		want    bool
	}{
		{"vp8 keyframe", codecVP8, vp8Payload(true, true, 640, 360, 20), true},
		{"vp8 interframe", codecVP8, vp8Payload(true, false, 0, 0, 20), false},
		{"vp8 continuation", codecVP8, vp8Payload(false, true, 640, 360, 20), false},
		{"vp8 with picture id", codecVP8, []byte{0x90, 0x80, 0x81, 0x02, 0x00, 0, 0, 0x9d, 0x01, 0x2a}, true},
		{"vp8 empty", codecVP8, nil, false},
		{"h264 idr", codecH264, []byte{0x65, 1, 2}, true},
		{"h264 stap-a with sps", codecH264, []byte{24, 0, 2, 0x67, 1, 0, 1, 0x68}, true},
		{"h264 fu-a start idr", codecH264, []byte{28, 0x85, 1}, true},
		{"h264 fu-a middle", codecH264, []byte{28, 0x05, 1}, false},
		{"h264 non-idr", codecH264, []byte{0x41, 1}, false},
		{"vp9 keyframe start", codecVP9, []byte{0x08}, true},
		{"vp9 inter", codecVP9, []byte{0x48}, false},
		{"unknown codec", codecUnknown, []byte{0x10, 0}, false},
	}
	for _, c := range cases {
		if got := isKeyframeStart(c.family, c.payload); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
	if w, h, ok := vp8KeyframeSize(vp8Payload(true, true, 1280, 720, 20)); !ok || w != 1280 || h != 720 {
		t.Errorf("vp8 size = %dx%d %v, want 1280x720", w, h, ok)
	}
}

func TestPlanLayers(t *testing.T) {
	all := [maxLayers]bool{true, true, true}
	cost := [maxLayers]int{100_000, 300_000, 900_000}
	demand := func(maxLayer, target int8) layerDemand {
		return layerDemand{available: all, cost: cost, maxLayer: maxLayer, target: target}
	}
	cases := []struct {
		name    string
		budget  int
		demands []layerDemand
		want    []int8
	}{
		{"no estimate: as large as asked", -1, []layerDemand{demand(2, noLayer), demand(0, noLayer)}, []int8{2, 0}},
		{"plenty", 5_000_000, []layerDemand{demand(2, 2)}, []int8{2}},
		{"cut to middle", 500_000, []layerDemand{demand(2, 2)}, []int8{1}},
		{"cut below lowest pauses", 50_000, []layerDemand{demand(2, 0)}, []int8{noLayer}},
		{"moving up needs headroom", 310_000, []layerDemand{demand(2, 0)}, []int8{0}},
		{"staying needs none", 310_000, []layerDemand{demand(2, 1)}, []int8{1}},
		{"one gcc back-off (0.85x) keeps the layer", 765_000, []layerDemand{demand(2, 2)}, []int8{2}},
		{"two back-offs (0.72x) go down", 648_000, []layerDemand{demand(2, 2)}, []int8{1}},
		{"size caps", 5_000_000, []layerDemand{demand(0, 2)}, []int8{0}},
		{"shared: both get something", 450_000, []layerDemand{demand(2, 1), demand(2, 1)}, []int8{1, 0}},
		{"missing layer skipped", 5_000_000, []layerDemand{{available: [maxLayers]bool{true, true, false}, cost: cost, maxLayer: 1, target: 0}}, []int8{1}},
	}
	for _, c := range cases {
		got := planLayers(c.budget, c.demands)
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: plan %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
}

// TestPausedVideoIsRetriedWithBackoff: a paused subscriber gets the lowest
// layer back on trial after the backoff; the trial holds while the
// estimate does not fall, and a falling estimate pauses again for longer.
func TestPausedVideoIsRetriedWithBackoff(t *testing.T) {
	var p pauseState
	start := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	steps := []struct {
		at      time.Duration
		planned int8
		budget  int
		want    int8
	}{
		{0, noLayer, 40_000, noLayer},                 // cannot carry the lowest: paused
		{time.Second, noLayer, 40_000, noLayer},       // still within the backoff
		{2 * time.Second, noLayer, 40_000, 0},         // trial of the lowest layer
		{2500 * time.Millisecond, noLayer, 45_000, 0}, // estimate holds: trial goes on
		{3 * time.Second, noLayer, 20_000, noLayer},   // estimate fell: paused, backoff 4 s
		{6 * time.Second, noLayer, 20_000, noLayer},   // 3 s later: still paused
		{7 * time.Second, noLayer, 20_000, 0},         // 4 s later: trial again
		{8 * time.Second, 1, 400_000, 1},              // estimate grew: normal choice
		{9 * time.Second, noLayer, 40_000, noLayer},   // a new pause starts from the minimum backoff
		{11 * time.Second, noLayer, 40_000, 0},
	}
	for i, s := range steps {
		if got := p.decide(s.planned, 0, s.budget, at(s.at)); got != s.want {
			t.Fatalf("step %d (t=%v, planned %d, budget %d): got %d, want %d", i, s.at, s.planned, s.budget, got, s.want)
		}
	}
}

// TestRewriterRunsPastSequenceWrap: a layer forwarded for longer than the
// 16-bit sequence space stays accepted, continuous and mappable.
func TestRewriterRunsPastSequenceWrap(t *testing.T) {
	rw := newSeqRewriter(90000)
	rw.switchTo(0, 60000, 0, 0)
	rw.switchTo(1, 5, 0, 0) // a switch before the long run
	var prev uint16
	for i := range 200_000 {
		in := uint16(5 + i)
		out, _, ok := rw.rewrite(in, uint32(i*30), int64(i))
		if !ok {
			t.Fatalf("packet %d (seq %d) refused", i, in)
		}
		if i > 0 && out != prev+1 {
			t.Fatalf("packet %d: seq %d after %d", i, out, prev)
		}
		prev = out
		if i%1000 == 999 {
			back := out - 500
			if layer, seq, _, ok := rw.original(back); !ok || layer != 1 || seq != in-500 {
				t.Fatalf("after %d packets original(%d) = %d, %d, %v; want layer 1 seq %d", i+1, back, layer, seq, ok, in-500)
			}
		}
	}
	if _, _, ok := rw.rewrite(prev-reorderWindow-10, 0, 0); ok {
		t.Error("a packet far older than the reorder window was forwarded")
	}
}
