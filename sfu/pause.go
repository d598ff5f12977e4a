package sfu

import "time"

// A paused subscriber sends nothing on the track, so its estimator gets no
// feedback and its estimate cannot recover by itself. After a backoff the
// lowest layer is tried again; it stays while the estimate does not fall
// below what it was when the try began (gcc lowers it at once on real
// congestion), and another pause doubles the backoff.
const (
	resumeBackoffMin = 2 * time.Second
	resumeBackoffMax = 32 * time.Second
	// congestedRatio: an estimate this far below the one the try began
	// with means the path cannot take even the lowest layer.
	congestedRatio = 0.85
)

// pauseState is a selector's pause bookkeeping; allocator goroutine only.
type pauseState struct {
	paused   bool
	since    time.Time
	backoff  time.Duration
	trying   bool // the lowest layer is on trial despite the estimate
	tryFloor int  // the estimate when the trial began
}

// decide turns the plan for one track (planned: a layer, or noLayer when
// the estimate cannot carry even the lowest) into the layer to forward.
func (p *pauseState) decide(planned, lowest int8, budget int, now time.Time) int8 {
	if planned != noLayer || lowest == noLayer || budget < 0 {
		// The estimate carries a layer (or nothing is sent anyway).
		*p = pauseState{backoff: p.backoff}
		if planned != noLayer {
			p.backoff = 0
		}
		return planned
	}
	switch {
	case p.trying && float64(budget) >= congestedRatio*float64(p.tryFloor):
		return lowest // the trial goes on: no sign of congestion
	case p.trying:
		p.trying = false
		p.paused, p.since = true, now
		p.backoff = min(max(2*p.backoff, resumeBackoffMin), resumeBackoffMax)
		return noLayer
	case !p.paused:
		p.paused, p.since = true, now
		p.backoff = max(p.backoff, resumeBackoffMin)
		return noLayer
	case now.Sub(p.since) >= p.backoff:
		p.paused, p.trying, p.tryFloor = false, true, budget
		return lowest
	}
	return noLayer
}
