package signal

import (
	"time"

	"github.com/switchyard-sfu/switchyard/room"
)

// Message types for mute, active speakers and chat (docs/protocol.md).
const (
	TypeMute           = "mute"            // client → server
	TypeChat           = "chat"            // both ways
	TypePublished      = "published"       // server → publisher: its own track's id
	TypeTrackMuted     = "track-muted"     // server → room
	TypeActiveSpeakers = "active-speakers" // server → room
)

// Error codes for those messages.
const (
	CodeChatTooLong = "chat-too-long" // chat text over room.MaxChatLength characters
	CodeRateLimited = "rate-limited"  // a message over its rate limit (chat, mute, subscription, offer, answer, join); dropped
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
type Speaker = room.Speaker

// ActiveSpeakers lists who speaks now, loudest first.
type ActiveSpeakers struct {
	Type     string    `json:"type"`
	Speakers []Speaker `json:"speakers"`
}
