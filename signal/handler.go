package signal

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/internal/waitfor"
	"github.com/switchyard-sfu/switchyard/room"
	"go.uber.org/zap"
)

// Options tune the WebSocket side.
type Options struct {
	PingInterval   time.Duration // how often the server pings
	PingTimeout    time.Duration // silence after which a client is gone
	MaxMessageSize int64         // largest accepted client message, bytes
	// AnswerLimit is the largest subscribe answer accepted (see
	// AnswerLimit); at most hardLimitFactor × MaxMessageSize.
	AnswerLimit int64
	// AllowedOrigins lists Origin values allowed to connect: empty means
	// the page's own host only, "*" means any.
	AllowedOrigins []string
	// MessageRate/MessageBurst and JoinRate/JoinBurst are the per-socket
	// limits of ratelimit.go; 0 takes the defaults there.
	MessageRate, MessageBurst int
	JoinRate, JoinBurst       int
	// MaxWebSockets and MaxWebSocketsPerIP cap open sockets (0 = none);
	// JoinTimeout closes a socket that has not joined (0 = the default);
	// Hosts are the names an Origin must carry (admission.go).
	MaxWebSockets, MaxWebSocketsPerIP int
	JoinTimeout                       time.Duration
	Hosts                             []string
	// Auth verifies join tokens; nil means auth is off and joins need none.
	Auth *auth.Authority
	// RequireSocketToken, with auth on, refuses a handshake without a
	// token on the URL (handshake.go); off, only a token given is checked.
	RequireSocketToken bool
	// ReconnectGrace is sent in joined: how long pages keep a dropped
	// participant's tile waiting for it to resume.
	ReconnectGrace time.Duration
}

// writeTimeout bounds one frame write so a stuck TCP peer cannot pin the
// write loop; the ping timeout notices it anyway.
const writeTimeout = 5 * time.Second

// Handler upgrades HTTP requests to signaling sessions.
type Handler struct {
	rooms    *room.Manager
	opts     Options
	log      *zap.Logger
	upgrader websocket.Upgrader

	mu       sync.Mutex
	sessions map[*session]struct{}
	closing  bool
	// drainUntil is the drain's deadline once AnnounceDrain ran (a drain
	// is never called off), zero before.
	drainUntil time.Time
	wg         sync.WaitGroup
	caps       connCaps
}

// NewHandler serves signaling sessions that join rooms in rooms.
func NewHandler(rooms *room.Manager, opts Options, log *zap.Logger) *Handler {
	h := &Handler{rooms: rooms, opts: opts, log: log, sessions: make(map[*session]struct{})}
	h.upgrader = websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		CheckOrigin:     h.originAllowed,
	}
	return h
}

// ServeHTTP runs one session for the life of the connection.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()
	if code, why := h.handshakeRefusal(r); code != "" {
		refuseHandshake(w, code, why)
		return
	}
	ip := remoteIP(r)
	if !h.caps.acquire(ip, h.opts.MaxWebSockets, h.opts.MaxWebSocketsPerIP) {
		http.Error(w, "too many connections", http.StatusServiceUnavailable)
		return
	}
	defer h.caps.release(ip)

	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has already answered with an HTTP error
	}
	s := newSession(conn, managerRooms{h.rooms}, h.opts, h.log)
	h.register(s)
	s.run()
	h.mu.Lock()
	delete(h.sessions, s)
	h.mu.Unlock()
}

// register adds s to the open sessions. The client's handshake is already
// complete, so whatever began during the upgrade must reach s too: a
// Shutdown closes it, a drain is announced to it (as to every socket that
// opens while the drain lasts).
func (h *Handler) register(s *session) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.sessions[s] = struct{}{}
	if h.closing {
		s.closeWith(websocket.CloseGoingAway, "server shutting down")
	}
	if !h.drainUntil.IsZero() {
		s.send(drainMessage(h.drainUntil))
	}
}

// Shutdown refuses new sessions, closes the open ones (going away) and
// waits for their goroutines, or until ctx ends. Call it after the room
// manager's Shutdown so participants first hear why.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	for s := range h.sessions {
		s.closeWith(websocket.CloseGoingAway, "server shutting down")
	}
	h.mu.Unlock()
	return waitfor.Group(ctx, &h.wg)
}
