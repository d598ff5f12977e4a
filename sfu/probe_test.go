package sfu

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
)

// TestProbePaddingKeepsTheStreamWhole: padding goes out between frames at
// the rate asked, on the media SSRC, with continuous seqs, the last
// frame's timestamp and the padding flag; media is untouched; a NACK for
// a padding seq resends that padding (unrepaired, the receiver counts it
// lost for good) and one for media after it resends the right packet.
func TestProbePaddingKeepsTheStreamWhole(t *testing.T) {
	var stats counters
	track := simulcastTestTrack()
	track.stats = &stats
	for l := range maxLayers {
		track.history[l] = newPacketHistory(videoHistoryLength)
	}
	w := &payloadWriter{}
	d := &DownTrack{track: track, stats: &stats, selector: newLayerSelector(track)}
	b := &binding{ssrc: 4242, payloadType: 96, writer: w}
	d.bound.Store(b)
	d.nacks = nackResponder{source: d.selector, stats: &stats}
	d.selector.setTarget(0)

	const rate = 400_000
	d.probe.rate.Store(rate)
	now := int64(1_000_000_000)
	const frames = 60              // 2 s at 30 fps
	inSeqOf := map[uint16]uint16{} // outgoing seq of media → incoming seq
	// Frames of several packets, as every layer but the smallest has:
	// padding waits for a frame's last packet.
	const perFrame = 3
	for frame := range frames {
		for k := range perFrame {
			inSeq := uint16(5000 + perFrame*frame + k)
			raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: inSeq, Timestamp: uint32(3000 * frame), Marker: k == perFrame-1, SSRC: 100},
				Payload: vp8Payload(k == 0, frame == 0 && k == 0, 320, 180, 300)}).Marshal()
			p := getPacket()
			p.n = copy(p.buf[:], raw)
			p.refs.Store(1)
			before := w.count()
			d.writeAt(p, now)
			if w.count() == before {
				t.Fatalf("frame %d packet %d not forwarded", frame, k)
			}
			inSeqOf[w.headers[before].SequenceNumber] = inSeq
			p.release()
			now += 33_333_333 / perFrame
		}
	}
	d.probe.rate.Store(0)
	{
		before := w.count()
		raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: 5000 + perFrame*frames, Timestamp: 3000 * frames, Marker: true, SSRC: 100}, Payload: vp8Payload(true, false, 0, 0, 300)}).Marshal()
		p := getPacket()
		p.n = copy(p.buf[:], raw)
		p.refs.Store(1)
		d.writeAt(p, now+probeBurstGap)
		p.release()
		if n := w.count() - before; n != 1 {
			t.Errorf("probing off: %d packets for one frame, want 1", n)
		}
	}

	padBytes, pads := 0, 0
	for i, h := range w.headers {
		if i > 0 && h.SequenceNumber != w.headers[i-1].SequenceNumber+1 {
			t.Fatalf("packet %d: seq %d after %d", i, h.SequenceNumber, w.headers[i-1].SequenceNumber)
		}
		if h.SSRC != 4242 {
			t.Fatalf("packet %d on SSRC %d", i, h.SSRC)
		}
		if !h.Padding {
			if len(w.payloads[i]) != 300 {
				t.Errorf("media packet %d has %d bytes, want 300", i, len(w.payloads[i]))
			}
			continue
		}
		pads++
		padBytes += len(w.payloads[i])
		prev := w.headers[i-1]
		if h.Marker || h.Timestamp != prev.Timestamp || !prev.Marker && !prev.Padding {
			t.Errorf("padding %d: marker %v ts %d after ts %d (marker %v): want between frames with the last frame's timestamp", i, h.Marker, h.Timestamp, prev.Timestamp, prev.Marker)
		}
		if pl := w.payloads[i]; int(pl[len(pl)-1]) != len(pl) {
			t.Errorf("padding %d: last byte %d, payload %d bytes", i, pl[len(pl)-1], len(pl))
		}
		if _, _, _, ok := d.selector.rw.original(h.SequenceNumber); ok {
			t.Errorf("padding seq %d maps back to a media packet", h.SequenceNumber)
		}
	}
	// 2 s at 400 kbit/s, less the first burst gap.
	want := rate / 8 * 2
	if padBytes < want*7/10 || padBytes > want*11/10 {
		t.Errorf("%d bytes of padding in %d packets, want about %d (%d bit/s for 2 s)", padBytes, pads, want, rate)
	}
	if got := stats.probePackets.Load(); got != uint64(pads) {
		t.Errorf("probe packets counted %d, sent %d", got, pads)
	}
	// A NACK for the last burst's padding gets that padding again, not media.
	var lastPad rtp.Header
	for _, h := range w.headers {
		if h.Padding {
			lastPad = h
		}
	}
	sent := w.count()
	d.nacks.handle(&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: lastPad.SequenceNumber}}}, b)
	if w.count() != sent+1 {
		t.Fatalf("NACK for padding seq %d: %d packets resent, want 1", lastPad.SequenceNumber, w.count()-sent)
	}
	if h, pl := w.headers[sent], w.payloads[sent]; !h.Padding || h.SequenceNumber != lastPad.SequenceNumber || h.Timestamp != lastPad.Timestamp ||
		h.SSRC != 4242 || h.Marker || len(pl) != paddingSize || int(pl[len(pl)-1]) != len(pl) {
		t.Errorf("NACKed padding resent as %+v with %d bytes, want padding seq %d ts %d", h, len(pl), lastPad.SequenceNumber, lastPad.Timestamp)
	}
	if got := stats.probePackets.Load(); got != uint64(pads)+1 {
		t.Errorf("probe packets counted %d after the resend, want %d", got, pads+1)
	}
	// The last media packets map back through the padding bursts.
	for out, in := range inSeqOf {
		if int16(w.headers[len(w.headers)-1].SequenceNumber-out) > 60 {
			continue // older than the remembered bursts
		}
		if layer, seq, _, ok := d.selector.rw.original(out); !ok || layer != 0 || seq != in {
			t.Errorf("original(%d) = layer %d seq %d ok %v, want layer 0 seq %d", out, layer, seq, ok, in)
		}
	}
}

// TestProbeControl: probing runs while a higher layer is wanted, fills up
// to that layer's cost with headroom but within a share of the estimate,
// goes on while the upswitch sustains, and stops at loss and at an
// estimate that falls while it probes (then cools down).
func TestProbeControl(t *testing.T) {
	all := [maxLayers]bool{true, true, true}
	d := layerDemand{available: all, cost: [maxLayers]int{150_000, 500_000, 1_500_000}, maxLayer: 2}
	var p probeControl
	start := time.Unix(1000, 0)
	steps := []struct {
		name   string
		at     time.Duration
		budget int
		media  int
		loss   float64
		layer  int8
		why    upswitch // what the hysteresis says; probing goes on whatever it is
		want   int
	}{
		{"low layer, estimate short of the next", 0, 400_000, 150_000, 0, 0, upNone, 200_000},
		{"capped at half the estimate", 500 * time.Millisecond, 440_000, 0, 0, 0, upNone, 220_000},
		{"loss stops it", time.Second, 440_000, 150_000, 0.06, 0, upNone, 0},
		{"cooling down", 5 * time.Second, 440_000, 150_000, 0, 0, upNone, 0},
		{"after the cooldown", 6 * time.Second, 440_000, 250_000, 0, 0, upNone, 146_000},
		{"estimate fell: stops", 6500 * time.Millisecond, 300_000, 150_000, 0, 0, upNone, 0},
		{"cooling down after the fall", 11 * time.Second, 440_000, 150_000, 0, 0, upNone, 0},
		{"estimate reached the next layer: holds it while sustaining", 12 * time.Second, 700_000, 150_000, 0, 0, upSustained, 350_000},
		{"top of what the tile wants", 13 * time.Second, 700_000, 1_500_000, 0, 2, upNone, 0},
		{"a fall while nothing probed blames no probe: probes at once", 13500 * time.Millisecond, 500_000, 150_000, 0, 0, upNone, 250_000},
		{"paused: nothing to pad", 14 * time.Second, 100_000, 0, 0, noLayer, upNone, 0},
		{"backing off: probing tells when to try again", 15 * time.Second, 1_500_000, 500_000, 0, 1, upBackedOff, 750_000},
		{"no estimate", 16 * time.Second, -1, 500_000, 0, 1, upNone, 0},
		{"up to the next layer with headroom, no further", 17 * time.Second, 2_000_000, 150_000, 0, 0, upNone, 625_000 - 150_000},
	}
	for _, s := range steps {
		if got := p.decide(s.budget, s.media, s.loss, d, s.layer, start.Add(s.at)); got != s.want {
			t.Errorf("%s: probe %d bit/s, want %d", s.name, got, s.want)
		}
	}
}

// TestAllocatorProbesLeaveRoomForAudio: the allocator has the video held
// on its lowest layer probe for the next, leaving audio its reserve, and
// goes on probing while the upswitch sustains, so that the estimate,
// which gcc holds near the rate it sees, stays where the next layer fits.
func TestAllocatorProbesLeaveRoomForAudio(t *testing.T) {
	var stats counters
	track := simulcastTestTrack()
	track.stats = &stats
	for l := range int8(maxLayers) {
		track.keyframes[l] = newKeyframeRequester(time.Hour, func() {})
	}
	defer track.stopLayerFeedback()
	video := &DownTrack{track: track, stats: &stats, selector: newLayerSelector(track)}
	audio := &DownTrack{track: &Track{id: "t_audio", kind: webrtc.RTPCodecTypeAudio}, stats: &stats}
	est := &lossyEstimate{bps: 300_000}
	s := &Subscriber{downs: map[string]*DownTrack{track.id: video, "t_audio": audio}, alloc: newAllocator(est)}
	start := time.Unix(1000, 0)
	step := func(i int) {
		for l, kbps := range [maxLayers]uint64{80, 320, 800} {
			track.sim.layers[l].bytes.Add(kbps * 1000 / 8 / 2) // per 500 ms
		}
		s.allocate(start.Add(time.Duration(i) * allocateInterval))
	}
	for i := range 4 {
		step(i)
	}
	if got := video.selector.target.Load(); got != 0 {
		t.Fatalf("300 kbit/s: layer %d, want 0", got)
	}
	// 90% of 300k, less 80k of video and 64k for audio.
	if got, want := video.probe.rate.Load(), int64(270_000-80_000-probeAudioReserve); got != want {
		t.Errorf("probe rate %d bit/s, want %d", got, want)
	}
	if got := stats.probes.Load(); got != 1 {
		t.Errorf("%d probes started, want 1", got)
	}
	est.bps = 450_000 // carries the middle layer (320k + 25%)
	step(4)
	if got := video.selector.target.Load(); got != 0 {
		t.Fatalf("estimate new to the middle layer: layer %d, want 0 while it sustains", got)
	}
	// 90% of 450k less 80k of video and 64k for audio, but at most half
	// the estimate.
	if got, want := video.probe.rate.Load(), int64(min(405_000-80_000-probeAudioReserve, 225_000)); got != want {
		t.Errorf("sustaining the middle layer: probe rate %d bit/s, want %d", got, want)
	}
}
