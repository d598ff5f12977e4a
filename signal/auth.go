package signal

import (
	"errors"
	"time"

	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/room"
)

// Error codes for join tokens, permissions and draining.
const (
	CodeTokenMissing      = "token-missing"       // auth is on and the join has no token
	CodeTokenMalformed    = "token-malformed"     // not a JWT, or a required claim is missing
	CodeTokenBadSignature = "token-bad-signature" // not signed with this server's key (or not HS256)
	CodeTokenExpired      = "token-expired"       // past its exp
	CodeTokenNotYetValid  = "token-not-yet-valid" // before its nbf
	CodeTokenWrongRoom    = "token-wrong-room"    // the token names another room
	CodePermissionDenied  = "permission-denied"   // the token does not allow this request
	CodeDraining          = "draining"            // the server is draining and takes no joins
)

// TypeServerDraining tells every connection the server is going away.
const TypeServerDraining = "server-draining"

// ServerDraining says the server takes no new joins and will close the
// remaining sessions (reason server-shutdown) at Deadline at the latest.
type ServerDraining struct {
	Type       string    `json:"type"`
	Deadline   time.Time `json:"deadline"`
	DeadlineMS int64     `json:"deadline_ms"` // ms from when this was sent
}

// admit turns a join message into a room join request: with auth off,
// the client's name and every permission; with auth on, the token's room
// check, identity, name and permissions, whatever the client sent.
func (s *session) admit(msg Join) (room.JoinRequest, error) {
	if s.opts.Auth == nil {
		return room.JoinRequest{Room: msg.Room, Name: msg.Name, Permissions: room.AllPermissions}, room.ValidateJoin(msg.Room, msg.Name)
	}
	if err := room.ValidateRoomName(msg.Room); err != nil {
		return room.JoinRequest{}, err
	}
	g, err := s.opts.Auth.VerifyJoin(msg.Token, msg.Room)
	if err != nil {
		return room.JoinRequest{}, err
	}
	req := room.JoinRequest{
		Room:        msg.Room,
		Name:        g.DisplayName(),
		Identity:    g.Identity,
		Permissions: room.Permissions(g.Permissions),
		Expires:     g.Expires,
	}
	return req, room.ValidateJoin(req.Room, req.Name)
}

// tokenErrorCode maps auth, permission and drain errors to their codes,
// or returns "".
func tokenErrorCode(err error) string {
	switch {
	case errors.Is(err, auth.ErrMissing):
		return CodeTokenMissing
	case errors.Is(err, auth.ErrMalformed):
		return CodeTokenMalformed
	case errors.Is(err, auth.ErrBadSignature):
		return CodeTokenBadSignature
	case errors.Is(err, auth.ErrExpired):
		return CodeTokenExpired
	case errors.Is(err, auth.ErrNotYetValid):
		return CodeTokenNotYetValid
	case errors.Is(err, auth.ErrWrongRoom):
		return CodeTokenWrongRoom
	case errors.Is(err, room.ErrPermissionDenied):
		return CodePermissionDenied
	case errors.Is(err, room.ErrDraining):
		return CodeDraining
	}
	return ""
}

// Drain tells every open connection that the server drains until
// deadline; the room manager refuses their joins meanwhile.
func (h *Handler) Drain(deadline time.Time) {
	msg := ServerDraining{Type: TypeServerDraining, Deadline: deadline.UTC(), DeadlineMS: max(0, time.Until(deadline).Milliseconds())}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.sessions {
		s.send(msg)
	}
}
