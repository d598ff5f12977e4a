package abuse

import (
	"context"
	"fmt"
	"testing"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/signal"
)

// An offer with more tracks than limits.max_tracks is refused with
// too-many-tracks; nobody else is offered anything.
func TestManyTracksFromOneParticipantAreRefused(t *testing.T) {
	h := start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main")
	attacker := h.joined(ctx, "main", "attacker")
	pc, err := h.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pc.Close() }()
	for i := range 64 {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, fmt.Sprintf("a%d", i), "attacker")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pc.AddTransceiverFromTrack(tr, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	from, fromCtl := len(attacker.Messages()), len(ctl.sub.Messages())
	ctl.attack("64 tracks from one participant", func() {
		if err := attacker.Send(signal.SDP{Type: signal.TypeOffer, PC: signal.PCPublish, SDP: offer.SDP}); err != nil {
			t.Fatal(err)
		}
		flush(ctx, t, attacker)
		attacker.Close() // its leave is part of what must return to baseline
	})
	if n := errorCodes(attacker, from)[signal.CodeTooManyTracks]; n != 1 {
		t.Errorf("%d too-many-tracks errors, want 1 (got %v)", n, errorCodes(attacker, from))
	}
	if n := countType(ctl.sub, fromCtl, signal.TypeTrackPublished); n != 0 {
		t.Errorf("control was told of %d tracks", n)
	}
}
