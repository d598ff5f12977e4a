package sfu

import (
	"testing"
	"time"
)

// One allocation that moves a subscriber onto a layer asks that layer for
// one keyframe, not one now and a trailing one an interval later (a
// second keyframe on the publisher's uplink for nothing).
func TestAllocationSwitchAsksForOneKeyframe(t *testing.T) {
	track := simulcastTestTrack()
	track.stats = &counters{}
	sent := make(chan int8, 16)
	for l := range int8(maxLayers) {
		track.keyframes[l] = newKeyframeRequester(time.Hour, func() { sent <- l })
	}
	defer track.stopLayerFeedback()
	d := &DownTrack{track: track, selector: newLayerSelector(track)}
	s := &Subscriber{downs: map[string]*DownTrack{track.id: d}, alloc: newAllocator(nil)}

	s.allocate(time.Unix(1000, 0))
	want := int8(d.selector.target.Load())
	if want == noLayer {
		t.Fatal("no layer chosen without an estimate")
	}
	if got := <-sent; got != want {
		t.Errorf("keyframe asked on layer %d, want %d", got, want)
	}
	k := track.keyframes[want]
	k.mu.Lock()
	trailing := k.pending != nil
	k.mu.Unlock()
	if trailing {
		t.Error("a second, trailing keyframe request was scheduled for the same switch")
	}
}

// A switch still waiting for its keyframe is asked for again only after
// switchKeyframeRetry, however often the allocator runs meanwhile.
func TestSwitchKeyframeIsRetriedOnlyAfterTheTimeout(t *testing.T) {
	track := simulcastTestTrack()
	track.stats = &counters{}
	var asked [maxLayers]int
	for l := range int8(maxLayers) {
		track.keyframes[l] = newKeyframeRequester(0, func() { asked[l]++ })
	}
	defer track.stopLayerFeedback()
	d := &DownTrack{track: track, selector: newLayerSelector(track)}
	s := &Subscriber{downs: map[string]*DownTrack{track.id: d}, alloc: newAllocator(nil)}
	start := time.Unix(1000, 0)
	allocate := func(at time.Duration) {
		for l := range track.sim.layers {
			track.sim.layers[l].bytes.Add(10_000) // every layer keeps arriving
		}
		s.allocate(start.Add(at))
	}
	for at := time.Duration(0); at < switchKeyframeRetry; at += allocateInterval {
		allocate(at)
	}
	layer := d.selector.target.Load()
	if asked[layer] != 1 {
		t.Fatalf("within the retry timeout: %d keyframe requests for layer %d, want 1", asked[layer], layer)
	}
	allocate(switchKeyframeRetry)
	if asked[layer] != 2 {
		t.Fatalf("at the retry timeout: %d keyframe requests, want 2", asked[layer])
	}
}

// TestSharpFallReallocatesAtOnce: an estimator that reports its changes
// has the allocator re-choose at a sharp fall, not at the next tick; a
// rise or a small step does not.
func TestSharpFallReallocatesAtOnce(t *testing.T) {
	est := &notifyingEstimate{}
	a := newAllocator(est)
	poked := func() bool {
		select {
		case <-a.reallocate:
			return true
		default:
			return false
		}
	}
	for _, s := range []struct {
		rate int
		want bool
	}{
		{1_000_000, false}, // the first report
		{1_200_000, false}, // up
		{1_150_000, false}, // a small step down
		{800_000, true},    // gcc's back-off
		{790_000, false},
	} {
		est.f(s.rate)
		if got := poked(); got != s.want {
			t.Errorf("estimate to %d: reallocate poked %v, want %v", s.rate, got, s.want)
		}
	}
}

// notifyingEstimate is a fake estimator that reports changes, as gcc does.
type notifyingEstimate struct{ f func(int) }

func (e *notifyingEstimate) GetTargetBitrate() int             { return 0 }
func (e *notifyingEstimate) OnTargetBitrateChange(f func(int)) { e.f = f }
