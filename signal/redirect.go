package signal

import (
	"errors"

	"github.com/switchyard-sfu/switchyard/room"
)

// TypeRedirect answers a join for a room that lives on another cluster
// node: the client sends the same join (with the same token, which every
// node of a cluster verifies with the same key) to URL instead.
const TypeRedirect = "redirect"

// CodeClusterLost refuses a join while this node is cut off from its
// cluster (docs/cluster.md); the client may try another node.
const CodeClusterLost = "cluster-lost"

// Redirect is the redirect message (docs/protocol.md). Node and
// Incarnation name the owner the cluster chose, so a client seeing a
// second redirect for the same owner incarnation knows it is looping.
type Redirect struct {
	Type        string `json:"type"`
	Room        string `json:"room"`
	URL         string `json:"url"`
	Node        string `json:"node"`
	Incarnation uint64 `json:"incarnation"`
}

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
