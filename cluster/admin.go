package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard-sfu/switchyard/adminapi"
	"github.com/switchyard-sfu/switchyard/room"
)

// AdminRequest is an operator action sent by request/reply to the node a
// room lives on, on subject sy.admin.<node>; the owner answers from its
// own memory.
type AdminRequest struct {
	Op    string `json:"op"` // rooms, kick, close, mute
	Room  string `json:"room,omitempty"`
	Who   string `json:"who,omitempty"`
	Track string `json:"track,omitempty"`
	Muted bool   `json:"muted,omitempty"`
}

// AdminReply is the owner's answer.
type AdminReply struct {
	Node    string          `json:"node"`
	Rooms   []adminapi.Room `json:"rooms,omitempty"`
	Kicked  []string        `json:"kicked,omitempty"`
	Removed int             `json:"participants_removed,omitempty"`
	Error   string          `json:"error,omitempty"`
	// NotFound says the error means no such room, participant or track.
	NotFound bool `json:"not_found,omitempty"`
}

// ErrNotFound is an admin target (room, participant, track) no node has.
var ErrNotFound = errors.New("cluster: not found")

func (n *Node) serveAdmin() error {
	sub, err := n.nc.Subscribe(adminSubject+"."+n.opts.NodeID, func(m *nats.Msg) {
		var req AdminRequest
		reply := AdminReply{Node: n.opts.NodeID}
		if err := json.Unmarshal(m.Data, &req); err != nil {
			reply.Error = "bad request: " + err.Error()
		} else {
			reply = n.answer(req)
		}
		_ = m.Respond(encode(reply))
	})
	if err != nil {
		return fmt.Errorf("cluster: admin subscription: %w", err)
	}
	n.adm = sub
	return nil
}

func (n *Node) answer(req AdminRequest) AdminReply {
	reply := AdminReply{Node: n.opts.NodeID}
	var err error
	switch req.Op {
	case "rooms":
		reply.Rooms = adminapi.Rooms(n.host.Rooms())
	case "kick":
		reply.Kicked, err = n.host.Kick(req.Room, req.Who)
	case "close":
		reply.Removed, err = n.host.CloseRoom(req.Room)
	case "mute":
		err = n.host.Mute(req.Room, req.Who, req.Track, req.Muted)
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	if err != nil {
		reply.Error = err.Error()
		reply.NotFound = errors.Is(err, room.ErrNoSuchRoom) || errors.Is(err, room.ErrNoSuchParticipant) || errors.Is(err, room.ErrUnknownTrack)
	}
	return reply
}

func (n *Node) ask(ctx context.Context, node string, req AdminRequest) (AdminReply, error) {
	if node == n.opts.NodeID {
		return n.answer(req), nil
	}
	msg, err := n.nc.RequestWithContext(ctx, adminSubject+"."+node, encode(req))
	if err != nil {
		return AdminReply{}, fmt.Errorf("cluster: ask node %s: %w", node, err)
	}
	var reply AdminReply
	if err := json.Unmarshal(msg.Data, &reply); err != nil {
		return AdminReply{}, fmt.Errorf("cluster: node %s answered: %w", node, err)
	}
	return reply, nil
}

// AllRooms asks every live node for its rooms; the result is sorted by
// node id. A node that does not answer is reported by error, the others'
// rooms are still returned.
func (n *Node) AllRooms(ctx context.Context) ([]AdminReply, error) {
	var out []AdminReply
	var errs []error
	for _, r := range n.Peers() {
		if r.State == StateLost {
			continue
		}
		reply, err := n.ask(ctx, r.Node, AdminRequest{Op: "rooms"})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, reply)
	}
	slices.SortFunc(out, func(a, b AdminReply) int { return strings.Compare(a.Node, b.Node) })
	return out, errors.Join(errs...)
}

// Forward sends req to the node req.Room lives on and returns its answer;
// ErrNotFound when no node holds the room or the owner has no such target.
func (n *Node) Forward(ctx context.Context, req AdminRequest) (AdminReply, error) {
	e, err := n.rooms.Get(ctx, roomKey(req.Room))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return AdminReply{}, fmt.Errorf("%w: no node hosts room %q", ErrNotFound, req.Room)
	}
	if err != nil {
		return AdminReply{}, fmt.Errorf("cluster: placement of %q: %w", req.Room, err)
	}
	var c claim
	_ = json.Unmarshal(e.Value(), &c)
	reply, err := n.ask(ctx, c.Node, req)
	if err != nil {
		return reply, err
	}
	if reply.Error != "" {
		if reply.NotFound {
			return reply, fmt.Errorf("%w: %s", ErrNotFound, reply.Error)
		}
		return reply, errors.New(reply.Error)
	}
	return reply, nil
}
