package signal

import (
	"time"

	"github.com/switchyard-sfu/switchyard/room"
)

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

// AnnounceDrain tells every open connection that the server drains until
// deadline; the room manager refuses their joins meanwhile.
func (h *Handler) AnnounceDrain(deadline time.Time) {
	msg := drainMessage(deadline)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.drainUntil = deadline
	for s := range h.sessions {
		s.send(msg)
	}
}

func drainMessage(deadline time.Time) ServerDraining {
	return ServerDraining{Type: TypeServerDraining, Deadline: deadline.UTC(), DeadlineMS: max(0, time.Until(deadline).Milliseconds())}
}
