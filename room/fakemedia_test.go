package room

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/sfu"
)

// fakeMedia is a hand-written Media for room's unit tests: no peer
// connections, just a record of what the room asked for, and methods
// that play the media core's events (a track starting, a PC failing).
type fakeMedia struct {
	mu sync.Mutex
	// failPublisher, when set, makes NewPublisher fail with it.
	failPublisher error
	subs          []*fakeSubscriber
}

func (m *fakeMedia) ICEServers() []webrtc.ICEServer {
	return []webrtc.ICEServer{{URLs: []string{"stun:fake.invalid:3478"}}}
}

func (m *fakeMedia) NewPublisher(_ string, ev PublisherEvents) (Publisher, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failPublisher != nil {
		return nil, m.failPublisher
	}
	return &fakePublisher{events: ev, fakePeer: newFakePeer()}, nil
}

func (m *fakeMedia) NewSubscriber(ev SubscriberEvents) (Subscriber, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := &fakeSubscriber{events: ev, fakePeer: newFakePeer(), tracks: map[string]Track{}}
	m.subs = append(m.subs, s)
	return s, nil
}

// fakePeer is what both fake PCs share.
type fakePeer struct {
	mu         sync.Mutex
	closed     bool
	candidates []string
	local      string
	remote     string
	gathered   chan struct{} // already closed: gathering is instant
	// closeGate, when set before Close, makes Close wait for it, as a
	// slow PC close would.
	closeGate chan struct{}
}

func newFakePeer() *fakePeer {
	done := make(chan struct{})
	close(done)
	return &fakePeer{gathered: done}
}

func (p *fakePeer) AddCandidate(c *webrtc.ICECandidateInit) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return sfu.ErrClosed
	}
	p.candidates = append(p.candidates, c.Candidate)
	return nil
}

func (p *fakePeer) GatheringDone() <-chan struct{} { return p.gathered }
func (p *fakePeer) LocalSDP() string               { p.mu.Lock(); defer p.mu.Unlock(); return p.local }
func (p *fakePeer) RemoteSDP() string              { p.mu.Lock(); defer p.mu.Unlock(); return p.remote }

func (p *fakePeer) Close() error {
	p.mu.Lock()
	gate := p.closeGate
	p.mu.Unlock()
	if gate != nil {
		<-gate
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return sfu.ErrClosed
	}
	p.closed = true
	return nil
}

func (p *fakePeer) isClosed() bool { p.mu.Lock(); defer p.mu.Unlock(); return p.closed }

func (p *fakePeer) candidateList() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.candidates)
}

type fakePublisher struct {
	*fakePeer
	events PublisherEvents
}

// HandleOffer answers at once, as the real publisher does, through the
// Answer event.
func (p *fakePublisher) HandleOffer(sdp string) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return sfu.ErrClosed
	}
	p.remote, p.local = sdp, "answer to "+sdp
	answer := p.local
	p.mu.Unlock()
	p.events.Answer(answer)
	return nil
}

// start and end play a remote track beginning and ending.
func (p *fakePublisher) start(t *fakeTrack) { p.events.TrackStarted(t) }
func (p *fakePublisher) end(t *fakeTrack)   { p.events.TrackEnded(t) }

// fail plays the PC failing or closing under the room.
func (p *fakePublisher) fail(state webrtc.PeerConnectionState) { p.failHeard(state, time.Time{}) }

// failHeard fails the PC as the media core does, saying when its peer
// was last heard from.
func (p *fakePublisher) failHeard(state webrtc.PeerConnectionState, lastHeard time.Time) {
	p.events.Failed(state, lastHeard)
}

type fakeSubscriber struct {
	*fakePeer
	events  SubscriberEvents
	tracks  map[string]Track
	sizes   map[string][2]int
	watched []string // the tracks of the WHEP answer

	// removeHeld, when set, makes RemoveTrack announce itself on removing
	// and wait for removeHeld to close: a leave stuck outside the lock.
	removing, removeHeld chan struct{}
}

func (s *fakeSubscriber) HandleAnswer(sdp string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return sfu.ErrClosed
	}
	s.remote = sdp
	return nil
}

func (s *fakeSubscriber) AddTrack(t Track) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return sfu.ErrClosed
	}
	s.tracks[t.ID()] = t
	return nil
}

func (s *fakeSubscriber) RemoveTrack(id string) {
	if s.removeHeld != nil {
		s.removing <- struct{}{}
		<-s.removeHeld
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.tracks, id)
}

func (s *fakeSubscriber) SetTrackSize(id string, w, h int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sizes == nil {
		s.sizes = map[string][2]int{}
	}
	s.sizes[id] = [2]int{w, h}
	return nil
}

func (s *fakeSubscriber) AnswerOffer(sdp string, tracks []Track) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.remote, s.local = sdp, "whep answer"
	for _, t := range tracks {
		s.watched = append(s.watched, t.ID())
	}
	return nil
}

// trackIDs lists the tracks being forwarded to this subscriber, sorted.
func (s *fakeSubscriber) trackIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := []string{}
	for id := range s.tracks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

func (s *fakeSubscriber) fail(state webrtc.PeerConnectionState) { s.events.Failed(state, time.Time{}) }

// fakeTrack is a published track whose audio level the test sets.
type fakeTrack struct {
	id, streamID, mid string
	kind              webrtc.RTPCodecType
	muted             atomic.Bool
	level             atomic.Uint64 // float64 bits; the level every sample reads
}

func newFakeTrack(owner *Participant, kind webrtc.RTPCodecType, n int) *fakeTrack {
	return &fakeTrack{id: fmt.Sprintf("%s-%s%d", owner.id, kind, n), streamID: owner.id, mid: fmt.Sprint(n), kind: kind}
}

func (t *fakeTrack) ID() string                { return t.id }
func (t *fakeTrack) StreamID() string          { return t.streamID }
func (t *fakeTrack) Kind() webrtc.RTPCodecType { return t.kind }
func (t *fakeTrack) Mid() string               { return t.mid }
func (t *fakeTrack) Layers() []string          { return nil }
func (t *fakeTrack) Muted() bool               { return t.muted.Load() }
func (t *fakeTrack) SetMuted(m bool) bool      { return t.muted.Swap(m) != m }
func (t *fakeTrack) setLevel(l float64)        { t.level.Store(math.Float64bits(l)) }

func (t *fakeTrack) MimeType() string {
	if t.kind == webrtc.RTPCodecTypeAudio {
		return webrtc.MimeTypeOpus
	}
	return webrtc.MimeTypeVP8
}

func (t *fakeTrack) TakeAudioLevel() (float64, int) {
	l := math.Float64frombits(t.level.Load())
	if l == 0 {
		return 0, 0
	}
	return l, 5
}

var (
	_ Media      = (*fakeMedia)(nil)
	_ Publisher  = (*fakePublisher)(nil)
	_ Subscriber = (*fakeSubscriber)(nil)
	_ Track      = (*fakeTrack)(nil)
)
