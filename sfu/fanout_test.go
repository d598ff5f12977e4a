package sfu

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
)

// discardWriter stands in for a subscriber's SRTP stream: it counts what
// the downtrack writes and checks the per-subscriber rewrite.
type discardWriter struct {
	ssrc    uint32
	written atomic.Uint64
	bad     atomic.Uint64
}

func (w *discardWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if h.SSRC != w.ssrc || h.PayloadType != 96 || h.Extension || len(payload) != 1000 {
		w.bad.Add(1)
	}
	w.written.Add(1)
	return len(payload), nil
}

func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

func testTrack(stats *counters) *Track {
	t := &Track{id: "t_test", streamID: "p_test", kind: webrtc.RTPCodecTypeVideo, stats: stats, history: [maxLayers]*packetHistory{newPacketHistory(videoHistoryLength)}}
	t.downs.Store(&[]*DownTrack{})
	return t
}

func testPacket(seq uint16) []byte {
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 100, SequenceNumber: seq, SSRC: 1234}, Payload: make([]byte, 1000)}
	p.Header.SetExtension(1, []byte{1, 2, 3})
	b, _ := p.Marshal()
	return b
}

func subscribe(t *Track, stats *counters, n int) ([]*DownTrack, []*discardWriter) {
	var downs []*DownTrack
	var writers []*discardWriter
	for i := range n {
		d := newDownTrack(t, stats)
		w := &discardWriter{ssrc: uint32(5000 + i)}
		d.bound.Store(&binding{ssrc: w.ssrc, payloadType: 96, writer: w})
		t.addDownTrack(d)
		downs = append(downs, d)
		writers = append(writers, w)
	}
	return downs, writers
}

func TestFanOutRewritesPerSubscriberAndDropsForTheSlowOne(t *testing.T) {
	var stats counters
	track := testTrack(&stats)
	downs, writers := subscribe(track, &stats, 3)
	// A subscriber that never drains: its queue fills and then drops.
	stuck := &DownTrack{track: track, queue: newPacketRing(4), stats: &stats, done: make(chan struct{}), exited: make(chan struct{})}
	track.addDownTrack(stuck)

	raw := testPacket(1)
	const packets = 200
	for i := range packets {
		p := getPacket()
		p.n = copy(p.buf[:], raw)
		track.fanOut(p)
		if i%16 == 0 { // let the writers keep up; only the stuck one should drop
			for _, d := range downs {
				for d.queue.head.Load() != d.queue.tail.Load() {
					waitForWriter()
				}
			}
		}
	}
	for _, d := range downs {
		d.close()
	}
	for i, w := range writers {
		if got := w.written.Load(); got != packets || w.bad.Load() != 0 {
			t.Errorf("subscriber %d: %d written (%d badly rewritten), want %d", i, got, w.bad.Load(), packets)
		}
	}
	if got := stats.packetsDropped.Load(); got != packets-4 {
		t.Errorf("dropped %d, want %d (all but the stuck queue's 4 slots)", got, packets-4)
	}
	for p := stuck.queue.pop(); p != nil; p = stuck.queue.pop() {
		p.release()
	}
}

// BenchmarkFanOut forwards one packet to n subscribers per op. Every
// half-queue of packets it lets the writers drain, as a real publisher's
// pace does, so nothing is dropped and ns/fwd-pkt is the whole hot path's
// cost per packet written (queueing, wake-up, header rewrite).
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			var stats counters
			track := testTrack(&stats)
			downs, writers := subscribe(track, &stats, n)
			raw := testPacket(1)
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			b.ResetTimer()
			for i := range b.N {
				p := getPacket()
				p.n = copy(p.buf[:], raw)
				// Consecutive numbers, as a real stream: the history keeps
				// a window of them pinned.
				binary.BigEndian.PutUint16(p.buf[2:4], uint16(i))
				track.fanOut(p)
				if i%(videoQueueLength/2) == 0 || i == b.N-1 {
					drainAll(downs)
				}
			}
			b.StopTimer()
			for _, d := range downs {
				d.close()
			}
			var written uint64
			for _, w := range writers {
				written += w.written.Load()
			}
			if written > 0 {
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(written), "ns/fwd-pkt")
			}
			b.ReportMetric(float64(stats.packetsDropped.Load())/float64(b.N*n), "drop-ratio")
		})
	}
}

// drainAll waits until every subscriber's writer has emptied its queue.
func drainAll(downs []*DownTrack) {
	for _, d := range downs {
		for d.queue.head.Load() != d.queue.tail.Load() {
			waitForWriter()
		}
	}
}
