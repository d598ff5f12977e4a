package room

import (
	"context"
	"runtime"
	"strings"
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
