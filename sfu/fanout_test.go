package sfu

import (
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

// subscribe adds n subscribers, each on its own connection writer, like
// n subscriber peer connections over UDP whose writes never block; the
// writers end with the test (or benchmark).
func subscribe(tb testing.TB, t *Track, stats *counters, n int) ([]*DownTrack, []*discardWriter) {
	var downs []*DownTrack
	var writers []*discardWriter
	for i := range n {
		out := startConnWriter()
		tb.Cleanup(out.close)
		// A test descheduled mid-write on a busy machine is not a slow
		// socket; TestSlowInlineWriteQueuesTheConnection turns this back.
		out.ignoreSlow = true
		d := newDownTrack(t, stats, out)
		w := &discardWriter{ssrc: uint32(5000 + i)}
		d.bound.Store(&binding{ssrc: w.ssrc, payloadType: 96, writer: w})
		t.addDownTrack(d)
		downs = append(downs, d)
		writers = append(writers, w)
	}
	return downs, writers
}

// stuckConnWriter is a queued connection (as ICE-TCP's is) whose writer
// never runs: its down tracks' rings fill and then drop.
func stuckConnWriter() *connWriter {
	w := newConnWriter()
	w.queued.Store(true)
	return w
}

func TestFanOutRewritesPerSubscriberAndDropsForTheSlowOne(t *testing.T) {
	var stats counters
	track := testTrack(&stats)
	downs, writers := subscribe(t, track, &stats, 3)
	stuck := &DownTrack{track: track, queue: newPacketRing(4), stats: &stats, out: stuckConnWriter()}
	track.addDownTrack(stuck)

	raw := testPacket(1)
	const packets = 200
	for range packets {
		p := getPacket()
		p.n = copy(p.buf[:], raw)
		track.fanOut(p)
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
	stuck.close()
}

// BenchmarkFanOut forwards one packet to n subscribers per op, each on
// its own UDP-like connection, so the read loop writes to all of them
// itself: ns/fwd-pkt is the whole hot path's cost per packet written
// (history, header rewrite, counters), without the transport.
//
// With helpers=1 the engine's fan-out helper takes a part of a large
// fan-out, as on a machine of two cores; its wake-up is in the cost.
func BenchmarkFanOut(b *testing.B) {
	for _, helpers := range []int{0, 1} {
		for _, n := range []int{1, 10, 100} {
			b.Run(fmt.Sprintf("helpers=%d/subscribers=%d", helpers, n), func(b *testing.B) { benchmarkFanOut(b, helpers, n) })
		}
	}
}

func benchmarkFanOut(b *testing.B, helpers, n int) {
	var stats counters
	track := testTrack(&stats)
	pool := newFanPool(helpers)
	defer pool.close()
	pool.adopt(track)
	downs, writers := subscribe(b, track, &stats, n)
	raw := testPacket(1)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	b.ResetTimer()
	for i := range b.N {
		fanOutPaced(track, pool, raw, i)
	}
	var written uint64
	for want := uint64(b.N * n); ; waitForWriter() {
		written = 0
		for _, w := range writers {
			written += w.written.Load()
		}
		if written+stats.packetsDropped.Load() >= want {
			break
		}
	}
	b.StopTimer()
	for _, d := range downs {
		d.close()
	}
	if written > 0 {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(written), "ns/fwd-pkt")
	}
	b.ReportMetric(float64(stats.packetsDropped.Load())/float64(b.N*n), "drop-ratio")
}
