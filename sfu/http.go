package sfu

import (
	"fmt"

	"github.com/pion/webrtc/v3"
)

// HTTP signaling (WHIP/WHEP) sends one answer with its candidates in it
// instead of trickling them; these give it what it needs.

// GatheringDone is closed once the peer connection has gathered all its
// local candidates.
func (p *peer) GatheringDone() <-chan struct{} { return webrtc.GatheringCompletePromise(p.pc) }

// LocalSDP is the current local description with every candidate
// gathered so far; "" before one is set.
func (p *peer) LocalSDP() string {
	if d := p.pc.LocalDescription(); d != nil {
		return d.SDP
	}
	return ""
}

// RemoteSDP is the current remote description; "" before one is set.
func (p *peer) RemoteSDP() string {
	if d := p.pc.RemoteDescription(); d != nil {
		return d.SDP
	}
	return ""
}

// AnswerOffer is WHEP's one negotiation: the client offers receive-only
// sections and the server answers, filling one section of each kind with
// one of tracks. The subscriber never offers itself afterwards unless a
// track is removed (that offer goes unanswered, which costs nothing: the
// media is gone anyway). Tracks with no section of their kind are skipped.
func (s *Subscriber) AnswerOffer(sdp string, tracks []*Track) error {
	if err := s.beginSDP(); err != nil {
		return err
	}
	defer s.endSDP()
	if st := s.pc.SignalingState(); st != webrtc.SignalingStateStable || s.RemoteSDP() != "" {
		return fmt.Errorf("%w: WHEP offers once, not in state %s", ErrWrongState, st)
	}
	if err := s.setRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isClosed {
		return ErrClosed
	}
	for _, t := range tracks {
		d := newDownTrack(t, s.stats, s.out)
		// AddTrack takes the offer's unused section of this kind, if any.
		sender, err := s.pc.AddTrack(d)
		if err != nil {
			d.close()
			return fmt.Errorf("add track %s: %w", t.id, err)
		}
		go d.readRTCP(sender)
		s.downs[t.id] = d
		d.sender = sender
		t.addDownTrack(d)
	}
	answer, err := s.pc.CreateAnswer(nil)
	if err == nil {
		err = s.pc.SetLocalDescription(answer)
	}
	if err != nil {
		return fmt.Errorf("%w: answer: %w", ErrBadSDP, err)
	}
	s.announce(func() {})
	s.alloc.poke()
	return nil
}
