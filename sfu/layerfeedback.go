package sfu

import (
	"github.com/pion/rtcp"
)

// A video track keeps, per layer it receives (one for a track without
// simulcast, at index 0), a packet history for answering NACKs and a
// keyframe requester. Per layer because each simulcast layer is its own
// encoder with its own SSRC and sequence numbers: the layers' numbers
// overlap, and a keyframe of one layer does nothing for a subscriber on
// another, so a join storm on one layer must not be folded into (or
// multiplied by) requests for the others.

// addLayerFeedback creates layer's history and keyframe requester. It
// runs before the track is announced, so nothing reads them concurrently.
func (t *Track) addLayerFeedback(layer int8) {
	if t.history[layer] != nil {
		return
	}
	t.history[layer] = newPacketHistory(videoHistoryLength)
	t.keyframes[layer] = newKeyframeRequester(keyframeInterval, func() { t.sendPLI(layer) })
}

// stopLayerFeedback cancels pending keyframe requests and frees the
// histories' packets; the track calls it when it ends.
func (t *Track) stopLayerFeedback() {
	for i := range maxLayers {
		t.keyframes[i].stop()
		t.history[i].clear()
	}
}

// requestLayerKeyframe asks the publisher for a keyframe on one layer
// (0 for a track without simulcast). It is the one way keyframes are
// requested: subscribers' PLIs and FIRs, a new subscriber's first packet,
// a layer switch, unmuting. Requests are aggregated per layer (see
// keyframeRequester), so callers need not throttle. Audio ignores it.
func (t *Track) requestLayerKeyframe(layer int8) {
	if layer < 0 || int(layer) >= maxLayers || t.keyframes[layer] == nil {
		return
	}
	if t.layerSSRC(layer) == 0 {
		return // the layer has not arrived: nothing to ask
	}
	t.keyframes[layer].request()
}

// RequestKeyframe asks for a keyframe on every layer the track receives,
// so that every subscriber can restart its video, whichever layer it is
// on.
func (t *Track) RequestKeyframe() {
	for layer := range int8(maxLayers) {
		t.requestLayerKeyframe(layer)
	}
}

// layerSSRC is the publisher's SSRC for layer, or 0 when it does not
// (yet) send that layer.
func (t *Track) layerSSRC(layer int8) uint32 {
	if t.sim == nil {
		if layer != 0 {
			return 0
		}
		return t.ssrc
	}
	return t.sim.layers[layer].ssrc.Load()
}

func (t *Track) sendPLI(layer int8) {
	ssrc := t.layerSSRC(layer)
	// A failed write means the publisher is gone; its read loops end too.
	if ssrc != 0 && t.writeRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}) == nil {
		t.stats.keyframeRequests.Add(1)
	}
}
