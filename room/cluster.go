package room

import "fmt"

// Leave reasons a cluster gives (see docs/cluster.md).
const (
	// ReasonNodeLost: the node hosting the session stopped heartbeating
	// and a surviving node closed the session for it.
	ReasonNodeLost Reason = "node-lost"
	// ReasonClusterLost: this node lost its cluster connection for longer
	// than its lease, so it fenced itself and closed its own sessions.
	ReasonClusterLost Reason = "cluster-lost"
)

// Placement tells a Manager in a cluster where each room lives. The
// Manager asks before every join and reports every departure, so the
// placement can hold the room's claim for exactly as long as someone is
// in it, here. A single node has none.
type Placement interface {
	// Acquire is asked before a join enters roomName. nil means the room
	// lives here and one more participant now holds it; a *Redirect means
	// it lives on another node; any other error refuses the join.
	Acquire(roomName string) error
	// Release undoes one successful Acquire: a participant left, or its
	// join failed after Acquire.
	Release(roomName string)
}

// Redirect is the error Acquire returns for a room hosted elsewhere: the
// client should send its join to URL instead.
type Redirect struct {
	Room        string
	Node        string // the owner's node id
	Incarnation uint64 // the owner's incarnation when it was chosen
	URL         string // the owner's signaling URL (cluster.advertise_url)
}

func (r *Redirect) Error() string {
	return fmt.Sprintf("room: %q lives on node %s (%s)", r.Room, r.Node, r.URL)
}

// JoinWith is Join for a request that carries an identity and
// permissions, as a join token grants them. In a cluster the room's
// placement is asked first; see Placement.
func (m *Manager) JoinWith(req JoinRequest, client Client) (*Participant, error) {
	pl := m.opts.Placement
	if pl == nil {
		return m.joinLocal(req, client)
	}
	if err := ValidateJoin(req.Room, req.Name); err != nil {
		return nil, err
	}
	if err := m.JoinsRefused(); err != nil {
		return nil, err // a stopping node must not claim rooms
	}
	if err := pl.Acquire(req.Room); err != nil {
		return nil, err
	}
	p, err := m.joinLocal(req, client)
	if err != nil {
		pl.Release(req.Room)
	}
	return p, err
}

// released is called once per participant that left.
func (m *Manager) released(roomName string) {
	if pl := m.opts.Placement; pl != nil {
		pl.Release(roomName)
	}
}

// LeaveAll makes every participant leave with reason and returns how many
// did; a fenced cluster node uses it with ReasonClusterLost.
func (m *Manager) LeaveAll(reason Reason) int {
	m.mu.Lock()
	all := make([]*Participant, 0, len(m.participants))
	for _, p := range m.participants {
		all = append(all, p)
	}
	m.mu.Unlock()
	n := 0
	for _, p := range all {
		if m.leave(p, reason) {
			n++
		}
	}
	return n
}
