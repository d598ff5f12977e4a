package sfu

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/pion/webrtc/v3"
)

// SubscriberEvents extends PeerEvents with the server's offers.
type SubscriberEvents struct {
	PeerEvents
	// Offer carries a new server offer; the client must answer it before
	// the next one is sent.
	Offer func(sdp string)
	// Group names the group (the room) whose figures Engine.GroupStats
	// counts this subscriber's video in; "" counts it in none.
	Group string
}

// Subscriber is the peer connection a participant receives media on. The
// server always offers, one negotiation at a time: changes that arrive
// while an offer is out are folded into the next one.
type Subscriber struct {
	*peer
	events SubscriberEvents
	stats  *counters
	group  *groupCounters // nil without a group
	groups *groupTable

	mu       sync.Mutex
	downs    map[string]*DownTrack // by track id
	isClosed bool

	alloc allocator   // simulcast layer choice from the bandwidth estimate
	out   *connWriter // writes what the read loops must not: connwriter.go

	leaveGroupOnce sync.Once

	needOffer chan struct{} // capacity 1: "the track set changed"
	// iceRestart asks the next offer to carry fresh ICE credentials.
	iceRestart atomic.Bool
	answered   chan struct{} // capacity 1: "the outstanding offer was answered"
	loopDone   chan struct{}
}

// NewSubscriber creates the sending peer connection for one participant
// and starts its negotiation loop, which ends at Close.
func (e *Engine) NewSubscriber(events SubscriberEvents) (*Subscriber, error) {
	var s *Subscriber // set below, before any state change can call back
	pe := events.PeerEvents
	if told := pe.RestartICE; told != nil {
		pe.RestartICE = func() {
			s.iceRestart.Store(true)
			s.requestOffer()
			told()
		}
	}
	pe.connected = func() { s.alloc.poke() } // deliverable.go
	p, err := e.newPeer(pe)
	if err != nil {
		return nil, err
	}
	s = &Subscriber{
		peer:      p,
		events:    events,
		stats:     &e.stats,
		downs:     make(map[string]*DownTrack),
		needOffer: make(chan struct{}, 1),
		answered:  make(chan struct{}, 1),
		loopDone:  make(chan struct{}),
		alloc:     newAllocator(p.bwe),
		group:     e.groups.join(events.Group),
		groups:    &e.groups,
		out:       startConnWriter(),
	}
	s.out.watch(p.pc)
	go s.negotiationLoop()
	go s.allocateLoop()
	return s, nil
}

// AddTrack starts forwarding t to this subscriber and schedules an offer.
func (s *Subscriber) AddTrack(t *Track) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isClosed {
		return ErrClosed
	}
	if _, ok := s.downs[t.id]; ok {
		return nil
	}
	d := newDownTrack(t, s.stats, s.out)
	if d.selector != nil {
		d.selector.group = s.group
		s.watchDeliverable(d)
	}
	tr, err := s.addTransceiver(d, t.Kind())
	if err != nil {
		d.close()
		return fmt.Errorf("add transceiver for %s: %w", t.id, err)
	}
	// Offer only the codec we will actually forward, so the answer cannot
	// pick one we do not have.
	if err := tr.SetCodecPreferences([]webrtc.RTPCodecParameters{t.subscriberCodec()}); err != nil {
		d.close()
		_ = s.pc.RemoveTrack(tr.Sender())
		return fmt.Errorf("codec preferences for %s: %w", t.id, err)
	}
	go d.readRTCP(tr.Sender())
	s.downs[t.id] = d
	d.sender = tr.Sender()
	t.addDownTrack(d)
	s.requestOffer()
	s.alloc.poke()
	return nil
}

// addTransceiver sends d on an idle transceiver of its kind when there is
// one, else on a new one: reusing the m-lines of departed tracks keeps the
// SDP as large as the tracks present, not the meeting's history.
func (s *Subscriber) addTransceiver(d *DownTrack, kind webrtc.RTPCodecType) (*webrtc.RTPTransceiver, error) {
	for _, tr := range s.pc.GetTransceivers() {
		if tr.Sender() != nil || tr.Kind() != kind || tr.Direction() != webrtc.RTPTransceiverDirectionInactive {
			continue
		}
		// pion's AddTrack reuses such a transceiver once its removal has
		// been negotiated (else it adds a new one, which is still correct).
		sender, err := s.pc.AddTrack(d)
		if err != nil {
			return nil, err
		}
		for _, tr := range s.pc.GetTransceivers() {
			if tr.Sender() == sender {
				return tr, nil
			}
		}
		return nil, fmt.Errorf("no transceiver holds the new sender")
	}
	return s.pc.AddTransceiverFromTrack(d, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
}

// RemoveTrack stops forwarding the track and schedules an offer that
// removes it. Unknown ids are ignored, so callers need not track state.
func (s *Subscriber) RemoveTrack(trackID string) {
	s.mu.Lock()
	d, ok := s.downs[trackID]
	delete(s.downs, trackID)
	s.mu.Unlock()
	if !ok {
		return
	}
	d.track.removeDownTrack(d)
	// Stopping the sender ends its RTCP reader; errors mean the PC is closed.
	_ = s.pc.RemoveTrack(d.sender)
	d.close()
	s.requestOffer()
}

// HandleAnswer applies the client's answer to the outstanding offer.
func (s *Subscriber) HandleAnswer(sdp string) error {
	if st := s.pc.SignalingState(); st != webrtc.SignalingStateHaveLocalOffer {
		return fmt.Errorf("%w: answer in state %s", ErrWrongState, st)
	}
	if err := s.setRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
		return err
	}
	select {
	case s.answered <- struct{}{}:
	default:
	}
	return nil
}

// Close stops forwarding everything, closes the peer connection and waits
// for the negotiation loop and the connection's writer to end.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	s.isClosed = true
	downs := s.downs
	s.downs = map[string]*DownTrack{}
	s.mu.Unlock()
	err := s.peer.Close()
	<-s.loopDone
	<-s.alloc.done
	for _, d := range downs {
		d.track.removeDownTrack(d)
		d.close()
	}
	s.out.close()
	s.leaveGroupOnce.Do(func() { s.groups.leave(s.events.Group) })
	return err
}

func (s *Subscriber) requestOffer() {
	select {
	case s.needOffer <- struct{}{}:
	default:
	}
}

func (s *Subscriber) negotiationLoop() {
	defer close(s.loopDone)
	for {
		select {
		case <-s.closed:
			return
		case <-s.needOffer:
		}
		var opts *webrtc.OfferOptions
		if s.iceRestart.Swap(false) {
			// pion gathers the new generation inside CreateOffer; its
			// candidates wait until this offer is out.
			s.holdLocalCandidates()
			opts = &webrtc.OfferOptions{ICERestart: true}
		}
		if s.beginSDP() != nil {
			return
		}
		offer, err := s.pc.CreateOffer(opts)
		if err == nil {
			err = s.pc.SetLocalDescription(offer)
		}
		s.endSDP()
		if err != nil {
			// Only a closed or broken PC fails here; Failed reports that.
			return
		}
		s.announce(func() { s.events.Offer(offer.SDP) })
		select {
		case <-s.closed:
			return
		case <-s.answered:
		}
	}
}
