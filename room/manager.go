// Package room owns membership: who is in which room, joining, the one
// leave path every cause goes through, and what everyone else is told.
// It drives the media core (sfu) and reports to an Observer (session log,
// metrics); it knows nothing of WebSockets.
package room

import (
	"cmp"
	"context"
	"crypto/subtle"
	"slices"
	"sync"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/ids"
	"github.com/switchyard-sfu/switchyard/internal/waitfor"
	"github.com/switchyard-sfu/switchyard/sfu"
	"go.uber.org/zap"
)

// Options configure a Manager.
type Options struct {
	MaxParticipants int      // per room
	MaxTracks       int      // published per participant; 0 = DefaultMaxTracks
	Observer        Observer // may be nil
	Journal         Journal  // the session log; may be nil
	Log             *zap.Logger
	// ICEServers gives a participant the STUN/TURN servers for its
	// "joined" (TURN credentials are per participant); nil gives the
	// engine's STUN servers to everyone.
	ICEServers func(participantID string, expires time.Time) []webrtc.ICEServer
	// Placement places rooms on cluster nodes; nil on a single node.
	Placement Placement
}

// Manager holds every room on this server. Lock order: Manager.mu before
// Room.mu; nothing that holds a Room.mu takes Manager.mu.
type Manager struct {
	media    Media
	opts     Options
	log      *zap.Logger
	observer Observer
	journal  Journal

	mu           sync.Mutex
	rooms        map[string]*Room
	participants map[string]*Participant // by id, for the leave beacon
	closing      bool
	draining     bool // joins refused with ErrDraining; see RefuseJoins

	// Peer connections close in the background (a close can take a moment
	// and must not hold up the leaver's socket); these count them so
	// WaitPeersClosed can wait. idle is closed whenever closing drops to zero.
	closes int
	idle   chan struct{}

	speakerLoops sync.WaitGroup // rooms' speaker sampling; Shutdown waits

	resumable resumes // recently ended sessions a rejoin may continue (resume.go)
}

// NewManager makes an empty Manager that builds peer connections with engine.
func NewManager(engine *sfu.Engine, opts Options) *Manager {
	return newManager(sfuMedia{engine}, opts)
}

// newManager is NewManager for any Media; room's tests give it a fake.
func newManager(media Media, opts Options) *Manager {
	obs := opts.Observer
	if obs == nil {
		obs = nopObserver{}
	}
	journal := opts.Journal
	if journal == nil {
		journal = nopJournal{}
	}
	return &Manager{
		media:        media,
		opts:         opts,
		log:          cmp.Or(opts.Log, zap.NewNop()),
		observer:     obs,
		journal:      journal,
		rooms:        make(map[string]*Room),
		participants: make(map[string]*Participant),
	}
}

// Join puts a new participant called name into roomName, creating the
// room if needed. Before Join returns, client has been sent Joined, the
// room has been told, and the existing tracks are on their way to the
// newcomer's subscribe PC.
func (m *Manager) Join(roomName, name string, client Client) (*Participant, error) {
	return m.JoinWith(JoinRequest{Room: roomName, Name: name, Permissions: AllPermissions}, client)
}

// joinLocal is JoinWith (cluster.go) once the room is known to live here.
func (m *Manager) joinLocal(req JoinRequest, client Client) (*Participant, error) {
	roomName, name := req.Room, req.Name
	if err := ValidateJoin(roomName, name); err != nil {
		return nil, err
	}
	resumedFrom := m.resume(req)
	p, err := m.newParticipant(roomName, name, client)
	if err != nil {
		return nil, err
	}
	p.identity, p.perms, p.resumedFrom = req.Identity, req.Permissions, resumedFrom

	m.mu.Lock()
	if err := m.joinsRefused(); err != nil {
		m.mu.Unlock()
		p.closePeers()
		return nil, err
	}
	r := m.rooms[roomName]
	if r == nil {
		r = newRoom(roomName)
		m.rooms[roomName] = r
	}
	r.mu.Lock()
	if len(r.participants) >= m.opts.MaxParticipants {
		empty := len(r.participants) == 0
		r.mu.Unlock()
		if empty {
			m.removeRoom(r)
		}
		m.mu.Unlock()
		p.closePeers()
		return nil, ErrRoomFull
	}
	// Set before p becomes findable: a beacon or Shutdown may reach p
	// through m.participants at once, and then waits on r.mu.
	p.room = r
	p.client = orderedClient{&r.out, client}
	p.joinedAt = time.Now().UTC()
	p.lastHeard.Store(p.joinedAt.UnixNano())
	m.participants[p.id] = p
	m.mu.Unlock()

	others := r.sortedParticipants()
	info := JoinInfo{Room: r.name, ParticipantID: p.id, LeaveSecret: p.secret, ICEServers: m.iceServersFor(p.id, req.Expires),
		Identity: p.identity, Permissions: p.perms, ResumedFrom: p.resumedFrom}
	for _, o := range others {
		info.Participants = append(info.Participants, o.info())
	}
	event := p.joinEvent(p.joinedAt)
	m.commitThen(r, m.journal.RecordJoin(event), event, func() { m.observer.Joined(event) })
	p.client.Joined(info)
	for _, o := range others {
		o.client.ParticipantJoined(p.info())
	}
	r.participants[p.id] = p
	for _, o := range others {
		for _, t := range o.sortedTracks() {
			m.forward(t, p)
		}
	}
	told := r.out.last()
	r.mu.Unlock()
	r.out.deliverThrough(told)
	m.log.Info("participant joined", zap.String("room", r.name), zap.String("participant", p.id), zap.String("name", p.name))
	return p, nil
}

// LeaveWithSecret ends a session on behalf of the page's leave beacon,
// which can prove who it is only by the secret given at join.
func (m *Manager) LeaveWithSecret(participantID, secret string) error {
	m.mu.Lock()
	p := m.participants[participantID]
	m.mu.Unlock()
	if p == nil {
		return ErrUnknown
	}
	if subtle.ConstantTimeCompare([]byte(p.secret), []byte(secret)) != 1 {
		return ErrBadSecret
	}
	if !m.leave(p, ReasonTabClosed) {
		return ErrLeft
	}
	return nil
}

// leave is the one way out of a room, whatever the cause. It reports
// whether this call did the leaving; later calls for the same participant
// do nothing. Everyone else hears track-unpublished and participant-left
// once the leave is durable, before their subscribe PCs are renegotiated
// without the leaver's tracks.
func (m *Manager) leave(p *Participant, reason Reason) bool {
	finish, ok := m.startLeave(p, reason)
	if ok {
		finish()
	}
	return ok
}

// startLeave makes the membership change under the room lock and queues
// what everyone is told behind the leave's journal commit. finish does
// the rest outside the lock: wait for the commit and tell, renegotiate
// the others' subscribe PCs, close the leaver's. So simultaneous leaves
// hold the lock one after the other only for a moment, share an fsync,
// and are each told as fast as one alone.
func (m *Manager) startLeave(p *Participant, reason Reason) (finish func(), ok bool) {
	r := p.room
	r.mu.Lock()
	if p.left {
		r.mu.Unlock()
		return nil, false
	}
	// Timed once the lock is held, so whatever the leave waited for is
	// inside its detection delay and the log cannot hide it.
	now := time.Now()
	p.left = true
	delete(r.participants, p.id)
	tracks := p.sortedTracks()
	p.tracks = nil
	others := r.sortedParticipants()
	event := p.leaveEvent(now, reason)
	m.commitThen(r, m.journal.RecordLeave(event), event.JoinEvent, func() { m.observer.Left(event) })
	for _, o := range others {
		for _, t := range tracks {
			o.client.TrackUnpublished(p.id, trackInfo(t))
		}
		o.client.ParticipantLeft(p.id, reason)
	}
	p.client.Left(reason)
	told := r.out.last()
	r.mu.Unlock()

	return func() {
		defer close(p.finished)
		r.out.deliverThrough(told)
		// The leaver is out of the room, so nothing forwards its tracks
		// again; removing them needs no room lock.
		for _, o := range others {
			for _, t := range tracks {
				o.sub.RemoveTrack(t.ID())
			}
		}
		m.resumable.remember(p, now)
		m.forget(p, r)
		m.released(r.name)
		m.closeInBackground(p)
		m.log.Info("participant left",
			zap.String("room", r.name), zap.String("participant", p.id), zap.String("name", p.name),
			zap.String("reason", string(reason)), zap.Duration("duration", event.Duration),
			zap.Duration("detection_delay", event.DetectionDelay))
	}, true
}

// commitThen posts a join or leave's barrier to r's outbox: nothing
// posted after it is delivered before commit is done, and then observe
// runs first. A failed commit is logged and the room goes on: refusing
// to tell would leave everyone a ghost, which the log exists to prevent.
// Callers hold r.mu.
func (m *Manager) commitThen(r *Room, commit Commit, e JoinEvent, observe func()) {
	r.out.post(commit, func() {
		if commit != nil && commit.Err() != nil {
			m.log.Error("session log record failed", zap.String("room", e.Room), zap.String("participant", e.ParticipantID),
				zap.Error(commit.Err()))
		}
		observe()
	})
}

// forget drops p from the id index and r from the room map if it emptied.
func (m *Manager) forget(p *Participant, r *Room) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.participants, p.id)
	if m.rooms[r.name] != r {
		return
	}
	r.mu.Lock()
	if len(r.participants) == 0 {
		m.removeRoom(r)
	}
	r.mu.Unlock()
}

// Rooms describes every room, sorted by name.
func (m *Manager) Rooms() []Info {
	m.mu.Lock()
	rooms := make([]*Room, 0, len(m.rooms))
	for _, r := range m.rooms {
		rooms = append(rooms, r)
	}
	m.mu.Unlock()
	slices.SortFunc(rooms, func(a, b *Room) int { return cmp.Compare(a.name, b.name) })
	infos := make([]Info, 0, len(rooms))
	for _, r := range rooms {
		infos = append(infos, r.info())
	}
	return infos
}

// Counts returns the number of occupied rooms and of participants right
// now, read from the rooms themselves so they agree with what the
// participants have been told.
func (m *Manager) Counts() (rooms, participants int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rooms {
		r.mu.Lock()
		if n := len(r.participants); n > 0 {
			rooms++
			participants += n
		}
		r.mu.Unlock()
	}
	return rooms, participants
}

// Shutdown refuses new joins, makes everyone leave with reason
// server-shutdown and waits until every peer connection is closed, or
// until ctx ends.
func (m *Manager) Shutdown(ctx context.Context) error {
	m.mu.Lock()
	m.closing = true
	all := make([]*Participant, 0, len(m.participants))
	for _, p := range m.participants {
		all = append(all, p)
	}
	m.mu.Unlock()
	// All at once: the leaves share their commits instead of each
	// waiting for its own.
	var finishes []func()
	var inFlight []*Participant
	for _, p := range all {
		if finish, ok := m.startLeave(p, ReasonServerShutdown); ok {
			finishes = append(finishes, finish)
		} else {
			inFlight = append(inFlight, p)
		}
	}
	for _, finish := range finishes {
		finish()
	}
	// A leave another goroutine started (a failed PC, a closed socket) is
	// still telling and closing; Shutdown owns the room's end, so it waits.
	for _, p := range inFlight {
		select {
		case <-p.finished:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := m.WaitPeersClosed(ctx); err != nil {
		return err
	}
	// Every room is removed by now, so their speaker sampling is ending.
	return waitfor.Group(ctx, &m.speakerLoops)
}

// removeRoom forgets an empty room; callers hold m.mu. The room object is
// never used again: joins look rooms up by name under m.mu.
func (m *Manager) removeRoom(r *Room) {
	delete(m.rooms, r.name)
	close(r.removed)
}

func (m *Manager) closeInBackground(p *Participant) {
	m.mu.Lock()
	if m.closes == 0 {
		m.idle = make(chan struct{})
	}
	m.closes++
	m.mu.Unlock()
	go func() {
		// A few at a time: closing a PC is CPU work, and a room emptying
		// at once would otherwise flood both cores with it just when the
		// leaves are being told.
		closeSlots <- struct{}{}
		p.closePeers()
		<-closeSlots
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.closes--; m.closes == 0 {
			close(m.idle)
		}
	}()
}

// closeSlots bounds how many participants' PCs close at once, process-wide.
var closeSlots = make(chan struct{}, 2)

// WaitPeersClosed waits until the peer connections of everyone who has left are
// closed, or until ctx ends.
func (m *Manager) WaitPeersClosed(ctx context.Context) error {
	m.mu.Lock()
	if m.closes == 0 {
		m.mu.Unlock()
		return nil
	}
	idle := m.idle
	m.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

type nopObserver struct{}

func (nopObserver) Joined(JoinEvent) {}
func (nopObserver) Left(LeaveEvent)  {}

// newParticipantID is separate so ids stay recognisable in logs.
func newParticipantID() string { return ids.New("p_") }

func (m *Manager) iceServersFor(participantID string, expires time.Time) []webrtc.ICEServer {
	if m.opts.ICEServers != nil {
		return m.opts.ICEServers(participantID, expires)
	}
	return m.media.ICEServers()
}
