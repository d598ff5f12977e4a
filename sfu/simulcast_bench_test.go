package sfu

import (
	"fmt"
	"testing"

	"github.com/pion/rtp"
)

// BenchmarkFanOutSimulcast forwards a three-layer track to subscribers
// split over the layers: the fan-out filter, keyframe check and seq/ts
// rewrite must keep it allocation-free.
func BenchmarkFanOutSimulcast(b *testing.B) {
	for _, n := range []int{1, 10, 50} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			var stats counters
			track := simulcastTestTrack()
			track.stats = &stats
			downs, _ := subscribe(b, track, &stats, n)
			for i, d := range downs {
				d.selector = newLayerSelector(track)
				d.selector.setTarget(int8(i % maxLayers))
			}
			var raws [maxLayers][]byte
			for l := range raws {
				p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SSRC: uint32(100 + l)}, Payload: vp8Payload(true, true, 320<<l, 180<<l, 1000)}
				raws[l], _ = p.Marshal()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				l := i % maxLayers
				p := getPacket()
				p.n = copy(p.buf[:], raws[l])
				p.layer = int8(l)
				track.sim.noteLayerPacket(p.layer, p.data())
				track.fanOut(p)
			}
			b.StopTimer()
			for _, d := range downs {
				d.close()
			}
			b.ReportMetric(float64(stats.packetsForwarded.Load())/float64(b.N), "forwarded/op")
		})
	}
}

// BenchmarkLayerSelectorForward is the per-packet, per-subscriber cost of
// the simulcast decision and seq/ts rewrite, without goroutines.
func BenchmarkLayerSelectorForward(b *testing.B) {
	sel := newLayerSelector(simulcastTestTrack())
	sel.setTarget(1)
	key := vp8Payload(true, true, 640, 360, 1000)
	delta := vp8Payload(true, false, 0, 0, 1000)
	h := rtp.Header{SequenceNumber: 1, Timestamp: 1}
	sel.forward(&h, 1, key, 0)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		h := rtp.Header{SequenceNumber: uint16(i + 2), Timestamp: uint32(i / 3 * 3000)}
		if !sel.accepts(1) || !sel.forward(&h, 1, delta, int64(i)) {
			b.Fatal("packet of the current layer refused")
		}
	}
}
