package signal

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
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
	// AllowedOrigins lists Origin values allowed to connect: empty means
	// the page's own host only, "*" means any.
	AllowedOrigins []string
	// Auth verifies join tokens; nil means auth is off and joins need none.
	Auth *auth.Authority
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
	wg       sync.WaitGroup
}

// NewHandler serves signaling sessions that join rooms in rooms.
func NewHandler(rooms *room.Manager, opts Options, log *zap.Logger) *Handler {
	h := &Handler{rooms: rooms, opts: opts, log: log, sessions: make(map[*session]struct{})}
	h.upgrader = websocket.Upgrader{
		ReadBufferSize:  4096,
		WriteBufferSize: 4096,
		CheckOrigin:     h.checkOrigin,
	}
	return h
}

func (h *Handler) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || slices.Contains(h.opts.AllowedOrigins, "*") {
		return true // non-browser clients send no Origin
	}
	if len(h.opts.AllowedOrigins) == 0 {
		u, err := url.Parse(origin)
		return err == nil && strings.EqualFold(u.Host, r.Host)
	}
	return slices.ContainsFunc(h.opts.AllowedOrigins, func(o string) bool { return strings.EqualFold(o, origin) })
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

	conn, err := h.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has already answered with an HTTP error
	}
	s := newSession(conn, h.rooms, h.opts, h.log)
	h.mu.Lock()
	h.sessions[s] = struct{}{}
	if h.closing { // Shutdown began during the upgrade and missed s
		s.closeWith(websocket.CloseGoingAway, "server shutting down")
	}
	h.mu.Unlock()
	s.run()
	h.mu.Lock()
	delete(h.sessions, s)
	h.mu.Unlock()
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
