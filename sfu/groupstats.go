package sfu

import (
	"sync"
	"sync/atomic"
)

// Per-group adaptive-video figures. A group is whatever the caller puts
// its subscribers in (the room, for room): the engine keeps, per group,
// the same layer figures it keeps in total, so /metrics can show them per
// room without sfu knowing what a room is. A group's figures go when its
// last subscriber closes.

// groupCounters are one group's figures; updated like counters.
type groupCounters struct {
	refs int // subscribers in the group; groupTable.mu

	probes            atomic.Uint64
	layerSwitchesUp   atomic.Uint64
	layerSwitchesDown atomic.Uint64
	layerViewers      [maxLayers + 1]atomic.Int64 // as counters.layerViewers
}

// GroupStats is a snapshot of one group's adaptive-video figures.
type GroupStats struct {
	SubscriptionsByLayer [maxLayers]int64 // as Stats
	SubscriptionsPaused  int64
	LayerSwitchesUp      uint64
	LayerSwitchesDown    uint64
	Probes               uint64
}

type groupTable struct {
	mu     sync.Mutex
	groups map[string]*groupCounters
}

// join counts a subscriber into group name; "" is no group (nil).
func (g *groupTable) join(name string) *groupCounters {
	if name == "" {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.groups == nil {
		g.groups = map[string]*groupCounters{}
	}
	c := g.groups[name]
	if c == nil {
		c = &groupCounters{}
		g.groups[name] = c
	}
	c.refs++
	return c
}

// leave counts a subscriber out; the last one takes the group's figures.
func (g *groupTable) leave(name string) {
	if name == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if c := g.groups[name]; c != nil {
		if c.refs--; c.refs <= 0 {
			delete(g.groups, name)
		}
	}
}

// GroupStats returns the adaptive-video figures of every group with a
// subscriber, by group name.
func (e *Engine) GroupStats() map[string]GroupStats {
	e.groups.mu.Lock()
	defer e.groups.mu.Unlock()
	out := make(map[string]GroupStats, len(e.groups.groups))
	for name, c := range e.groups.groups {
		s := GroupStats{
			SubscriptionsPaused: c.layerViewers[0].Load(),
			LayerSwitchesUp:     c.layerSwitchesUp.Load(),
			LayerSwitchesDown:   c.layerSwitchesDown.Load(),
			Probes:              c.probes.Load(),
		}
		for i := range maxLayers {
			s.SubscriptionsByLayer[i] = c.layerViewers[i+1].Load()
		}
		out[name] = s
	}
	return out
}
