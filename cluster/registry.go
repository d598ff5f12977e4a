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
	n.inc, n.lastInc, n.rev, n.lastOK, n.writable = inc, inc, rev, sent, true
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
		n.fence("lease expired", false)
		inc = 0
	}
	ctx, cancel := n.timeout()
	defer cancel()
	if inc == 0 {
		if !n.connected() || !n.reclaim(ctx) {
			return
		}
		if err := n.flush(ctx); err != nil {
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
		n.fence("record taken over: declared lost", true)
	default:
		n.log.Debug("heartbeat failed", zap.Error(err))
	}
}

// fence ends this incarnation: no more joins (Acquire sees inc 0), every
// session here leaves with reason cluster-lost. Their leaves reach the
// log unless a reaper already closed them as node-lost; either way each
// session is closed once.
func (n *Node) fence(why string, reaped bool) {
	n.mu.Lock()
	if n.inc == 0 {
		n.mu.Unlock()
		return
	}
	old := n.inc
	n.inc, n.writable = 0, false
	if reaped {
		n.dropInc = old
	}
	n.mu.Unlock()
	n.stats.fences.Add(1)
	closed := 0
	if n.host != nil {
		closed = n.host.LeaveAll(room.ReasonClusterLost)
	}
	n.log.Warn("cluster node fenced", zap.String("why", why), zap.Uint64("incarnation", old), zap.Int("sessions_closed", closed))
}

// reclaim decides, after a fence, who closes the old incarnation's
// sessions: if our record still stands, one more CAS on it makes sure no
// reaper can win it, and our own queued leaves (cluster-lost) are
// written; if a reaper marked or removed it, the reaper's node-lost
// leaves are the record and ours are dropped.
func (n *Node) reclaim(ctx context.Context) bool {
	n.mu.Lock()
	done, old := n.writable, n.lastInc
	n.mu.Unlock()
	if done {
		return true
	}
	e, err := n.nodes.Get(ctx, n.opts.NodeID)
	var rec Record
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
	case err != nil:
		return false
	default:
		_ = json.Unmarshal(e.Value(), &rec)
		// The revision may be newer than ours: a heartbeat stored after
		// its client gave up. It is still our record if no reaper marked it.
		if rec.State != StateLost && rec.Incarnation == old {
			if _, err := n.nodes.Update(ctx, n.opts.NodeID, e.Value(), e.Revision()); err == nil {
				n.mu.Lock()
				n.writable = true
				n.mu.Unlock()
				return true
			} else if !isWrongSequence(err) {
				return false
			}
		}
	}
	n.mu.Lock()
	n.dropInc, n.writable = old, true
	n.mu.Unlock()
	return true
}

// Fenced reports whether the node currently refuses joins.
func (n *Node) Fenced() bool {
	_, ok := n.live()
	return !ok
}

// watchLoop keeps this node's view of the registry from a KV watcher
// (pushed updates, no polling) and judges liveness on a ticker. The
// watcher is made again after a reconnect or when it ends.
func (n *Node) watchLoop() {
	defer n.wg.Done()
	t := time.NewTicker(max(n.opts.Heartbeat/2, 10*time.Millisecond))
	defer t.Stop()
	sweepEvery := max(int(claimGrace/(n.opts.Heartbeat/2)), 1)
	var w jetstream.KeyWatcher
	var updates <-chan jetstream.KeyValueEntry
	stopWatch := func() {
		if w != nil {
			_ = w.Stop()
		}
		w, updates = nil, nil
	}
	defer stopWatch()
	for i := 1; ; {
		if w == nil && n.connected() {
			var err error
			if w, err = n.nodes.WatchAll(context.Background()); err != nil {
				n.log.Debug("watch nodes", zap.Error(err))
				w = nil
			} else {
				updates = w.Updates()
			}
		}
		select {
		case <-n.stop:
			return
		case <-n.rewatch:
			stopWatch()
		case e, ok := <-updates:
			if !ok {
				stopWatch()
				continue
			}
			if e != nil {
				n.observe(e)
			}
		case <-t.C:
			n.judge()
			if i++; i%sweepEvery == 0 {
				n.sweepClaims()
			}
		}
	}
}

// observe records one registry change.
func (n *Node) observe(e jetstream.KeyValueEntry) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if e.Operation() != jetstream.KeyValuePut {
		delete(n.peers, e.Key())
		return
	}
	var rec Record
	if json.Unmarshal(e.Value(), &rec) != nil {
		return
	}
	n.peers[e.Key()] = &peer{rec: rec, rev: e.Revision(), created: e.Created(), changed: time.Now()}
}

// judge reaps the nodes whose record stood still for longer than the
// lost timeout. Only a node that holds its own lease judges others.
func (n *Node) judge() {
	if _, healthy := n.live(); !healthy || !n.connected() {
		return
	}
	now := time.Now()
	var lost []peer
	n.mu.Lock()
	for _, p := range n.peers {
		if p.rec.Node != n.opts.NodeID && now.Sub(p.changed) > n.opts.LostTimeout {
			lost = append(lost, *p)
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
