package room

import (
	"time"

	"github.com/pion/webrtc/v3"
)

// TrackInfo describes one published track. StreamID is the publisher's
// participant id, so a browser keeps each participant's audio and video in
// one MediaStream and lip-syncs them.
type TrackInfo struct {
	ID       string
	Kind     string // "audio" or "video"
	StreamID string
	Codec    string
	Muted    bool // the publisher muted it: nothing is forwarded
}

// ParticipantInfo describes someone in a room.
type ParticipantInfo struct {
	ID       string
	Identity string // from the join token, when auth is on
	Name     string
	JoinedAt time.Time
	Tracks   []TrackInfo
	// ResumedFrom is the id of the session this one continues, when the
	// participant reconnected (resume.go): its tile replaces that one.
	ResumedFrom string
}

// Info describes a room.
type Info struct {
	Name         string
	Participants []ParticipantInfo
}

// JoinInfo is what a participant learns on joining.
type JoinInfo struct {
	Room          string
	ParticipantID string
	LeaveSecret   string
	Participants  []ParticipantInfo // everyone already there, with tracks
	ICEServers    []webrtc.ICEServer
	Identity      string      // from the join token; empty when auth is off
	Permissions   Permissions // what the participant may do
	ResumedFrom   string      // the session this one continues, or ""
}

// PC names one of a participant's two peer connections.
type PC string

// The two peer connections every participant has.
const (
	PCPublish   PC = "publish"   // client → server; the client offers
	PCSubscribe PC = "subscribe" // server → client; the server offers
)

// Client is how a room talks to a participant's connection. Every method
// must return at once (queue the message, never block on the network):
// they are called one at a time from the room's outbox (outbox.go), which
// is what keeps each participant's messages in the room's order.
type Client interface {
	Joined(JoinInfo)
	ParticipantJoined(ParticipantInfo)
	ParticipantLeft(participantID string, reason Reason)
	TrackPublished(participantID string, track TrackInfo)
	TrackUnpublished(participantID string, track TrackInfo)
	// Offer and Answer carry server SDP: an offer for the subscribe PC, an
	// answer for the publish PC.
	Offer(sdp string)
	Answer(sdp string)
	Candidate(pc PC, c *webrtc.ICECandidateInit)
	// Left ends the participant's session; the connection may join again.
	Left(reason Reason)
	Notices // own tracks, mute, active speakers, chat: notices.go
}

// JoinEvent and LeaveEvent are what an Observer (the session log,
// metrics) learns.
type JoinEvent struct {
	Time          time.Time
	Room          string
	ParticipantID string
	Name          string
	Identity      string // the join token's identity; empty when auth is off
	ResumedFrom   string // the session this one continues (a reconnect), or ""
}

// LeaveEvent is one ended session.
type LeaveEvent struct {
	JoinEvent
	Reason   Reason
	Duration time.Duration
	// DetectionDelay is the time since the client was last heard, for
	// leaves the server detected itself; zero otherwise.
	DetectionDelay time.Duration
}

// Observer learns every join and leave, in the room's order, once the
// Journal has it durable and before anyone is told. Calls come from the
// room's outbox, one at a time, so they must be quick.
type Observer interface {
	Joined(JoinEvent)
	Left(LeaveEvent)
}
