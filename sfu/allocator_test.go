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
	d := &DownTrack{track: track, layers: newLayerSelector(track)}
	s := &Subscriber{downs: map[string]*DownTrack{track.id: d}, alloc: newAllocator(nil)}

	s.allocate(time.Unix(1000, 0))
	want := int8(d.layers.target.Load())
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
