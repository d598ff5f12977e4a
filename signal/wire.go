// Package signal speaks Switchyard's WebSocket protocol (docs/protocol.md):
// it decodes and validates client messages, encodes server messages, and runs
// one read loop and one write loop per connection with ping/pong liveness.
package signal

import (
	"time"
)

// Every message on the wire, both ways: docs/protocol.md describes these
// structs. Error codes are in errors.go.

// Message types, client → server.
const (
	TypeJoin      = "join"
	TypeOffer     = "offer"  // also server → client, for the subscribe PC
	TypeAnswer    = "answer" // also server → client, for the publish PC
	TypeCandidate = "candidate"
	TypeLeave     = "leave"
	// TypeSubscription tells the server how large a received video is shown.
	TypeSubscription = "subscription"
)

// Message types, server → client.
const (
	TypeJoined            = "joined"
	TypeParticipantJoined = "participant-joined"
	TypeParticipantLeft   = "participant-left"
	TypeTrackPublished    = "track-published"
	TypeTrackUnpublished  = "track-unpublished"
	TypeLeft              = "left"
	TypeError             = "error"
)

// Peer connection roles carried in offer, answer and candidate messages.
const (
	PCPublish   = "publish"   // client → server media; the client offers
	PCSubscribe = "subscribe" // server → client media; the server offers
)

// Envelope is decoded first to learn the type; the rest of the same object
// is then decoded into the type's own struct.
type Envelope struct {
	Type string `json:"type"`
}

// Join asks to enter a room.
type Join struct {
	Type string `json:"type"`
	Room string `json:"room"`
	Name string `json:"name"`
	// Token is the join token; required when the server has auth on,
	// and then the source of the identity and display name.
	Token string `json:"token,omitempty"`
	// Resume claims to continue an earlier session of this client (after
	// its socket broke, or a navigation that did not unload the page).
	Resume *Resume `json:"resume,omitempty"`
}

// Resume proves who an earlier session was: its id and leave secret.
type Resume struct {
	ParticipantID string `json:"participant_id"`
	LeaveSecret   string `json:"leave_secret"`
}

// SDP carries an offer or answer for one of the two peer connections.
type SDP struct {
	Type string `json:"type"`
	PC   string `json:"pc"`
	SDP  string `json:"sdp"`
}

// Candidate is a trickled ICE candidate; a null candidate ends gathering.
type Candidate struct {
	Type      string        `json:"type"`
	PC        string        `json:"pc"`
	Candidate *ICECandidate `json:"candidate"`
}

// ICECandidate mirrors the browser's RTCIceCandidateInit.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// Subscription gives the size, in device pixels, at which the client
// shows a received video track; the server forwards the smallest
// simulcast layer that covers it. 0×0 lifts the limit.
type Subscription struct {
	Type   string `json:"type"`
	Track  string `json:"track"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
}

// Leave ends the session on purpose.
type Leave struct {
	Type string `json:"type"`
}

// TrackInfo describes one published track on the wire. It is signal's
// own, not room's: renaming a room field must not change the protocol
// (wireconv.go converts).
type TrackInfo struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"` // "audio" or "video"
	StreamID string `json:"stream_id"`
	Codec    string `json:"codec,omitempty"`
	Muted    bool   `json:"muted"`
}

// Permissions say, in joined, what the participant may do.
type Permissions struct {
	Publish   bool `json:"publish"`   // send audio and video
	Subscribe bool `json:"subscribe"` // receive the others' tracks
	Data      bool `json:"data"`      // send data messages (chat)
	Admin     bool `json:"admin"`     // use the admin API
}

// ParticipantInfo describes someone in a room on the wire.
type ParticipantInfo struct {
	ID          string      `json:"id"`
	Identity    string      `json:"identity,omitempty"`
	Name        string      `json:"name"`
	JoinedAt    time.Time   `json:"joined_at"`
	Tracks      []TrackInfo `json:"tracks"`
	ResumedFrom string      `json:"resumed_from,omitempty"`
}

// ICEServer mirrors the browser's RTCIceServer.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// Joined answers a join.
type Joined struct {
	Type          string            `json:"type"`
	Room          string            `json:"room"`
	ParticipantID string            `json:"participant_id"`
	LeaveSecret   string            `json:"leave_secret"`
	Participants  []ParticipantInfo `json:"participants"`
	ICEServers    []ICEServer       `json:"ice_servers"`
	PingInterval  int64             `json:"ping_interval_ms"`
	PingTimeout   int64             `json:"ping_timeout_ms"`
	Identity      string            `json:"identity,omitempty"` // the token's identity, when auth is on
	Permissions   Permissions       `json:"permissions"`
	// ResumedFrom is the earlier session this one continues, when the
	// join's resume claim held; empty for a fresh session.
	ResumedFrom string `json:"resumed_from,omitempty"`
	// ReconnectGraceMS is how long to keep a dropped participant's tile
	// marked reconnecting, waiting for a participant-joined that resumes it.
	ReconnectGraceMS int64 `json:"reconnect_grace_ms"`
}

// ParticipantJoined tells the room about a newcomer.
type ParticipantJoined struct {
	Type        string          `json:"type"`
	Participant ParticipantInfo `json:"participant"`
}

// ParticipantLeft tells the room someone is gone, and why.
type ParticipantLeft struct {
	Type          string `json:"type"`
	ParticipantID string `json:"participant_id"`
	Reason        string `json:"reason"`
}

// TrackPublished announces a track before it is offered on the subscribe PC.
type TrackPublished struct {
	Type          string    `json:"type"`
	ParticipantID string    `json:"participant_id"`
	Track         TrackInfo `json:"track"`
}

// TrackUnpublished withdraws a track; clients drop it at once.
type TrackUnpublished struct {
	Type          string `json:"type"`
	ParticipantID string `json:"participant_id"`
	TrackID       string `json:"track_id"`
	Kind          string `json:"kind"`
}

// Left tells a participant its own session is over and why.
type Left struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// Error reports a problem with a request; the session goes on unless the
// socket is then closed.
type Error struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Ref echoes the type of the request that failed, when known.
	Ref string `json:"ref,omitempty"`
}

// Message types for mute, active speakers and chat (docs/protocol.md).
const (
	TypeMute           = "mute"            // client → server
	TypeChat           = "chat"            // both ways
	TypePublished      = "published"       // server → publisher: its own track's id
	TypeTrackMuted     = "track-muted"     // server → room
	TypeActiveSpeakers = "active-speakers" // server → room
)

// Mute asks the server to stop (or resume) forwarding one of the client's
// own tracks and to tell the room.
type Mute struct {
	Type  string `json:"type"`
	Track string `json:"track"` // server track id, from published
	Muted *bool  `json:"muted"` // required
}

// Chat is a chat message from the client.
type Chat struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// ChatRelay is a chat message relayed to the room.
type ChatRelay struct {
	Type string    `json:"type"`
	From string    `json:"from"`
	Name string    `json:"name"`
	Text string    `json:"text"`
	Time time.Time `json:"time"`
}

// Published gives a publisher the server's id for its own new track.
type Published struct {
	Type  string    `json:"type"`
	Track TrackInfo `json:"track"`
	Mid   string    `json:"mid"`
}

// TrackMuted says a track was muted or unmuted.
type TrackMuted struct {
	Type          string `json:"type"`
	ParticipantID string `json:"participant_id"`
	TrackID       string `json:"track_id"`
	Kind          string `json:"kind"`
	Muted         bool   `json:"muted"`
}

// Speaker is one entry of active-speakers.
type Speaker struct {
	ParticipantID string  `json:"participant_id"`
	Level         float64 `json:"level"` // 0 (-127 dBov) to 1 (0 dBov)
}

// ActiveSpeakers lists who speaks now, loudest first.
type ActiveSpeakers struct {
	Type     string    `json:"type"`
	Speakers []Speaker `json:"speakers"`
}

// TypeServerDraining tells every connection the server is going away.
const TypeServerDraining = "server-draining"

// ServerDraining says the server takes no new joins and will close the
// remaining sessions (reason server-shutdown) at Deadline at the latest.
type ServerDraining struct {
	Type       string    `json:"type"`
	Deadline   time.Time `json:"deadline"`
	DeadlineMS int64     `json:"deadline_ms"` // ms from when this was sent
}

// TypeRedirect answers a join for a room that lives on another cluster
// node: the client sends the same join (with the same token, which every
// node of a cluster verifies with the same key) to URL instead.
const TypeRedirect = "redirect"

// Redirect is the redirect message (docs/protocol.md). Node and
// Incarnation name the owner the cluster chose, so a client seeing a
// second redirect for the same owner incarnation knows it is looping.
type Redirect struct {
	Type        string `json:"type"`
	Room        string `json:"room"`
	URL         string `json:"url"`
	Node        string `json:"node"`
	Incarnation uint64 `json:"incarnation"`
}

// TypeICERestart (server → client) asks the client to restart ICE on one
// of its peer connections: for "publish", send a new offer created with
// iceRestart. The subscribe PC's restart comes as the server's own offer,
// so this is not sent for it. See docs/protocol.md#ice-restart.
const TypeICERestart = "ice-restart"

// ICERestart is the ice-restart message.
type ICERestart struct {
	Type string `json:"type"`
	PC   string `json:"pc"`
}
