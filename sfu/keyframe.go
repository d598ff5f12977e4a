package sfu

import (
	"sync"
	"time"
)

// keyframeInterval throttles keyframe requests to a publisher: many
// subscribers joining at once, or all asking after the same loss, cost it
// one keyframe per interval at most.
const keyframeInterval = 500 * time.Millisecond

// keyframeRequester aggregates keyframe requests for one track. The first
// request in a quiet period goes out at once; requests inside the
// interval after it are folded into one more, sent when the interval
// ends. So a subscriber that joins just after someone else's keyframe is
// not left waiting for the encoder's next natural one (which browsers may
// not send for minutes). Requests go out at least interval apart, so a
// join storm costs one per interval, not one per subscriber.
type keyframeRequester struct {
	interval time.Duration
	send     func()

	mu      sync.Mutex
	last    time.Time   // when the last request went out
	pending *time.Timer // the trailing request, if one is scheduled
	stopped bool
}

func newKeyframeRequester(interval time.Duration, send func()) *keyframeRequester {
	return &keyframeRequester{interval: interval, send: send}
}

// request asks for a keyframe, now or at the end of the current interval.
func (k *keyframeRequester) request() {
	k.mu.Lock()
	if k.stopped || k.pending != nil {
		k.mu.Unlock()
		return
	}
	wait := k.interval - time.Since(k.last)
	if wait > 0 {
		k.pending = time.AfterFunc(wait, k.fire)
		k.mu.Unlock()
		return
	}
	k.last = time.Now()
	k.mu.Unlock()
	k.send() // outside the lock: an RTCP write may block briefly
}

func (k *keyframeRequester) fire() {
	k.mu.Lock()
	if k.stopped {
		k.mu.Unlock()
		return
	}
	k.pending = nil
	k.last = time.Now()
	k.mu.Unlock()
	k.send()
}

// stop cancels a scheduled request; later requests are ignored.
func (k *keyframeRequester) stop() {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.stopped = true
	if k.pending != nil {
		k.pending.Stop()
		k.pending = nil
	}
}
