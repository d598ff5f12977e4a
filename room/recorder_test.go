package room

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
)

// recorder is a Client that writes down what the room tells it, one line
// per call, in order, so tests compare whole sequences.
type recorder struct {
	mu     sync.Mutex
	lines  []string
	joined JoinInfo
	change chan struct{} // signalled after every line
}

func newRecorder() *recorder { return &recorder{change: make(chan struct{}, 1)} }

func (r *recorder) add(format string, args ...any) {
	r.mu.Lock()
	r.lines = append(r.lines, fmt.Sprintf(format, args...))
	r.mu.Unlock()
	select {
	case r.change <- struct{}{}:
	default:
	}
}

func participantIDs(ps []ParticipantInfo) []string {
	ids := []string{}
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

func (r *recorder) Joined(info JoinInfo) {
	r.mu.Lock()
	r.joined = info
	r.mu.Unlock()
	r.add("joined %s as %s with %v", info.Room, info.ParticipantID, participantIDs(info.Participants))
}
func (r *recorder) ParticipantJoined(p ParticipantInfo) { r.add("participant-joined %s", p.ID) }
func (r *recorder) ParticipantLeft(id string, why Reason) {
	r.add("participant-left %s %s", id, why)
}
func (r *recorder) TrackPublished(id string, t TrackInfo) { r.add("track-published %s %s", id, t.ID) }
func (r *recorder) TrackUnpublished(id string, t TrackInfo) {
	r.add("track-unpublished %s %s", id, t.ID)
}
func (r *recorder) Offer(sdp string)  { r.add("offer %s", sdp) }
func (r *recorder) Answer(sdp string) { r.add("answer %s", sdp) }
func (r *recorder) Candidate(pc PC, c *webrtc.ICECandidateInit) {
	r.add("candidate %s %s", pc, c.Candidate)
}
func (r *recorder) Left(why Reason)                   { r.add("left %s", why) }
func (r *recorder) Published(t TrackInfo, mid string) { r.add("published %s mid %s", t.ID, mid) }
func (r *recorder) TrackMuted(id string, t TrackInfo) {
	r.add("track-muted %s %s %v", id, t.ID, t.Muted)
}
func (r *recorder) ActiveSpeakers(s []Speaker) { r.add("speakers %v", speakerIDs(s)) }
func (r *recorder) Chat(m ChatMessage)         { r.add("chat %s %s %q", m.From, m.Name, m.Text) }

// all returns every line so far; since(n) those after the first n.
func (r *recorder) all() []string { r.mu.Lock(); defer r.mu.Unlock(); return slices.Clone(r.lines) }
func (r *recorder) count() int    { r.mu.Lock(); defer r.mu.Unlock(); return len(r.lines) }
func (r *recorder) since(n int) []string {
	all := r.all()
	return all[min(n, len(all)):]
}

// waitFor waits, bounded, until some line after the first n is want.
func (r *recorder) waitFor(t *testing.T, n int, want string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for !slices.Contains(r.since(n), want) {
		select {
		case <-r.change:
		case <-deadline:
			t.Fatalf("never told %q; told:\n%s", want, strings.Join(r.since(n), "\n"))
		}
	}
}

// expect fails unless the lines after the first n are exactly want.
func expect(t *testing.T, who string, r *recorder, n int, want ...string) {
	t.Helper()
	if got := r.since(n); !slices.Equal(got, want) {
		t.Fatalf("%s was told:\n  %s\nwant:\n  %s", who, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// observer records joins and leaves as the session log would see them.
type observer struct {
	mu     sync.Mutex
	joins  []JoinEvent
	leaves []LeaveEvent
}

func (o *observer) Joined(e JoinEvent) { o.mu.Lock(); o.joins = append(o.joins, e); o.mu.Unlock() }
func (o *observer) Left(e LeaveEvent)  { o.mu.Lock(); o.leaves = append(o.leaves, e); o.mu.Unlock() }

func (o *observer) lines() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, e := range o.joins {
		out = append(out, "joined "+e.ParticipantID)
	}
	for _, e := range o.leaves {
		out = append(out, fmt.Sprintf("left %s %s", e.ParticipantID, e.Reason))
	}
	return out
}

func (o *observer) lastLeave(t *testing.T) LeaveEvent {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.leaves) == 0 {
		t.Fatal("the observer saw no leave")
	}
	return o.leaves[len(o.leaves)-1]
}

// fixture is a Manager on fake media with an observer.
type fixture struct {
	t     *testing.T
	m     *Manager
	media *fakeMedia
	obs   *observer
}

func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := &fixture{t: t, media: &fakeMedia{}, obs: &observer{}}
	if opts.MaxParticipants == 0 {
		opts.MaxParticipants = 8
	}
	opts.Observer = f.obs
	f.m = newManager(f.media, opts)
	// Shutdown ends every room's speaker sampling: no test leaves a
	// goroutine behind (TestShutdownEndsSpeakerSampling looks for any).
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.m.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return f
}

// member is one joined participant and what it hears.
type member struct {
	*Participant
	heard *recorder
}

func (f *fixture) join(roomName, name string) member {
	f.t.Helper()
	return f.joinWith(JoinRequest{Room: roomName, Name: name, Permissions: AllPermissions})
}

func (f *fixture) joinWith(req JoinRequest) member {
	f.t.Helper()
	rec := newRecorder()
	p, err := f.m.JoinWith(req, rec)
	if err != nil {
		f.t.Fatalf("join %s/%s: %v", req.Room, req.Name, err)
	}
	return member{p, rec}
}

func (m member) pubFake() *fakePublisher  { return m.pub.(*fakePublisher) }
func (m member) subFake() *fakeSubscriber { return m.sub.(*fakeSubscriber) }

// publish plays the member starting a track of kind.
func (m member) publish(kind webrtc.RTPCodecType, n int) *fakeTrack {
	t := newFakeTrack(m.Participant, kind, n)
	m.pubFake().start(t)
	return t
}
