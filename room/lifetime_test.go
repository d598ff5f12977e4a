package room

import (
	"context"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/sfu"
)

// quietClient drops everything a room tells it.
type quietClient struct{}

func (quietClient) Joined(JoinInfo)                        {}
func (quietClient) ParticipantJoined(ParticipantInfo)      {}
func (quietClient) ParticipantLeft(string, Reason)         {}
func (quietClient) TrackPublished(string, TrackInfo)       {}
func (quietClient) TrackUnpublished(string, TrackInfo)     {}
func (quietClient) Offer(string)                           {}
func (quietClient) Answer(string)                          {}
func (quietClient) Candidate(PC, *webrtc.ICECandidateInit) {}
func (quietClient) Left(Reason)                            {}
func (quietClient) Published(TrackInfo, string)            {}
func (quietClient) TrackMuted(string, TrackInfo)           {}
func (quietClient) ActiveSpeakers([]Speaker)               {}
func (quietClient) Chat(ChatMessage)                       {}

func newTestManager(t *testing.T) *Manager {
	t.Helper()
	engine, err := sfu.NewEngine(sfu.EngineConfig{Loopback: true, UDP4Only: true, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = engine.Close() })
	return NewManager(engine, Options{MaxParticipants: 4})
}

// speakerLoopRunning reports whether any room's speaker sampling
// goroutine is alive.
func speakerLoopRunning() bool {
	buf := make([]byte, 1<<20)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "(*Room).sampleSpeakers")
}

// A room's speaker sampling must not outlive the manager's Shutdown: the
// goroutine has an owner that waits for it.
func TestShutdownEndsSpeakerSampling(t *testing.T) {
	m := newTestManager(t)
	p, err := m.Join("r", "ann", quietClient{})
	if err != nil {
		t.Fatal(err)
	}
	r := p.room
	r.mu.Lock()
	// As after a speaker was announced: the loop must still tell the room
	// that nobody speaks, so it would not stop on its own at the next tick.
	r.speakers.sent, r.speakers.sentAt = []Speaker{{ParticipantID: p.id, Level: 1}}, time.Now()
	r.watchSpeakers(&m.speakerLoops)
	r.mu.Unlock()
	for start := time.Now(); !speakerLoopRunning(); runtime.Gosched() {
		if time.Since(start) > 10*time.Second {
			t.Fatal("speaker sampling did not start")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if speakerLoopRunning() {
		t.Fatal("speaker sampling still runs after Shutdown returned")
	}
}

// A leave that another goroutine started (here a failed PC) is still
// working outside the room lock when Shutdown runs: Shutdown must wait
// for it, or its tail (closing the leaver's PCs, logging) outlives the
// manager. Seen as a log after a server test had ended.
func TestShutdownWaitsForALeaveInFlight(t *testing.T) {
	f := newFixture(t, Options{})
	ann, bob := f.join("r", "ann"), f.join("r", "bob")
	track := ann.publish(webrtc.RTPCodecTypeAudio, 1)
	bob.heard.waitFor(t, 0, "track-published "+ann.id+" "+track.id)
	sub := bob.subFake()
	sub.removing, sub.removeHeld = make(chan struct{}), make(chan struct{})
	release := sync.OnceFunc(func() { close(sub.removeHeld) })
	t.Cleanup(release) // a failed check must not leave ann's leave stuck

	go ann.pubFake().fail(webrtc.PeerConnectionStateFailed)
	<-sub.removing // ann's leave is told and now removes her track from bob

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := f.m.Shutdown(ctx); err == nil {
		t.Fatal("Shutdown returned while ann's leave was still removing her tracks")
	}
	if ann.pubFake().isClosed() {
		t.Fatal("ann's PCs closed before her leave got to closing them")
	}
	release()
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.m.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if !ann.pubFake().isClosed() || !ann.subFake().isClosed() {
		t.Fatal("Shutdown returned before ann's PCs were closed")
	}
}
