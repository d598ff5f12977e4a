package sfu

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v3"
)

// allocateInterval is how often a subscriber's layers are re-chosen from
// its bandwidth estimate; size requests re-choose at once.
const allocateInterval = 500 * time.Millisecond

// allocator is a subscriber's layer-allocation state.
type allocator struct {
	mu  sync.Mutex
	bwe bandwidthEstimator // nil: no estimate, layers limited by size only

	reallocate chan struct{} // capacity 1: "a size request changed"
	done       chan struct{}

	loss lossFilter // allocator goroutine only
}

func newAllocator(bwe bandwidthEstimator) allocator {
	reallocate := make(chan struct{}, 1)
	watchFalls(bwe, reallocate)
	return allocator{bwe: bwe, reallocate: reallocate, done: make(chan struct{})}
}

// fallRatio: an estimate change to below this share of the one before
// re-chooses layers at once rather than at the next tick. gcc's back-off
// (to 0.85x the acknowledged rate) is one such step; waiting up to
// allocateInterval for it took the lab's "down within 2 s" under a
// 600 kbit/s limit to 2.01 s.
const fallRatio = 0.9

// rateNotifier is an estimator that reports each change of its estimate
// (pion's gcc, from a goroutine of its own per change).
type rateNotifier interface {
	OnTargetBitrateChange(func(bitrate int))
}

// watchFalls has bwe, if it reports changes, poke reallocate at every
// sharp fall. The callback only pokes: it never blocks gcc.
func watchFalls(bwe bandwidthEstimator, reallocate chan struct{}) {
	n, ok := bwe.(rateNotifier)
	if !ok {
		return
	}
	var last atomic.Int64
	n.OnTargetBitrateChange(func(rate int) {
		if prev := last.Swap(int64(rate)); prev > 0 && float64(rate) < fallRatio*float64(prev) {
			select {
			case reallocate <- struct{}{}:
			default:
			}
		}
	})
}

// budget is the estimated bitrate toward the subscriber, or -1 when
// there is no estimate.
func (a *allocator) budget() int {
	budget, _ := a.estimate()
	return budget
}

// estimate is the estimated bitrate toward the subscriber (-1 when there
// is no estimate) and the loss ratio the estimator sees.
func (a *allocator) estimate() (budget int, loss float64) {
	a.mu.Lock()
	bwe := a.bwe
	a.mu.Unlock()
	if bwe == nil {
		return -1, 0
	}
	return bwe.GetTargetBitrate(), averageLoss(bwe)
}

func (a *allocator) setEstimator(bwe bandwidthEstimator) {
	a.mu.Lock()
	a.bwe = bwe
	a.mu.Unlock()
	watchFalls(bwe, a.reallocate)
	a.poke()
}

func (a *allocator) poke() {
	select {
	case a.reallocate <- struct{}{}:
	default:
	}
}

// SetTrackSize records the largest size, in pixels, the subscriber shows
// trackID at; the server then sends it no larger a simulcast layer than
// needed. Zero width and height lift the limit. Non-simulcast tracks
// accept and ignore it.
func (s *Subscriber) SetTrackSize(trackID string, width, height int) error {
	s.mu.Lock()
	d, ok := s.downs[trackID]
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownTrack, trackID)
	}
	if d.selector != nil {
		d.selector.maxWidth.Store(int32(width))
		d.selector.maxHeight.Store(int32(height))
		s.alloc.poke()
	}
	return nil
}

// allocateLoop re-chooses layers until the subscriber closes.
func (s *Subscriber) allocateLoop() {
	defer close(s.alloc.done)
	tick := time.NewTicker(allocateInterval)
	defer tick.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-tick.C:
		case <-s.alloc.reallocate:
		}
		s.allocate(time.Now())
	}
}

// allocate shares the estimate among the subscriber's simulcast tracks,
// and has the first track held below the layer it wants probe for more.
func (s *Subscriber) allocate(now time.Time) {
	s.mu.Lock()
	var downs []*DownTrack
	audio := 0
	for _, d := range s.downs {
		switch {
		case d.selector != nil:
			downs = append(downs, d)
		case d.track.kind == webrtc.RTPCodecTypeAudio:
			audio++
		}
	}
	s.mu.Unlock()
	if len(downs) == 0 {
		return
	}
	slices.SortFunc(downs, func(a, b *DownTrack) int { return strings.Compare(a.track.id, b.track.id) })
	demands := make([]layerDemand, len(downs))
	for i, d := range downs {
		demands[i] = d.selector.demand(now)
	}
	budget, loss := s.alloc.estimate()
	steadyLoss := s.alloc.loss.update(loss, now)
	chosen := planLayers(budget, demands)
	// What the estimate would carry without the tiles' size limits: the
	// hysteresis counts the sustain time on it.
	uncapped := slices.Clone(demands)
	for i := range uncapped {
		uncapped[i].maxLayer = uncapped[i].highest()
	}
	carried := planLayers(budget, uncapped)
	media := audio * probeAudioReserve // what probes must leave to audio
	for i, layer := range chosen {
		sel, d := downs[i].selector, demands[i]
		if below := d.prevLayer(d.target); steadyLoss >= lossDownRatio && below != noLayer {
			layer = min(layer, below)
		}
		sel.hyst.probedSince = sel.probing.since
		layer, _ = sel.hyst.decide(d.target, layer, carried[i], now)
		layer = sel.pause.decide(layer, d.nextLayer(noLayer), budget, now)
		// setTarget also asks again, after a timeout, for a switch still
		// waiting for its keyframe.
		sel.setTargetAt(layer, now)
		downs[i].nacks.twice.Store(steadyLoss >= resendTwiceLoss && steadyLoss < probeLossStop)
		chosen[i] = layer
		if layer != noLayer {
			media += d.cost[layer]
		}
	}
	probing := false
	for i, d := range downs {
		rate := 0
		if !probing {
			rate = d.selector.probing.decide(budget, media, loss, demands[i], chosen[i], now)
			probing = rate > 0
		}
		d.selector.probing.note(rate > 0, now)
		if old := d.probe.rate.Swap(int64(rate)); old == 0 && rate > 0 {
			if d.stats != nil {
				d.stats.probes.Add(1)
			}
			if s.group != nil {
				s.group.probes.Add(1)
			}
		}
	}
}

// layerDemand is one simulcast track as the allocator sees it.
type layerDemand struct {
	available [maxLayers]bool
	cost      [maxLayers]int // bits per second
	maxLayer  int8           // highest layer worth sending for the size asked
	target    int8           // the layer chosen last time, or noLayer
}

// demand describes the selector's track for planLayers.
func (s *layerSelector) demand(now time.Time) layerDemand {
	sim := s.track.sim
	d := layerDemand{target: int8(s.target.Load()), maxLayer: noLayer}
	rates, measured := sim.bitrates(now)
	w, h := s.maxWidth.Load(), s.maxHeight.Load()
	for i := range maxLayers {
		l := &sim.layers[i]
		// Before the first measurement every layer that arrived counts; after
		// it, a layer the publisher stopped sending does not.
		d.available[i] = l.ssrc.Load() != 0 && (!measured || rates[i] > 0)
		d.cost[i] = rates[i]
		if !d.available[i] {
			continue
		}
		if d.maxLayer == noLayer || !coversSize(d.maxLayer, sim, w, h) {
			d.maxLayer = int8(i)
		}
	}
	return d
}

// coversSize reports whether layer is known to be at least w×h pixels,
// which makes higher layers pointless. No size asked covers nothing.
func coversSize(layer int8, sim *simulcastLayers, w, h int32) bool {
	if w <= 0 && h <= 0 {
		return false
	}
	lw, lh := sim.layers[layer].width.Load(), sim.layers[layer].height.Load()
	return lw > 0 && lh > 0 && lw >= w && lh >= h
}

// planLayers chooses a layer (or noLayer: paused) for each track within
// budget bits per second (negative: no limit): first the lowest layer for
// every track that fits, then upgrades one step at a time, round-robin,
// while the budget lasts. Moving up needs upHeadroom over the cost;
// staying needs only staySlack of it.
func planLayers(budget int, demands []layerDemand) []int8 {
	plan := make([]int8, len(demands))
	remaining := budget
	// fits: moving d from layer from (already paid for) to layer leaves
	// room for layer's cost, scaled by the headroom or slack.
	fits := func(d layerDemand, from, layer int8) bool {
		if budget < 0 {
			return true
		}
		cost := float64(d.cost[layer])
		switch {
		case layer > d.target:
			cost *= upHeadroom
		case layer == d.target:
			cost *= staySlack
		}
		if from != noLayer {
			cost -= float64(d.cost[from])
		}
		return int(cost) <= remaining
	}
	for i, d := range demands {
		plan[i] = noLayer
		if low := d.nextLayer(noLayer); low != noLayer && fits(d, noLayer, low) {
			plan[i] = low
			remaining -= d.cost[low]
		}
	}
	for changed := true; changed; {
		changed = false
		for i, d := range demands {
			if plan[i] == noLayer {
				continue
			}
			up := d.nextLayer(plan[i])
			if up == noLayer || !fits(d, plan[i], up) {
				continue
			}
			remaining -= d.cost[up] - d.cost[plan[i]]
			plan[i] = up
			changed = true
		}
	}
	return plan
}

// highest is the highest available layer, or noLayer.
func (d layerDemand) highest() int8 {
	return d.prevLayer(maxLayers)
}

// prevLayer is the highest available layer below from, or noLayer.
func (d layerDemand) prevLayer(from int8) int8 {
	for l := from - 1; l >= 0; l-- {
		if d.available[l] {
			return l
		}
	}
	return noLayer
}

// nextLayer is the lowest available layer above from, up to maxLayer.
func (d layerDemand) nextLayer(from int8) int8 {
	for l := from + 1; l <= d.maxLayer; l++ {
		if d.available[l] {
			return l
		}
	}
	return noLayer
}
