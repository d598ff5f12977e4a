package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard-sfu/switchyard/room"
	"go.uber.org/zap"
)

// register writes a fresh record under a new incarnation. The
// incarnation is the registration time in nanoseconds: unique and
// increasing across restarts without a counter anyone must coordinate.
func (n *Node) register(ctx context.Context) error {
	now := n.opts.Now()
	inc := uint64(now.UnixNano())
	n.mu.Lock()
	if inc <= n.lastInc {
		inc = n.lastInc + 1
	}
	n.mu.Unlock()
	sent := time.Now()
	rev, err := n.nodes.Put(ctx, n.opts.NodeID, encode(n.record(inc, now)))
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.inc, n.lastInc, n.rev, n.lastOK = inc, inc, rev, sent
	n.mu.Unlock()
	n.stats.registrations.Add(1)
	return nil
}

func (n *Node) heartbeatLoop() {
	defer n.wg.Done()
	t := time.NewTicker(n.opts.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
			n.heartbeat()
		}
	}
}

// heartbeat refreshes our record by CAS on its revision. A conflict means
// a reaper declared us lost (or deleted the record): we fence at once. A
// missed lease (no success within the lost timeout) also fences. A fenced
// node re-registers once its old incarnation's log records are written.
func (n *Node) heartbeat() {
	n.mu.Lock()
	inc, rev, lastOK := n.inc, n.rev, n.lastOK
	n.mu.Unlock()
	if inc != 0 && time.Since(lastOK) > n.opts.LostTimeout {
		n.fence("lease expired")
		inc = 0
	}
	ctx, cancel := n.timeout()
	defer cancel()
	if inc == 0 {
		if n.out.len() > 0 || !n.connected() {
			return
		}
		if err := n.register(ctx); err != nil {
			n.log.Debug("re-register failed", zap.Error(err))
			return
		}
		n.log.Info("cluster node re-registered", zap.Uint64("incarnation", n.incarnation()))
		return
	}
	sent := time.Now()
	newRev, err := n.nodes.Update(ctx, n.opts.NodeID, encode(n.record(inc, n.opts.Now())), rev)
	switch {
	case err == nil:
		n.mu.Lock()
		if n.inc == inc {
			n.rev, n.lastOK = newRev, sent
		}
		n.mu.Unlock()
	case isWrongSequence(err) || errors.Is(err, jetstream.ErrKeyNotFound):
		n.fence("record taken over: declared lost")
	default:
		n.log.Debug("heartbeat failed", zap.Error(err))
	}
}

// fence ends this incarnation: no more joins (Acquire sees inc 0), every
// session here leaves with reason cluster-lost. Their leaves reach the
// log unless a reaper already closed them as node-lost; either way each
// session is closed once.
func (n *Node) fence(why string) {
	n.mu.Lock()
	if n.inc == 0 {
		n.mu.Unlock()
		return
	}
	old := n.inc
	n.inc = 0
	n.mu.Unlock()
	n.stats.fences.Add(1)
	closed := 0
	if n.host != nil {
		closed = n.host.LeaveAll(room.ReasonClusterLost)
	}
	n.log.Warn("cluster node fenced", zap.String("why", why), zap.Uint64("incarnation", old), zap.Int("sessions_closed", closed))
}

// Fenced reports whether the node currently refuses joins.
func (n *Node) Fenced() bool {
	_, ok := n.live()
	return !ok
}

func (n *Node) watchLoop() {
	defer n.wg.Done()
	t := time.NewTicker(max(n.opts.Heartbeat/2, 10*time.Millisecond))
	defer t.Stop()
	sweepEvery := max(int(claimGrace/(n.opts.Heartbeat/2)), 1)
	for i := 1; ; i++ {
		select {
		case <-n.stop:
			return
		case <-t.C:
			n.scan()
			if i%sweepEvery == 0 {
				n.sweepClaims()
			}
		}
	}
}

// scan reads every node record, notes which changed, and reaps the nodes
// whose record stood still for longer than the lost timeout. Only a node
// that holds its own lease judges others.
func (n *Node) scan() {
	if !n.connected() {
		return
	}
	ctx, cancel := n.timeout()
	defer cancel()
	lister, err := n.nodes.ListKeys(ctx)
	if err != nil {
		if !errors.Is(err, jetstream.ErrNoKeysFound) {
			n.log.Debug("list nodes", zap.Error(err))
		}
		return
	}
	seen := map[string]bool{}
	var fresh []*peer
	for key := range lister.Keys() {
		e, err := n.nodes.Get(ctx, key)
		if err != nil {
			continue
		}
		var rec Record
		if json.Unmarshal(e.Value(), &rec) != nil {
			continue
		}
		seen[key] = true
		fresh = append(fresh, &peer{rec: rec, rev: e.Revision(), created: e.Created()})
	}
	if ctx.Err() != nil {
		return // a partial listing would forget live nodes
	}
	now := time.Now()
	var lost []peer
	_, healthy := n.live()
	n.mu.Lock()
	for _, f := range fresh {
		p := n.peers[f.rec.Node]
		if p == nil || p.rev != f.rev {
			f.changed = now
			n.peers[f.rec.Node] = f
			continue
		}
		if healthy && f.rec.Node != n.opts.NodeID && now.Sub(p.changed) > n.opts.LostTimeout {
			lost = append(lost, *p)
		}
	}
	for id := range n.peers {
		if !seen[id] {
			delete(n.peers, id)
		}
	}
	n.mu.Unlock()
	for _, p := range lost {
		n.reap(p)
	}
}

// Peers returns the records of every node this node knows, itself included.
func (n *Node) Peers() []Record {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]Record, 0, len(n.peers))
	for _, p := range n.peers {
		out = append(out, p.rec)
	}
	return out
}

// livePeer returns node's record if it is alive in incarnation inc:
// serving or draining, and changed within the lost timeout.
func (n *Node) livePeer(node string, inc uint64) (Record, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	p := n.peers[node]
	if p == nil || p.rec.Incarnation != inc || p.rec.State == StateLost || time.Since(p.changed) > n.opts.LostTimeout {
		return Record{}, false
	}
	return p.rec, true
}
