package room

import (
	"fmt"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/sfu"
)

// sfuMedia is the real Media: package sfu, which knows nothing of rooms.
type sfuMedia struct{ engine *sfu.Engine }

// The media core satisfies the seam; only the subscriber needs wrapping,
// because its methods take sfu's concrete track.
var (
	_ Media      = sfuMedia{}
	_ Publisher  = (*sfu.Publisher)(nil)
	_ Subscriber = sfuSubscriber{}
	_ Track      = (*sfu.Track)(nil)
)

func (m sfuMedia) ICEServers() []webrtc.ICEServer { return m.engine.ICEServers() }

func (m sfuMedia) NewPublisher(participantID string, ev PublisherEvents) (Publisher, error) {
	pub, err := m.engine.NewPublisher(participantID, sfu.PublisherEvents{
		PeerEvents:   sfuPeerEvents(ev.PeerEvents),
		Answer:       ev.Answer,
		TrackStarted: func(t *sfu.Track) { ev.TrackStarted(t) },
		TrackEnded:   func(t *sfu.Track) { ev.TrackEnded(t) },
	})
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return pub, nil
}

func (m sfuMedia) NewSubscriber(ev SubscriberEvents) (Subscriber, error) {
	sub, err := m.engine.NewSubscriber(sfu.SubscriberEvents{PeerEvents: sfuPeerEvents(ev.PeerEvents), Offer: ev.Offer, Group: ev.Room})
	if err != nil {
		return nil, err
	}
	return sfuSubscriber{sub}, nil
}

func sfuPeerEvents(ev PeerEvents) sfu.PeerEvents {
	return sfu.PeerEvents{Candidate: ev.Candidate, Failed: ev.Failed, RestartICE: ev.RestartICE}
}

// sfuSubscriber takes room's Track and hands sfu its own.
type sfuSubscriber struct{ *sfu.Subscriber }

func (s sfuSubscriber) AddTrack(t Track) error {
	st, err := sfuTrack(t)
	if err != nil {
		return err
	}
	return s.Subscriber.AddTrack(st)
}

func (s sfuSubscriber) AnswerOffer(sdp string, tracks []Track) error {
	list := make([]*sfu.Track, 0, len(tracks))
	for _, t := range tracks {
		st, err := sfuTrack(t)
		if err != nil {
			return err
		}
		list = append(list, st)
	}
	return s.Subscriber.AnswerOffer(sdp, list)
}

// sfuTrack recovers the engine's track. Every Track room holds came from
// this engine's TrackStarted, so a failure is a wiring bug, reported
// rather than crashing.
func sfuTrack(t Track) (*sfu.Track, error) {
	st, ok := t.(*sfu.Track)
	if !ok {
		return nil, fmt.Errorf("room: track %s did not come from the sfu engine (%T)", t.ID(), t)
	}
	return st, nil
}
