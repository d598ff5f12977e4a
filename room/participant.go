package room

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/ids"
	"github.com/switchyard-sfu/switchyard/sfu"
	"go.uber.org/zap"
)

// Participant is one session in one room, with its two peer connections.
type Participant struct {
	id       string
	name     string
	identity string      // from the join token; empty when auth is off
	perms    Permissions // set once at join
	secret   string
	client   Client
	manager  *Manager
	pub      Publisher
	sub      Subscriber
	room     *Room     // set once at join
	joinedAt time.Time // set once at join
	// resumedFrom is the session this one continues (resume.go); set once at join.
	resumedFrom string

	// Guarded by room.mu.
	tracks map[string]Track
	left   bool

	// finished is closed once a leave's work outside the room lock is
	// done, so Shutdown can wait for a leave another goroutine started.
	finished chan struct{}

	lastHeard atomic.Int64 // unix nanoseconds of the last sign of life

	chatLimit tokenBucket // chat.go
}

func (m *Manager) newParticipant(roomName, name string, client Client) (*Participant, error) {
	p := &Participant{
		id:       newParticipantID(),
		name:     name,
		secret:   ids.Secret(),
		client:   client,
		manager:  m,
		tracks:   make(map[string]Track),
		finished: make(chan struct{}),
	}
	fail := func(role PC, reason Reason) func(webrtc.PeerConnectionState, time.Time) {
		return func(state webrtc.PeerConnectionState, lastHeard time.Time) {
			m.log.Debug("peer connection ended", zap.String("participant", p.id), zap.String("pc", string(role)), zap.Stringer("state", state))
			why := reason
			if state == webrtc.PeerConnectionStateClosed {
				why = ReasonPCClosed
			}
			p.heard(lastHeard)
			m.leave(p, why)
		}
	}
	candidate := func(role PC) func(*webrtc.ICECandidateInit) {
		return func(c *webrtc.ICECandidateInit) { p.client.Candidate(role, c) }
	}
	restart := m.iceRestarts(p, client)
	var err error
	p.sub, err = m.media.NewSubscriber(SubscriberEvents{
		PeerEvents: PeerEvents{Candidate: candidate(PCSubscribe), Failed: fail(PCSubscribe, ReasonPCFailed), RestartICE: restart(PCSubscribe)},
		Offer:      func(sdp string) { p.client.Offer(sdp) },
		Room:       roomName,
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe peer connection: %w", err)
	}
	p.pub, err = m.media.NewPublisher(p.id, PublisherEvents{
		PeerEvents:   PeerEvents{Candidate: candidate(PCPublish), Failed: fail(PCPublish, ReasonPCFailed), RestartICE: restart(PCPublish)},
		Answer:       func(sdp string) { p.client.Answer(sdp) },
		TrackStarted: p.trackStarted,
		TrackEnded:   p.trackEnded,
	})
	if err != nil {
		_ = p.sub.Close()
		return nil, fmt.Errorf("publish peer connection: %w", err)
	}
	return p, nil
}

// ID is the participant's server-assigned id.
func (p *Participant) ID() string { return p.id }

// RoomName is the room the participant joined.
func (p *Participant) RoomName() string { return p.room.name }

// Touch records a sign of life (a message or pong) from the client; a
// detected leave reports the time since the last one.
func (p *Participant) Touch(at time.Time) { p.lastHeard.Store(at.UnixNano()) }

// heard records a sign of life the media saw, unless a later one is
// already known (a pong after the path went silent).
func (p *Participant) heard(at time.Time) {
	if at.IsZero() {
		return
	}
	for {
		last := p.lastHeard.Load()
		if at.UnixNano() <= last || p.lastHeard.CompareAndSwap(last, at.UnixNano()) {
			return
		}
	}
}

// Leave ends the session with reason; it is idempotent.
func (p *Participant) Leave(reason Reason) { p.manager.leave(p, reason) }

// HandleOffer applies the client's offer for the publish PC; the answer
// goes to the client through Client.Answer, ahead of any candidate.
func (p *Participant) HandleOffer(sdp string) error {
	if p.hasLeft() {
		return ErrLeft
	}
	if !p.perms.Publish {
		return fmt.Errorf("%w: this participant may not publish", ErrPermissionDenied)
	}
	if err := checkTrackLimit(sdp, p.manager.maxTracks()); err != nil {
		return err
	}
	return p.pub.HandleOffer(sdp)
}

// HandleAnswer applies the client's answer for the subscribe PC.
func (p *Participant) HandleAnswer(sdp string) error {
	if p.hasLeft() {
		return ErrLeft
	}
	return p.sub.HandleAnswer(sdp)
}

// AddCandidate trickles a client candidate into one of the PCs.
func (p *Participant) AddCandidate(pc PC, c *webrtc.ICECandidateInit) error {
	switch pc {
	case PCPublish:
		return p.pub.AddCandidate(c)
	case PCSubscribe:
		return p.sub.AddCandidate(c)
	}
	return fmt.Errorf("%w: unknown pc %q", sfu.ErrBadCandidate, pc)
}

// SetSubscription records the size at which p shows trackID, which
// bounds the simulcast layer it receives.
func (p *Participant) SetSubscription(trackID string, width, height int) error {
	if p.hasLeft() {
		return ErrLeft
	}
	return p.sub.SetTrackSize(trackID, width, height)
}

func (p *Participant) hasLeft() bool {
	p.room.mu.Lock()
	defer p.room.mu.Unlock()
	return p.left
}

// trackStarted announces a new track to the room, then offers it to every
// other member.
func (p *Participant) trackStarted(t Track) {
	r := p.room
	r.mu.Lock()
	if p.left {
		r.mu.Unlock()
		return // the track ends when the closing publisher PC stops it
	}
	p.tracks[t.ID()] = t
	p.manager.recordTrack(r, p, t, true)
	r.noticeTrack(p, t)
	others := r.othersThan(p)
	for _, o := range others {
		o.client.TrackPublished(p.id, trackInfo(t))
	}
	for _, o := range others {
		p.manager.forward(t, o)
	}
	told := r.out.last()
	r.mu.Unlock()
	// Waits for the record's fsync: this is pion's OnTrack goroutine,
	// and the read loop starts after, so no packet is lost meanwhile.
	r.out.deliverThrough(told)
	p.manager.log.Info("track published", zap.String("room", r.name), zap.String("participant", p.id),
		zap.String("track", t.ID()), zap.String("codec", t.MimeType()))
}

// trackEnded withdraws a track the publisher stopped sending.
func (p *Participant) trackEnded(t Track) {
	r := p.room
	r.mu.Lock()
	if _, ok := p.tracks[t.ID()]; !ok {
		r.mu.Unlock()
		return // a leave took it, and its record ends the track
	}
	delete(p.tracks, t.ID())
	p.manager.recordTrack(r, p, t, false)
	others := r.othersThan(p)
	for _, o := range others {
		o.client.TrackUnpublished(p.id, trackInfo(t))
	}
	for _, o := range others {
		o.sub.RemoveTrack(t.ID())
	}
	told := r.out.last()
	r.mu.Unlock()
	r.out.deliverThrough(told)
}

// forward adds t to to's subscribe PC; callers hold the room lock.
func (m *Manager) forward(t Track, to *Participant) {
	if !to.perms.Subscribe {
		return
	}
	if err := to.sub.AddTrack(t); err != nil && !errors.Is(err, sfu.ErrClosed) {
		m.log.Warn("cannot forward track", zap.String("participant", to.id), zap.String("track", t.ID()), zap.Error(err))
	}
}

func (p *Participant) closePeers() {
	// Close errors only say the PC was already closed.
	_ = p.pub.Close()
	_ = p.sub.Close()
}

// sortedTracks returns the published tracks, audio first; callers hold room.mu.
func (p *Participant) sortedTracks() []Track {
	list := make([]Track, 0, len(p.tracks))
	for _, t := range p.tracks {
		list = append(list, t)
	}
	slices.SortFunc(list, func(a, b Track) int {
		return cmp.Or(cmp.Compare(a.Kind(), b.Kind()), strings.Compare(a.ID(), b.ID()))
	})
	return list
}

// info describes p; callers hold room.mu.
func (p *Participant) info() ParticipantInfo {
	info := ParticipantInfo{ID: p.id, Identity: p.identity, Name: p.name, JoinedAt: p.joinedAt, Tracks: []TrackInfo{}, ResumedFrom: p.resumedFrom}
	for _, t := range p.sortedTracks() {
		info.Tracks = append(info.Tracks, trackInfo(t))
	}
	return info
}

func trackInfo(t Track) TrackInfo {
	return TrackInfo{ID: t.ID(), Kind: t.Kind().String(), StreamID: t.StreamID(), Codec: t.MimeType(), Muted: t.Muted()}
}

func (p *Participant) joinEvent(at time.Time) JoinEvent {
	return JoinEvent{Time: at, Room: p.room.name, ParticipantID: p.id, Name: p.name, Identity: p.identity, ResumedFrom: p.resumedFrom}
}

func (p *Participant) leaveEvent(at time.Time, reason Reason) LeaveEvent {
	e := LeaveEvent{JoinEvent: p.joinEvent(at), Reason: reason, Duration: at.Sub(p.joinedAt)}
	if reason.Detected() {
		e.DetectionDelay = max(0, at.Sub(time.Unix(0, p.lastHeard.Load())))
	}
	return e
}
