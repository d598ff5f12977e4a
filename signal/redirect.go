package signal

import (
	"errors"

	"github.com/switchyard-sfu/switchyard/room"
)

// redirectOr sends a redirect for a join the room's placement sent
// elsewhere and returns nil; any other error comes back as it is.
func (s *session) redirectOr(err error) error {
	var rd *room.Redirect
	if !errors.As(err, &rd) {
		return err
	}
	s.send(Redirect{Type: TypeRedirect, Room: rd.Room, URL: rd.URL, Node: rd.Node, Incarnation: rd.Incarnation})
	return nil
}
