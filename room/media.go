package room

import (
	"time"

	"github.com/pion/webrtc/v3"
)

// The media seam. room drives the media core through these interfaces,
// which it owns, so its behaviour is tested against a hand-written fake
// (fakemedia_test.go) without real peer connections; sfumedia.go fits
// package sfu to them.

// Media makes each participant's two peer connections.
type Media interface {
	NewPublisher(participantID string, events PublisherEvents) (Publisher, error)
	NewSubscriber(events SubscriberEvents) (Subscriber, error)
	// ICEServers are the STUN servers every participant gets when
	// Options.ICEServers is nil.
	ICEServers() []webrtc.ICEServer
}

// Peer is what the publish and subscribe PCs share.
type Peer interface {
	AddCandidate(*webrtc.ICECandidateInit) error
	// GatheringDone is closed when candidate gathering has ended (WHIP/WHEP
	// answers wait for it).
	GatheringDone() <-chan struct{}
	LocalSDP() string
	RemoteSDP() string
	Close() error
}

// Publisher receives a participant's media; the client offers.
type Publisher interface {
	Peer
	HandleOffer(sdp string) error
}

// Subscriber sends a participant the others' media; the server offers.
type Subscriber interface {
	Peer
	HandleAnswer(sdp string) error
	// AddTrack starts forwarding t; adding a track twice does nothing.
	AddTrack(t Track) error
	RemoveTrack(trackID string)
	SetTrackSize(trackID string, width, height int) error
	// AnswerOffer answers a WHEP viewer's one offer with tracks.
	AnswerOffer(sdp string, tracks []Track) error
}

// Track is one published track as the room sees it.
type Track interface {
	ID() string
	StreamID() string
	Kind() webrtc.RTPCodecType
	MimeType() string
	Mid() string // the media section on the publisher's PC
	Muted() bool
	// SetMuted stops or resumes forwarding; it reports whether that
	// changed anything.
	SetMuted(muted bool) bool
	// TakeAudioLevel returns the mean loudness since the last call and
	// how many packets it covers.
	TakeAudioLevel() (loudness float64, packets int)
	// Layers lists the simulcast rids, lowest first; nil without simulcast.
	Layers() []string
}

// PeerEvents are what either PC reports.
type PeerEvents struct {
	// Candidate carries a local ICE candidate to trickle; nil ends gathering.
	Candidate func(*webrtc.ICECandidateInit)
	// Failed reports, at most once, that the PC failed or closed under us,
	// and when its peer was last heard from (zero: never).
	Failed func(state webrtc.PeerConnectionState, lastHeard time.Time)
	// RestartICE, when set, is called on each ICE failure while the
	// media core retries ICE instead of failing the PC at once.
	RestartICE func()
}

// PublisherEvents are what a Publisher reports.
type PublisherEvents struct {
	PeerEvents
	Answer       func(sdp string) // before the candidates gathered for it
	TrackStarted func(Track)
	TrackEnded   func(Track)
}

// SubscriberEvents are what a Subscriber reports.
type SubscriberEvents struct {
	PeerEvents
	Offer func(sdp string) // the client answers before the next one
	// Room is the subscriber's room, whose adaptive-video figures
	// /metrics shows per room.
	Room string
}
