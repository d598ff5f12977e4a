package cluster

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard-sfu/switchyard/room"
	"go.uber.org/zap"
)

// claimGrace is how long a claim made for this node by another (which
// redirected a client here) may stay unused before this node drops it.
const claimGrace = 10 * time.Second

// claim is a room's entry in sy-rooms: the node it lives on, fenced by
// that node's incarnation.
type claim struct {
	Node        string    `json:"node"`
	Incarnation uint64    `json:"incarnation"`
	URL         string    `json:"url"`
	At          time.Time `json:"at"`
}

// held is a room living here: how many participants (or joins under way)
// hold it, and the revision of our claim, so releasing deletes only ours.
type held struct {
	refs int
	rev  uint64
}

// roomKey makes a KV key from any room name (KV keys allow few
// characters; base64url uses only allowed ones).
func roomKey(name string) string { return "r" + base64.RawURLEncoding.EncodeToString([]byte(name)) }

// Acquire implements room.Placement. The first join of a room claims it
// (CAS create) for the least-loaded serving node; a claim whose node is
// gone, or of an old incarnation, is taken over by CAS on its revision.
// Placement calls on one node are serialised, which keeps claim and
// release of a room in order; a room already here costs no NATS call.
func (n *Node) Acquire(roomName string) error {
	n.placeMu.Lock()
	defer n.placeMu.Unlock()
	inc, ok := n.live()
	if !ok || !n.connected() {
		return room.ErrClusterLost
	}
	if h := n.held[roomName]; h != nil {
		h.refs++
		return nil
	}
	ctx, cancel := n.timeout()
	defer cancel()
	key := roomKey(roomName)
	for range 4 {
		e, err := n.rooms.Get(ctx, key)
		var rev uint64
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			target, terr := n.leastLoaded(inc)
			if terr != nil {
				return terr
			}
			if rev, err = n.rooms.Create(ctx, key, encode(target)); isWrongSequence(err) {
				continue // someone else claimed it first: read their claim
			}
			return n.placed(roomName, target, rev, err)
		}
		if err != nil {
			return fmt.Errorf("%w: read placement of %q: %v", room.ErrClusterLost, roomName, err)
		}
		var c claim
		_ = json.Unmarshal(e.Value(), &c)
		if c.Node == n.opts.NodeID && c.Incarnation == inc {
			return n.placed(roomName, c, e.Revision(), nil)
		}
		owner, alive, err := n.registered(ctx, c.Node, c.Incarnation)
		if err != nil {
			return err
		}
		if alive {
			return n.redirect(roomName, c, owner)
		}
		// The claim's incarnation is dead or fenced: take the room over.
		target, terr := n.leastLoaded(inc)
		if terr != nil {
			return terr
		}
		if rev, err = n.rooms.Update(ctx, key, encode(target), e.Revision()); isWrongSequence(err) {
			continue
		}
		n.stats.takeovers.Add(1)
		return n.placed(roomName, target, rev, err)
	}
	return fmt.Errorf("cluster: placement of %q kept changing under us", roomName)
}

// registered reads node's record from the registry itself, not from
// this node's view of it: a claim is void only once its incarnation is
// no longer registered (reaped, fenced and re-registered, or gone), never
// because this node happened to miss some heartbeats.
func (n *Node) registered(ctx context.Context, node string, inc uint64) (Record, bool, error) {
	e, err := n.nodes.Get(ctx, node)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("cluster: read node %s: %w", node, err)
	}
	var rec Record
	if json.Unmarshal(e.Value(), &rec) != nil {
		return Record{}, false, nil
	}
	return rec, rec.Incarnation == inc && rec.State != StateLost, nil
}

// placed finishes Acquire once a claim names c.Node; callers hold placeMu.
func (n *Node) placed(roomName string, c claim, rev uint64, err error) error {
	if err != nil {
		return fmt.Errorf("cluster: claim %q: %w", roomName, err)
	}
	if c.Node != n.opts.NodeID {
		return n.redirect(roomName, c, Record{Node: c.Node, URL: c.URL})
	}
	n.held[roomName] = &held{refs: 1, rev: rev}
	n.stats.claims.Add(1)
	return nil
}

func (n *Node) redirect(roomName string, c claim, owner Record) error {
	n.stats.redirects.Add(1)
	url := owner.URL
	if url == "" {
		url = c.URL
	}
	return &room.Redirect{Room: roomName, Node: c.Node, Incarnation: c.Incarnation, URL: url}
}

// Release implements room.Placement: the last holder deletes the claim,
// by CAS on its revision so a takeover is never undone.
func (n *Node) Release(roomName string) {
	n.placeMu.Lock()
	defer n.placeMu.Unlock()
	h := n.held[roomName]
	if h == nil {
		return
	}
	if h.refs--; h.refs > 0 {
		return
	}
	delete(n.held, roomName)
	if !n.connected() {
		return // a claim of this incarnation is void once it fences
	}
	ctx, cancel := n.timeout()
	defer cancel()
	if err := n.rooms.Delete(ctx, roomKey(roomName), jetstream.LastRevision(h.rev)); err != nil {
		n.log.Debug("release room claim", zap.String("room", roomName), zap.Error(err))
	}
}

// leastLoaded picks the serving node with the fewest participants (then
// rooms, then itself, then by id), from the latest heartbeats. A draining node, or one
// not heard within the lost timeout, gets no new room.
func (n *Node) leastLoaded(inc uint64) (claim, error) {
	now := time.Now()
	n.mu.Lock()
	var cands []Record
	for _, p := range n.peers {
		if p.rec.State != StateServing || now.Sub(p.changed) > n.opts.LostTimeout {
			continue
		}
		if p.rec.Node == n.opts.NodeID && p.rec.Incarnation != inc {
			continue
		}
		cands = append(cands, p.rec)
	}
	n.mu.Unlock()
	self := n.record(inc, n.opts.Now()) // our own load is known now, not a heartbeat ago
	cands = slices.DeleteFunc(cands, func(r Record) bool { return r.Node == self.Node })
	if self.State == StateServing {
		cands = append(cands, self)
	}
	if len(cands) == 0 {
		return claim{}, room.ErrDraining
	}
	// On a tie this node wins, which spares the client a redirect.
	notSelf := func(r Record) int {
		if r.Node == self.Node {
			return 0
		}
		return 1
	}
	best := slices.MinFunc(cands, func(a, b Record) int {
		return cmp.Or(cmp.Compare(a.Load.Participants, b.Load.Participants), cmp.Compare(a.Load.Rooms, b.Load.Rooms),
			cmp.Compare(notSelf(a), notSelf(b)), cmp.Compare(a.Node, b.Node))
	})
	return claim{Node: best.Node, Incarnation: best.Incarnation, URL: best.URL, At: n.opts.Now().UTC()}, nil
}

// sweepClaims drops claims naming this node that nobody holds here: made
// for us by a node that redirected a client who never came, or left from
// an earlier incarnation.
func (n *Node) sweepClaims() {
	inc, ok := n.live()
	if !ok || !n.connected() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), n.opts.LostTimeout)
	defer cancel()
	n.placeMu.Lock()
	defer n.placeMu.Unlock()
	_ = n.eachClaim(ctx, func(key string, c claim, e jetstream.KeyValueEntry) {
		if c.Node != n.opts.NodeID {
			return
		}
		for name := range n.held {
			if roomKey(name) == key {
				return
			}
		}
		if c.Incarnation == inc && time.Since(e.Created()) < claimGrace {
			return
		}
		_ = n.rooms.Delete(ctx, key, jetstream.LastRevision(e.Revision()))
	})
}
