package signal

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/room"
	"go.uber.org/zap"
)

// fakeRooms is a hand-written roomManager: it records what sessions ask
// and answers with the errors a test sets.
type fakeRooms struct {
	mu       sync.Mutex
	refused  error // JoinsRefused's answer
	joinErr  error // JoinWith's error
	requests []room.JoinRequest
	members  []*fakeMember
	clients  []room.Client
}

func (f *fakeRooms) JoinsRefused() error { f.mu.Lock(); defer f.mu.Unlock(); return f.refused }

func (f *fakeRooms) JoinWith(req room.JoinRequest, c room.Client) (member, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	if f.joinErr != nil {
		return nil, f.joinErr
	}
	m := &fakeMember{id: fmt.Sprintf("p%d", len(f.members))}
	f.members = append(f.members, m)
	f.clients = append(f.clients, c)
	return m, nil
}

// fakeMember records calls as lines and fails each with err when set.
type fakeMember struct {
	id    string
	mu    sync.Mutex
	calls []string
	err   error
}

func (m *fakeMember) record(format string, args ...any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.calls = append(m.calls, fmt.Sprintf(format, args...))
	return m.err
}

func (m *fakeMember) Leave(r room.Reason)         { _ = m.record("leave %s", r) }
func (m *fakeMember) Touch(time.Time)             {}
func (m *fakeMember) HandleOffer(s string) error  { return m.record("offer %s", s) }
func (m *fakeMember) HandleAnswer(s string) error { return m.record("answer %s", s) }
func (m *fakeMember) AddCandidate(pc room.PC, c *webrtc.ICECandidateInit) error {
	if c == nil {
		return m.record("candidate %s end", pc)
	}
	return m.record("candidate %s %s", pc, c.Candidate)
}
func (m *fakeMember) SetTrackMuted(id string, muted bool) error {
	return m.record("mute %s %v", id, muted)
}
func (m *fakeMember) SendChat(text string) error { return m.record("chat %s", text) }
func (m *fakeMember) SetSubscription(id string, w, h int) error {
	return m.record("subscription %s %dx%d", id, w, h)
}

func (m *fakeMember) lastCall() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.calls) == 0 {
		return ""
	}
	return m.calls[len(m.calls)-1]
}

// testSession is a session with no socket: dispatch is fed directly and
// what it queues for the write loop is read back.
func testSession(t *testing.T, rooms roomManager, opts Options) *session {
	t.Helper()
	if opts.PingInterval == 0 {
		opts.PingInterval, opts.PingTimeout, opts.MaxMessageSize = time.Second, 3*time.Second, 1<<16
	}
	return &session{rooms: rooms, opts: opts, log: zap.NewNop(), out: make(chan outgoing, sendQueueLength),
		done: make(chan struct{}), limits: newLimits(opts)}
}

// sent takes every queued message, decoded.
func sent(t *testing.T, s *session) []map[string]any {
	t.Helper()
	var msgs []map[string]any
	for {
		select {
		case o := <-s.out:
			if o.closeCode != 0 {
				msgs = append(msgs, map[string]any{"close": float64(o.closeCode)})
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(o.data, &m); err != nil {
				t.Fatalf("the server queued invalid JSON %q: %v", o.data, err)
			}
			msgs = append(msgs, m)
		default:
			return msgs
		}
	}
}

// joinSession dispatches a join and returns the session's member.
func joinSession(t *testing.T, s *session, rooms *fakeRooms) *fakeMember {
	t.Helper()
	s.dispatch([]byte(`{"type":"join","room":"r","name":"ann"}`))
	if got := sent(t, s); len(got) != 0 {
		t.Fatalf("join answered %v", got)
	}
	rooms.mu.Lock()
	defer rooms.mu.Unlock()
	return rooms.members[len(rooms.members)-1]
}

func testLog() *zap.Logger { return zap.NewNop() }
