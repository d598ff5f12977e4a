package sfu

import (
	"fmt"

	"github.com/pion/webrtc/v3"
)

// PublisherEvents extends PeerEvents with the tracks a publisher sends.
type PublisherEvents struct {
	PeerEvents
	// TrackStarted fires when a new remote track begins; forwarding runs
	// from then until the track ends.
	TrackStarted func(*Track)
	// TrackEnded fires when the track's stream ends (unpublished, or the
	// peer connection closed).
	TrackEnded func(*Track)
	// Answer carries the server's answer to an offer, always before the
	// candidates gathered for it.
	Answer func(sdp string)
}

// Publisher is the peer connection a participant sends media on. The
// client always offers and the server answers, so it never sees glare.
type Publisher struct {
	*peer
	answer    func(sdp string)
	simulcast layerGroups
}

// NewPublisher creates the receiving peer connection for participantID,
// whose tracks will carry participantID as their stream id.
func (e *Engine) NewPublisher(participantID string, events PublisherEvents) (*Publisher, error) {
	p, err := e.newPeer(events.PeerEvents)
	if err != nil {
		return nil, err
	}
	pub := &Publisher{peer: p, answer: events.Answer}
	p.pc.OnTrack(func(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
		if remote.RID() != "" {
			// Simulcast: one OnTrack per layer, published as one track.
			pub.simulcast.addLayer(remote, receiver, func(remote *webrtc.TrackRemote) *Track {
				t := newTrack(e.newTrackID(), participantID, remote, p.pc.WriteRTCP, &e.stats)
				e.fan.adopt(t)
				t.inspect(p.pc, receiver)
				return t
			}, events.TrackStarted, events.TrackEnded)
			return
		}
		t := newTrack(e.newTrackID(), participantID, remote, p.pc.WriteRTCP, &e.stats)
		e.fan.adopt(t)
		t.inspect(p.pc, receiver)
		events.TrackStarted(t)
		go t.readLoop(events.TrackEnded)
		go t.readReceiverRTCP(receiver)
	})
	return pub, nil
}

// HandleOffer applies the client's offer and hands the answer to
// PublisherEvents.Answer; candidates trickle afterwards.
func (p *Publisher) HandleOffer(sdp string) error {
	if err := p.beginSDP(); err != nil {
		return err
	}
	// An offer with new ICE credentials (a restart) makes pion gather a new
	// generation inside SetRemoteDescription; its candidates wait for the
	// answer. Other offers gather nothing, so holding costs nothing.
	wasReady := p.holdLocalCandidates()
	answer, err := p.applyOffer(sdp)
	p.endSDP()
	if err != nil {
		if wasReady {
			p.announce(func() {}) // a refused offer sends no answer: release what was held
		}
		return err
	}
	p.announce(func() { p.answer(answer) })
	return nil
}

// applyOffer is HandleOffer's SDP step: the offer applied, the answer set.
func (p *Publisher) applyOffer(sdp string) (string, error) {
	if s := p.pc.SignalingState(); s != webrtc.SignalingStateStable {
		return "", fmt.Errorf("%w: offer in state %s", ErrWrongState, s)
	}
	if err := p.setRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return "", err
	}
	answer, err := p.pc.CreateAnswer(nil)
	if err != nil {
		// Roll back so the client can try again with a better offer.
		_ = p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		return "", fmt.Errorf("%w: create answer: %w", ErrBadSDP, err)
	}
	if err := p.pc.SetLocalDescription(answer); err != nil {
		return "", fmt.Errorf("%w: set local answer: %w", ErrBadSDP, err)
	}
	return answer.SDP, nil
}
