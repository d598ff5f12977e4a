package sfu

import (
	"sync"
	"testing"
)

// While a subscriber's switch waits for the target layer's keyframe it
// accepts two layers, and each layer has its own read loop: two goroutines
// push onto the one queue of a queued (ICE-TCP) connection. Every packet
// must come out of it exactly once (a lost one would also never go back
// to the pool).
func TestTwoLayersFeedingOneSubscriberLoseNothing(t *testing.T) {
	const perLayer = 20000
	var stats counters
	track := simulcastTestTrack()
	track.stats = &stats
	d := &DownTrack{track: track, queue: newPacketRing(2 * perLayer), selector: newLayerSelector(track), out: stuckConnWriter()}
	d.selector.current.Store(0) // forwarding layer 0,
	d.selector.target.Store(1)  // switching to layer 1
	track.addDownTrack(d)

	start := make(chan struct{})
	var wg sync.WaitGroup
	for layer := range int8(2) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for i := range perLayer {
				track.fanOut(layerPacket(layer, uint16(i), uint32(i), false, 0))
			}
		}()
	}
	close(start)
	wg.Wait()

	popped := 0
	for p := d.queue.pop(); p != nil; p = d.queue.pop() {
		if refs := p.refs.Load(); refs != 1 {
			t.Fatalf("queued packet holds %d references, want only the queue's", refs)
		}
		p.release()
		popped++
	}
	if dropped := stats.packetsDropped.Load(); popped != 2*perLayer || dropped != 0 {
		t.Errorf("%d packets came out of the queue, %d dropped; want all %d out", popped, dropped, 2*perLayer)
	}
}
