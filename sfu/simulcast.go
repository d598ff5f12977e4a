package sfu

import (
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v3"
)

// maxLayers is how many simulcast layers a track may have.
const maxLayers = 3

// simulcastRIDs are the RTP stream ids of the layers, lowest first; the
// web client publishes exactly these (docs/protocol.md, "Simulcast").
var simulcastRIDs = [maxLayers]string{"q", "h", "f"}

// layerIndex maps a rid to its layer, lowest quality 0.
func layerIndex(rid string) (int8, bool) {
	for i, r := range simulcastRIDs {
		if r == rid {
			return int8(i), true
		}
	}
	return noLayer, false
}

// simulcastLayer is what the track learns about one layer as it reads it.
type simulcastLayer struct {
	ssrc          atomic.Uint32 // 0 until the layer arrives
	bytes         atomic.Uint64
	width, height atomic.Int32                       // from the last keyframe, when the codec tells
	remote        atomic.Pointer[webrtc.TrackRemote] // for ending its read loop on a BYE
}

// simulcastLayers is the per-layer state of a simulcast track.
type simulcastLayers struct {
	layers [maxLayers]simulcastLayer
	family int

	rates layerRates // measured from the packets received: layerrate.go
}

// layerGroups collects the rid tracks pion reports one by one (one
// OnTrack per layer, all on one RTPReceiver) into one published Track.
type layerGroups struct {
	mu         sync.Mutex
	byReceiver map[*webrtc.RTPReceiver]*Track
	rtcp       map[*webrtc.RTPReceiver]*layerRTCPGate
}

// addLayer starts reading a simulcast layer. The first layer of a
// receiver creates the Track (newTrack) and announces it (started); the
// others join it. The track ends when its first layer's stream ends.
func (g *layerGroups) addLayer(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver, newTrack func(*webrtc.TrackRemote) *Track, started, onEnded func(*Track)) {
	g.mu.Lock()
	if g.byReceiver == nil {
		g.byReceiver = make(map[*webrtc.RTPReceiver]*Track)
		g.rtcp = make(map[*webrtc.RTPReceiver]*layerRTCPGate)
	}
	gate := g.rtcp[receiver]
	if gate == nil {
		gate = &layerRTCPGate{}
		g.rtcp[receiver] = gate
	}
	gate.arrived = append(gate.arrived, remote.RID())
	layer, ok := layerIndex(remote.RID())
	if !ok {
		// An unknown rid is not forwarded (pion discards what nobody
		// reads), but its arrival may free the RTCP readers of known
		// layers listed after it.
		if t := g.byReceiver[receiver]; t != nil {
			gate.startReaders(t, receiver)
		}
		g.mu.Unlock()
		return
	}
	t, existing := g.byReceiver[receiver]
	if !existing {
		t = newTrack(remote)
		t.sim = &simulcastLayers{family: codecFamily(t.codec.MimeType)}
		t.firstLayer = layer
		for l := range int8(maxLayers) {
			t.addLayerFeedback(l)
		}
		g.byReceiver[receiver] = t
	}
	t.sim.layers[layer].ssrc.Store(uint32(remote.SSRC()))
	t.sim.layers[layer].remote.Store(remote)
	gate.startReaders(t, receiver)
	g.mu.Unlock()
	if existing {
		go t.readPackets(remote, layer)
		return
	}
	started(t)
	go t.readLoop(func(t *Track) {
		g.mu.Lock()
		delete(g.byReceiver, receiver)
		delete(g.rtcp, receiver)
		g.mu.Unlock()
		onEnded(t)
	})
}

// noteLayerPacket counts a simulcast packet's bytes and learns the
// layer's frame size from keyframes. Read loop only; no allocation.
func (s *simulcastLayers) noteLayerPacket(layer int8, raw []byte) {
	l := &s.layers[layer]
	l.bytes.Add(uint64(len(raw)))
	if s.family != codecVP8 {
		return
	}
	if w, h, ok := vp8KeyframeSize(rtpPayload(raw)); ok {
		l.width.Store(int32(w))
		l.height.Store(int32(h))
	}
}

// Simulcast reports whether the track arrives in several layers.
func (t *Track) Simulcast() bool { return t.sim != nil }

// rtpPayload returns the payload of a raw RTP packet, or nil when the
// header does not parse; it reads lengths only, without allocating.
func rtpPayload(raw []byte) []byte {
	if len(raw) < 12 {
		return nil
	}
	n := 12 + 4*int(raw[0]&0x0f)
	if raw[0]&0x10 != 0 { // header extension
		if len(raw) < n+4 {
			return nil
		}
		n += 4 + 4*(int(raw[n+2])<<8|int(raw[n+3]))
	}
	end := len(raw)
	if raw[0]&0x20 != 0 && end > n { // padding
		end -= int(raw[end-1])
	}
	if n > end {
		return nil
	}
	return raw[n:end]
}
