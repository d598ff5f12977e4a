package signal

import (
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/room"
)

// roomManager is what a session needs of room.Manager, and member what it
// needs of a room.Participant: small, so dispatch and every error code
// are unit-tested against a fake room (fakeroom_test.go).
type roomManager interface {
	JoinsRefused() error
	JoinWith(req room.JoinRequest, client room.Client) (member, error)
}

type member interface {
	Leave(reason room.Reason)
	Touch(at time.Time)
	HandleOffer(sdp string) error
	HandleAnswer(sdp string) error
	AddCandidate(pc room.PC, c *webrtc.ICECandidateInit) error
	SetTrackMuted(trackID string, muted bool) error
	SendChat(text string) error
	SetSubscription(trackID string, width, height int) error
}

// managerRooms is the real roomManager.
type managerRooms struct{ m *room.Manager }

var (
	_ roomManager = managerRooms{}
	_ member      = (*room.Participant)(nil)
)

func (r managerRooms) JoinsRefused() error { return r.m.JoinsRefused() }

func (r managerRooms) JoinWith(req room.JoinRequest, client room.Client) (member, error) {
	p, err := r.m.JoinWith(req, client)
	if err != nil {
		return nil, err // not a typed nil inside the interface
	}
	return p, nil
}
