package sfu

import (
	"sync"
	"time"
)

// Layer bitrates are measured from the bytes each layer actually brought
// in, over a sliding window: long enough that a keyframe burst or a
// frame-rate wobble does not make a layer look twice its size (which
// would pause subscribers that can take it, or flap them), short enough
// that a publisher's encoder ramping a layer up or down shows within a
// couple of seconds.
const (
	// layerRateSpan is the window a layer's bitrate is averaged over.
	layerRateSpan = 2 * time.Second
	// layerRateMinWindow is the shortest interval a rate is reported over;
	// before it has passed nothing counts as measured.
	layerRateMinWindow = 500 * time.Millisecond
	// layerRateSample is how often the byte counters are sampled; the ring
	// holds enough samples to cover layerRateSpan.
	layerRateSample  = 250 * time.Millisecond
	layerRateSamples = int(layerRateSpan/layerRateSample) + 1
)

// rateSample is the layers' cumulative byte counters at one instant.
type rateSample struct {
	at    time.Time
	bytes [maxLayers]uint64
}

// layerRates turns the layers' cumulative byte counters (written by the
// read loops) into bitrates for the allocators of every subscriber, who
// share one measurement per track.
type layerRates struct {
	mu       sync.Mutex
	ring     [layerRateSamples]rateSample
	n        int // samples in ring
	next     int // ring index of the next sample
	rates    [maxLayers]int
	measured bool
}

// bitrates returns each layer's incoming bitrate in bits per second,
// averaged over up to layerRateSpan; a layer that brought nothing over
// the last layerRateMinWindow while a lower layer did counts as 0
// (stopped), however much it sent before: a browser whose uplink cannot
// carry every layer stops them from the top. A layer silent with every
// layer below it is a stall of the publisher's encoder or of its path,
// not a layer it gave up (the lab's publisher, starved of CPU, encoded
// 0–2 frames a second for a while): it keeps its average, which falls
// to 0 only once the whole span brought nothing. Counting it stopped
// paused subscribers on a layer that came back a moment later, or
// moved them onto a higher one their estimate could not carry.
// measured is false until layerRateMinWindow has passed.
func (s *simulcastLayers) bitrates(now time.Time) (rates [maxLayers]int, measured bool) {
	var cur [maxLayers]uint64
	for i := range s.layers {
		cur[i] = s.layers[i].bytes.Load()
	}
	return s.rates.update(now, cur)
}

func (r *layerRates) update(now time.Time, cur [maxLayers]uint64) ([maxLayers]int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n > 0 && now.Sub(r.newest().at) < layerRateSample {
		return r.rates, r.measured
	}
	r.ring[r.next] = rateSample{at: now, bytes: cur}
	r.next = (r.next + 1) % layerRateSamples
	r.n = min(r.n+1, layerRateSamples)

	// The oldest sample inside the span, and the newest one at least the
	// minimum window back (for "has it stopped?").
	var oldest, recent *rateSample
	for k := 1; k < r.n; k++ {
		s := &r.ring[(r.next-1-k+2*layerRateSamples)%layerRateSamples]
		age := now.Sub(s.at)
		if age > layerRateSpan {
			break
		}
		oldest = s
		if recent == nil && age >= layerRateMinWindow {
			recent = s
		}
	}
	if oldest == nil || now.Sub(oldest.at) < layerRateMinWindow {
		return r.rates, r.measured
	}
	elapsed := now.Sub(oldest.at).Seconds()
	lowerFlows := false // some lower layer brought bytes over the minimum window
	for i := range r.rates {
		r.rates[i] = int(float64(cur[i]-oldest.bytes[i]) * 8 / elapsed)
		silent := recent != nil && cur[i] == recent.bytes[i]
		if silent && lowerFlows {
			r.rates[i] = 0
		}
		lowerFlows = lowerFlows || recent != nil && !silent && cur[i] > 0
	}
	r.measured = true
	return r.rates, true
}

func (r *layerRates) newest() *rateSample {
	return &r.ring[(r.next-1+layerRateSamples)%layerRateSamples]
}
