package sfu

import (
	"slices"
	"sync/atomic"

	"github.com/pion/webrtc/v3"
)

// trackState is what a Track knows beyond forwarding: its mid on the
// publish PC, its audio level and whether it is muted.
type trackState struct {
	mid    string
	layers []string    // simulcast rids the publisher declared, lowest first
	level  *audioLevel // nil unless the publisher sends the audio-level extension
	muted  atomic.Bool
}

// inspect learns, from the receiver the publisher's PC negotiated, the
// track's mid and the audio-level extension id. Called before the read
// loop starts.
func (t *Track) inspect(pc *webrtc.PeerConnection, receiver *webrtc.RTPReceiver) {
	for _, tr := range pc.GetTransceivers() {
		if tr.Receiver() == receiver {
			t.state.mid = tr.Mid()
		}
	}
	// pion makes one TrackRemote per rid of the offer up front, so every
	// layer is known here even though only the first has arrived.
	for _, rid := range simulcastRIDs {
		if slices.ContainsFunc(receiver.Tracks(), func(r *webrtc.TrackRemote) bool { return r.RID() == rid }) {
			t.state.layers = append(t.state.layers, rid)
		}
	}
	if t.kind != webrtc.RTPCodecTypeAudio {
		return
	}
	for _, ext := range receiver.GetParameters().HeaderExtensions {
		if ext.URI == AudioLevelURI && ext.ID > 0 && ext.ID < 256 {
			t.state.level = &audioLevel{extID: uint8(ext.ID)}
		}
	}
}

// forwardable does the per-packet work besides forwarding — reading the audio
// level — and reports whether the packet is to be forwarded: a muted
// track's are not, so muting costs nothing past the read.
func (t *Track) forwardable(raw []byte) bool {
	if t.state.muted.Load() {
		return false
	}
	if t.state.level != nil {
		t.state.level.observe(raw)
	}
	return true
}

// Mid is the track's media section id on the publisher's PC, by which
// the publisher knows it.
func (t *Track) Mid() string { return t.state.mid }

// Layers are the simulcast rids the publisher declared that the server
// forwards, lowest first; nil for a track without simulcast.
func (t *Track) Layers() []string { return slices.Clone(t.state.layers) }

// Muted reports whether forwarding is stopped by SetMuted.
func (t *Track) Muted() bool { return t.state.muted.Load() }

// SetMuted stops or resumes forwarding and reports whether that changed
// anything. Resumed video asks for a keyframe, since subscribers' decoders
// cannot continue from where they stopped.
func (t *Track) SetMuted(muted bool) bool {
	if t.state.muted.Swap(muted) == muted {
		return false
	}
	if !muted {
		t.RequestKeyframe()
	}
	return true
}

// TakeAudioLevel returns the mean loudness, in dB above -127 dBov (0 is
// silence, 127 full scale), of the packets read since the last call, and
// their number. Tracks without the audio-level extension, and muted ones,
// report no packets.
func (t *Track) TakeAudioLevel() (loudness float64, packets int) {
	if t.state.level == nil {
		return 0, 0
	}
	return t.state.level.take()
}
