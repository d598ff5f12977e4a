package whip

import (
	"sync/atomic"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/room"
)

// session is one WHIP or WHEP resource: the room.Client of an HTTP
// participant. HTTP has no channel back to the client, so everything the
// room says is dropped except the end of the session, which retires the
// resource URL.
type session struct {
	id          string // the resource's path segment; a bearer capability
	kind        Kind
	roomName    string
	participant *room.Participant // set right after the join
	ended       atomic.Bool
	forget      func(*session)
}

func (s *session) Joined(room.JoinInfo)                        {}
func (s *session) ParticipantJoined(room.ParticipantInfo)      {}
func (s *session) ParticipantLeft(string, room.Reason)         {}
func (s *session) TrackPublished(string, room.TrackInfo)       {}
func (s *session) TrackUnpublished(string, room.TrackInfo)     {}
func (s *session) Offer(string)                                {}
func (s *session) Answer(string)                               {}
func (s *session) Candidate(room.PC, *webrtc.ICECandidateInit) {}
func (s *session) Published(room.TrackInfo, string)            {}
func (s *session) TrackMuted(string, room.TrackInfo)           {}
func (s *session) ActiveSpeakers([]room.Speaker)               {}
func (s *session) Chat(room.ChatMessage)                       {}

// Left retires the resource: a DELETE or PATCH on it from now on is 404.
func (s *session) Left(room.Reason) {
	s.ended.Store(true)
	s.forget(s)
}
