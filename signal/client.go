package signal

import (
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/room"
)

// roomClient is one join of a session: the room's Client for that
// participant. A session that switches rooms gets a new one, so a late
// event for the old participant can never be mistaken for the new.
type roomClient struct {
	s           *session
	participant member      // set right after Join returns
	ended       atomic.Bool // set by Left
}

func (m *roomClient) Joined(info room.JoinInfo) {
	msg := Joined{
		Type:             TypeJoined,
		Room:             info.Room,
		ParticipantID:    info.ParticipantID,
		LeaveSecret:      info.LeaveSecret,
		Participants:     wireParticipants(info.Participants),
		ICEServers:       make([]ICEServer, 0, len(info.ICEServers)),
		PingInterval:     m.s.opts.PingInterval.Milliseconds(),
		PingTimeout:      m.s.opts.PingTimeout.Milliseconds(),
		Identity:         info.Identity,
		Permissions:      Permissions(info.Permissions),
		ResumedFrom:      info.ResumedFrom,
		ReconnectGraceMS: m.s.opts.ReconnectGrace.Milliseconds(),
	}
	if msg.Participants == nil {
		msg.Participants = []ParticipantInfo{}
	}
	for _, srv := range info.ICEServers {
		cred, _ := srv.Credential.(string)
		msg.ICEServers = append(msg.ICEServers, ICEServer{URLs: srv.URLs, Username: srv.Username, Credential: cred})
	}
	m.s.send(msg)
}

func (m *roomClient) ParticipantJoined(p room.ParticipantInfo) {
	m.s.send(ParticipantJoined{Type: TypeParticipantJoined, Participant: wireParticipant(p)})
}

func (m *roomClient) ParticipantLeft(id string, reason room.Reason) {
	m.s.send(ParticipantLeft{Type: TypeParticipantLeft, ParticipantID: id, Reason: string(reason)})
}

func (m *roomClient) TrackPublished(id string, t room.TrackInfo) {
	m.s.send(TrackPublished{Type: TypeTrackPublished, ParticipantID: id, Track: wireTrack(t)})
}

func (m *roomClient) TrackUnpublished(id string, t room.TrackInfo) {
	m.s.send(TrackUnpublished{Type: TypeTrackUnpublished, ParticipantID: id, TrackID: t.ID, Kind: t.Kind})
}

func (m *roomClient) Offer(sdp string) {
	m.s.send(SDP{Type: TypeOffer, PC: PCSubscribe, SDP: sdp})
}

func (m *roomClient) Answer(sdp string) {
	m.s.send(SDP{Type: TypeAnswer, PC: PCPublish, SDP: sdp})
}

func (m *roomClient) Candidate(pc room.PC, c *webrtc.ICECandidateInit) {
	msg := Candidate{Type: TypeCandidate, PC: string(pc)}
	if c != nil {
		msg.Candidate = &ICECandidate{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}
	}
	m.s.send(msg)
}

func (m *roomClient) Left(reason room.Reason) {
	m.ended.Store(true)
	m.s.send(Left{Type: TypeLeft, Reason: string(reason)})
	switch reason {
	case room.ReasonServerShutdown:
		m.s.closeWith(websocket.CloseGoingAway, "server shutting down")
	case room.ReasonKicked:
		m.s.closeWith(websocket.ClosePolicyViolation, "removed from the room")
	}
}

// touch records a sign of life for detection-delay accounting.
func (m *roomClient) touch(at time.Time) {
	if p := m.participant; p != nil {
		p.Touch(at)
	}
}
