package sfu

import (
	"slices"
	"sync"
	"testing"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// payloadWriter keeps what a down track wrote, payload included, and
// tells a waiting test when it has n packets.
type payloadWriter struct {
	mu       sync.Mutex
	headers  []rtp.Header
	payloads [][]byte
}

func (w *payloadWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.headers = append(w.headers, *h)
	w.payloads = append(w.payloads, slices.Clone(payload))
	return len(payload), nil
}

func (w *payloadWriter) Write(b []byte) (int, error) { return len(b), nil }

func (w *payloadWriter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.headers)
}

// sentBySeq returns the first packet written with seq.
func (w *payloadWriter) sentBySeq(seq uint16) (rtp.Header, []byte, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, h := range w.headers {
		if h.SequenceNumber == seq {
			return h, w.payloads[i], true
		}
	}
	return rtp.Header{}, nil, false
}

// layerPacket is a pooled packet of one simulcast layer whose payload
// names the layer and frame, so a resend of the wrong one shows.
func layerPacket(layer int8, seq uint16, ts uint32, key bool, frame byte) *packet {
	payload := vp8Payload(true, key, 320, 180, 40)
	payload[20], payload[21] = byte(layer), frame
	raw, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, SSRC: uint32(100 + int(layer))}, Payload: payload}).Marshal()
	p := getPacket()
	p.n = copy(p.buf[:], raw)
	p.layer = layer
	return p
}

// simulcastSubscription is a simulcast track with one subscriber, whose
// writes a payloadWriter keeps.
type simulcastSubscription struct {
	stats counters
	track *Track
	d     *DownTrack
	w     *payloadWriter
	b     *binding
}

func newSimulcastSubscription(t *testing.T) *simulcastSubscription {
	s := &simulcastSubscription{track: simulcastTestTrack(), w: &payloadWriter{}}
	s.track.stats = &s.stats
	for l := range int8(maxLayers) {
		s.track.addLayerFeedback(l)
	}
	t.Cleanup(s.track.stopLayerFeedback)
	out := startConnWriter()
	t.Cleanup(out.close)
	s.d = newDownTrack(s.track, &s.stats, out)
	t.Cleanup(s.d.close)
	s.b = &binding{ssrc: 4242, payloadType: 96, writer: s.w}
	s.d.bound.Store(s.b)
	s.track.addDownTrack(s.d)
	return s
}

// waitFor waits until the subscriber has written n packets.
func (s *simulcastSubscription) waitFor(n int) {
	for s.w.count() < n {
		waitForWriter()
	}
}

// playSwitch has the subscriber receive frames of layer 0, then switch to
// layer 1 at its keyframe and receive as many again; send(frame, keyOn)
// sends one frame of each layer, keyOn's a keyframe (-1: none). Layer
// 0's packet of the switch frame goes out before layer 1's keyframe
// arrives, so 2*frames+1 packets are written when it returns.
func (s *simulcastSubscription) playSwitch(frames int, send func(frame int, keyOn int8)) {
	s.d.selector.setTarget(0)
	for frame := range frames {
		send(frame, 0)
	}
	s.waitFor(frames)
	s.d.selector.setTarget(1)
	send(frames, 1)
	for frame := frames + 1; frame < 2*frames; frame++ {
		send(frame, -1)
	}
	s.waitFor(2*frames + 1)
}

// TestNACKAfterLayerSwitchResendsTheRewrittenPacket forwards layer 0,
// switches the subscriber to layer 1 — whose sequence numbers are the
// same as layer 0's, as independent encoders' may be — and NACKs
// outgoing numbers from both sides of the switch. Each resend must be
// exactly the packet first sent under that number: same layer's payload,
// same rewritten timestamp, the subscriber's SSRC.
func TestNACKAfterLayerSwitchResendsTheRewrittenPacket(t *testing.T) {
	sub := newSimulcastSubscription(t)
	stats, track, d, w, b := &sub.stats, sub.track, sub.d, sub.w, sub.b

	// Both layers count from 1000; layer 1's clock runs elsewhere.
	const frames = 6
	send := func(frame int, keyOn int8) {
		for layer := range int8(2) {
			ts := uint32(frame*3000) + uint32(layer)*1_000_000
			track.fanOut(layerPacket(layer, uint16(1000+frame), ts, layer == keyOn, byte(frame)))
		}
	}
	sub.playSwitch(frames, send)

	w.mu.Lock()
	first := w.headers[0]
	w.mu.Unlock()
	switchOut := first.SequenceNumber + frames + 1
	if h, payload, ok := w.sentBySeq(switchOut); !ok || payload[20] != 1 || h.Timestamp == 0 {
		t.Fatalf("packet %d after the switch is not layer 1's keyframe", switchOut)
	}
	nacked := []uint16{first.SequenceNumber + 2, switchOut - 1, switchOut, switchOut + 3}
	var pairs []rtcp.NackPair
	for _, seq := range nacked {
		pairs = append(pairs, rtcp.NackPair{PacketID: seq})
	}
	before := w.count()
	d.nacks.handle(&rtcp.TransportLayerNack{Nacks: pairs}, b)
	if got := w.count() - before; got != len(nacked) {
		t.Fatalf("resent %d packets, want %d", got, len(nacked))
	}
	w.mu.Lock()
	resent, resentPayloads := w.headers[before:], w.payloads[before:]
	w.mu.Unlock()
	for i, seq := range nacked {
		orig, origPayload, _ := w.sentBySeq(seq)
		got := resent[i]
		if got.SequenceNumber != seq || got.Timestamp != orig.Timestamp || got.SSRC != b.ssrc || !slices.Equal(resentPayloads[i], origPayload) {
			t.Errorf("NACK %d: resent seq %d ts %d ssrc %d layer %d frame %d; first sent ts %d layer %d frame %d",
				seq, got.SequenceNumber, got.Timestamp, got.SSRC, resentPayloads[i][20], resentPayloads[i][21], orig.Timestamp, origPayload[20], origPayload[21])
		}
	}
	if stats.retransmitMisses.Load() != 0 {
		t.Errorf("%d misses, want none", stats.retransmitMisses.Load())
	}
	// A number never sent is not answered with anything.
	d.nacks.handle(&rtcp.TransportLayerNack{Nacks: []rtcp.NackPair{{PacketID: switchOut + frames + 5}}}, b)
	if w.count() != before+len(nacked) {
		t.Error("a seq never sent was answered")
	}
}
