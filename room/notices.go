package room

import (
	"time"

	"github.com/pion/webrtc/v3"
)

// Notices are what a Client hears beyond membership and negotiation. Like
// every Client method they must return at once.
type Notices interface {
	// Published tells a publisher the server's id for its own new track;
	// mid is the track's media section on the publish PC.
	Published(track TrackInfo, mid string)
	// TrackMuted says a track was muted or unmuted (track.Muted). Everyone
	// hears it, the publisher too: an operator may have done it.
	TrackMuted(participantID string, track TrackInfo)
	// ActiveSpeakers lists who is speaking now, loudest first; empty when
	// nobody is.
	ActiveSpeakers(speakers []Speaker)
	// Chat relays one chat message, to its sender too.
	Chat(ChatMessage)
}

// Speaker is one participant the room hears speaking.
type Speaker struct {
	ParticipantID string
	// Level is the smoothed loudness, 0 (-127 dBov) to 1 (0 dBov).
	Level float64
}

// ChatMessage is one relayed chat message.
type ChatMessage struct {
	From string // participant id
	Name string // their display name
	Text string
	Time time.Time // when the server relayed it
}

// noticeTrack tells p the id of its new track t and, for audio, makes the
// room watch for speakers; callers hold r.mu.
func (r *Room) noticeTrack(p *Participant, t Track) {
	p.client.Published(trackInfo(t), t.Mid())
	if t.Kind() == webrtc.RTPCodecTypeAudio {
		r.watchSpeakers(&p.manager.speakerLoops)
	}
}
