package sfu

import "time"

// Layer hysteresis: a subscriber goes down at once when its estimate (or
// loss) says so, but up only after the estimate has carried the higher
// layer's measured bitrate plus upHeadroom (planLayers) for upSustain
// without a break. An upswitch followed by a drop within upTrialWindow
// failed: the next one waits a backoff that doubles with each failure, so
// a path that cannot take a layer is not tried every few seconds.
const (
	// upHeadroom: the estimate must exceed a higher layer's measured
	// bitrate by this factor. gcc's estimate hovers ±10% around a steady
	// rate, and audio, RTCP and retransmissions ride on the same path.
	upHeadroom = 1.25
	// staySlack: a subscriber keeps its layer while the estimate covers
	// this much of the layer's bitrate. gcc answers one delay spike (CPU
	// jitter does it too) by setting its estimate to 0.85× the rate it saw
	// acknowledged, which is by construction below the layer being sent:
	// going down at every such dip was the clean-link flapping of issue
	// 15. A second back-off (0.72×), real congestion (far below) or loss
	// still takes the layer down at once.
	staySlack = 0.8
	// upSustain: long enough to outlast gcc's overshoot after a probe or a
	// quiet period (it climbs 8%/s), short enough that people notice the
	// picture sharpen soon after the link recovers.
	upSustain = 5 * time.Second
	// probedUpSustain replaces upSustain while padding has probed all the
	// time the estimate carried the layer: the path then carried
	// (probeFill of) that layer's rate for real, where gcc's estimate
	// alone may have grown unchecked. The full upSustain on top of gcc's
	// 8 %/s ramp left recovery after a dip at 11-12 s of the 15.
	probedUpSustain = 2500 * time.Millisecond
	// upTrialWindow: a drop this soon after an upswitch blames it.
	upTrialWindow = 8 * time.Second
	// upBackoffMin and upBackoffMax bound the wait after a failed upswitch.
	upBackoffMin = 10 * time.Second
	upBackoffMax = 80 * time.Second
	// lossDownRatio: gcc's average loss at or above this steps the
	// subscriber down one layer at once, before the loss controller has
	// brought the estimate down. gcc's own loss controller holds below
	// 2% and cuts above 10%; NACK repair handles the few percent between.
	lossDownRatio = 0.10
)

// hysteresis is one track's upswitch bookkeeping; allocator goroutine only.
type hysteresis struct {
	// carried[l] is when the plan began offering layer l or higher without
	// a break since; zero while it does not.
	carried      [maxLayers]time.Time
	lastUp       time.Time // the last upswitch, zero when it held (or none)
	backoff      time.Duration
	blockedUntil time.Time
	started      bool // a layer was chosen once: later upswitches sustain
	// probedSince is when probing began without a break since (zero: not
	// probing); the allocator sets it before decide.
	probedSince time.Time
}

// upswitch names why decide kept a subscriber below its plan (probing no
// longer asks: it goes on while an upswitch sustains, to hold gcc up):
// waiting out the sustain time, or a backoff.
type upswitch int8

const (
	upNone      upswitch = iota // at the plan (or going down)
	upSustained                 // the plan is higher; sustaining
	upBackedOff                 // the plan is higher; backing off a failure
)

// decide turns the plan for one track into the layer to send, given the
// layer chosen last time (current; noLayer before the first choice or
// while paused, which pauseState handles). carried is the highest layer
// the estimate carries whatever the tile size (at least planned): a tile
// that grows gets the larger layer at once if the estimate has carried it
// for the sustain time already. The first choice takes the plan at once:
// a new subscriber starts at what its estimate carries.
func (h *hysteresis) decide(current, planned, carried int8, now time.Time) (int8, upswitch) {
	started := h.started
	h.started = h.started || planned != noLayer
	if !h.lastUp.IsZero() && now.Sub(h.lastUp) >= upTrialWindow {
		// The last upswitch held: a later failure starts from the minimum.
		h.lastUp, h.backoff = time.Time{}, 0
	}
	for l := range int8(maxLayers) {
		switch {
		case max(planned, carried) < l:
			h.carried[l] = time.Time{}
		case h.carried[l].IsZero():
			h.carried[l] = now
		}
	}
	switch {
	case !started || current == noLayer || planned == current:
		return planned, upNone
	case planned < current:
		// Only the estimate fails an upswitch: a tile that shrank is not
		// the path's fault.
		if !h.lastUp.IsZero() && carried < current {
			h.backoff = min(max(2*h.backoff, upBackoffMin), upBackoffMax)
			h.blockedUntil = now.Add(h.backoff)
			h.lastUp = time.Time{}
		}
		return planned, upNone
	case now.Before(h.blockedUntil):
		return current, upBackedOff
	}
	// The highest layer the plan has offered for the whole sustain time.
	for l := planned; l > current; l-- {
		sustain := upSustain
		if !h.probedSince.IsZero() && !h.probedSince.After(h.carried[l]) {
			sustain = probedUpSustain
		}
		if now.Sub(h.carried[l]) >= sustain {
			h.lastUp = now
			return l, upNone
		}
	}
	return current, upSustained
}

// lossEstimator is what gcc's estimator offers beside the bitrate: its
// average loss over the feedback.
type lossEstimator interface {
	GetStats() map[string]any
}

// averageLoss is the estimator's loss ratio, 0 when it reports none.
func averageLoss(bwe bandwidthEstimator) float64 {
	le, ok := bwe.(lossEstimator)
	if !ok {
		return 0
	}
	loss, _ := le.GetStats()["averageLoss"].(float64)
	return loss
}
