package room

import (
	"crypto/subtle"
	"sync"
	"time"

	"go.uber.org/zap"
)

// ResumeWindow is how long after a session ended it may still be resumed:
// long enough for a laptop waking or a network switching over, short
// enough that the claims kept in memory stay few.
const ResumeWindow = 2 * time.Minute

// ResumeClaim is a rejoining client's proof that it is the participant of
// an earlier session: that session's id and the leave secret it was given.
type ResumeClaim struct {
	ParticipantID string
	Secret        string
}

// ended is what is kept of a session that may be resumed.
type ended struct {
	secret, room, identity string
	at                     time.Time
}

// resumes remembers recently ended sessions; the zero value is ready.
type resumes struct {
	mu    sync.Mutex
	ended map[string]ended // by participant id
}

// remember records p's session as resumable; called once p has left.
func (rs *resumes) remember(p *Participant, at time.Time) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.ended == nil {
		rs.ended = make(map[string]ended)
	}
	for id, e := range rs.ended {
		if at.Sub(e.at) > ResumeWindow {
			delete(rs.ended, id)
		}
	}
	rs.ended[p.id] = ended{secret: p.secret, room: p.room.name, identity: p.identity, at: at}
}

// take consumes the claim on an ended session when it holds: each session
// is resumed at most once.
func (rs *resumes) take(c ResumeClaim, roomName, identity string, now time.Time) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	e, ok := rs.ended[c.ParticipantID]
	if !ok || now.Sub(e.at) > ResumeWindow || e.room != roomName || e.identity != identity ||
		subtle.ConstantTimeCompare([]byte(e.secret), []byte(c.Secret)) != 1 {
		return false
	}
	delete(rs.ended, c.ParticipantID)
	return true
}

// resume checks a join's claim and returns the id of the session it
// continues, or "" when there is no valid claim (the join then is a fresh
// session: a wrong claim costs the claimant the link, never its join).
// A claimed session that is still open — the old socket broke and the
// server has not noticed yet — ends now with reason reconnected, so the
// room is told it dropped before it is told it is back.
func (m *Manager) resume(req JoinRequest) string {
	c := req.Resume
	if c == nil || c.ParticipantID == "" {
		return ""
	}
	m.mu.Lock()
	live := m.participants[c.ParticipantID]
	m.mu.Unlock()
	if live != nil && live.room.name == req.Room && live.identity == req.Identity &&
		subtle.ConstantTimeCompare([]byte(live.secret), []byte(c.Secret)) == 1 {
		m.leave(live, ReasonReconnected)
	}
	if !m.resumable.take(*c, req.Room, req.Identity, time.Now()) {
		m.log.Info("resume claim refused; joining as a new session",
			zap.String("room", req.Room), zap.String("resumed_from", c.ParticipantID))
		return ""
	}
	return c.ParticipantID
}

// ResumedFrom is the id of the session this one continues, or "".
func (p *Participant) ResumedFrom() string { return p.resumedFrom }
