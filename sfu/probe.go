package sfu

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
)

// Probing: a subscriber held below the layer its tile wants, because its
// estimate cannot carry that layer, gets padding-only RTP packets beside
// its video, so that the estimate can find out the bandwidth came back
// without waiting for the video itself to grow. They go out through the
// same interceptors as media, so each carries a transport-wide sequence
// number and pion's gcc counts it, sent and acknowledged, like any
// packet. pion's delay controller (interceptor v0.1.x, rate_controller.go)
// grows its target only additively, and never above 1.5× the rate it sees
// acknowledged, while that rate stays near the rates of its last
// back-offs: after a dip, a subscriber on the layer below would never see
// an estimate that carries the layer it lost (issue 15: "stayed on
// 640×360 for 150 s"). Padding raises the acknowledged rate out of that
// band, where gcc grows 8 %/s.
//
// Padding fills the gap between the media (video, and probeAudioReserve
// per audio track) and what the media would be on the next layer with
// upHeadroom, but never above probeFill of the estimate nor more than
// probeShare of it: probes test up to what the estimate says the path
// carries, not beyond, and leave room for audio. Probing goes on while
// the hysteresis sustains an upswitch: gcc holds its estimate within
// 1.5× the rate it sees acknowledged while that rate is near its last
// back-offs (always, for a subscriber that sat on one layer), so without
// the padding the estimate would fall back under the next layer within
// a second and the upswitch would never sustain (issue 15's lab: "after
// the limit was lifted it stayed on 640×360").
const (
	probeFill  = 0.9
	probeShare = 0.5
	// probeAudioReserve is what padding leaves to each audio track the
	// subscriber receives, beyond the video: Opus at browsers' default
	// rate, with its RTP/UDP overhead at 50 packets a second.
	probeAudioReserve = 64_000
	// probeLossStop: the estimator's loss at which probing stops.
	probeLossStop = 0.05
	// probeBurstGap spaces padding bursts; each burst costs the rewriter a
	// history entry (switchHistory).
	probeBurstGap = 60_000_000 // ns
	// paddingSize is each padding packet's payload: all padding, the last
	// byte its length (RFC 3550 5.1), so at most 255.
	paddingSize = 240
	// probeBurstMax bounds the packets of one burst.
	probeBurstMax = 16
)

// paddingPayload is every padding packet's payload; never written after init.
var paddingPayload = func() (b [paddingSize]byte) {
	b[paddingSize-1] = paddingSize
	return b
}()

// prober is a DownTrack's padding state. rate is set by the allocator;
// the rest to whoever holds the down track's write lock.
type prober struct {
	rate   atomic.Int64 // bits per second of padding; 0: off
	tokens float64      // bytes of padding owed
	last   int64        // unix ns of the last burst (or of the probe's start)
	header rtp.Header
}

// pad sends the padding owed since the last burst, right after a frame
// ended (h, just written, has the marker bit), so no frame is split.
// Under the down track's write lock.
func (d *DownTrack) pad(b *binding, h *rtp.Header, now int64) {
	rate := d.probe.rate.Load()
	if rate <= 0 || d.selector == nil {
		d.probe.last, d.probe.tokens = 0, 0
		return
	}
	// Mid-frame: wait for its last packet. (Resetting here, as this once
	// did, meant a layer of several packets a frame never got padding:
	// only the lowest, one packet a frame, was ever probed above.)
	if !h.Marker {
		return
	}
	if d.probe.last == 0 {
		d.probe.last = now
		return
	}
	elapsed := now - d.probe.last
	if elapsed < probeBurstGap {
		return
	}
	d.probe.last = now
	d.probe.tokens = min(d.probe.tokens+float64(rate)/8*float64(elapsed)/1e9, probeBurstMax*paddingSize)
	n := int(d.probe.tokens / paddingSize)
	if n == 0 {
		return
	}
	first, ts, ok := d.selector.rw.padding(n)
	if !ok {
		return
	}
	d.probe.tokens -= float64(n * paddingSize)
	ph := &d.probe.header
	exts := ph.Extensions[:0]
	*ph = *h
	ph.Extensions = exts
	ph.Extension = false
	ph.Marker, ph.Padding, ph.Timestamp = false, true, ts
	for i := range n {
		ph.SequenceNumber = first + uint16(i)
		ph.Extensions = ph.Extensions[:0]
		ph.Extension = false
		if _, err := b.writer.WriteRTP(ph, paddingPayload[:]); err != nil {
			return
		}
		// Not in d.sent: sender reports count payload octets, without padding.
		d.stats.probePackets.Add(1)
	}
}

// probeCooldown is how long probing stays off after it met loss or the
// estimate fell while it ran: the probe, not the path, may be to blame.
// A fall while nothing probed blames nothing: gcc alone saws between
// about 1× and 1.5× the rate it sees acknowledged (one overuse every
// 5-6 s in the Chromium lab's clean spell), and cooling down at each such
// fall kept probing off for the whole 45 s the call sat on the middle
// layer, where probing is what lifts the estimate out of that band.
const probeCooldown = 5 * time.Second

// probingOff turns probing off, for the quality lab's comparison.
var probingOff atomic.Bool

// probeControl decides a subscriber's padding rate; allocator goroutine
// only.
type probeControl struct {
	lastBudget    int
	cooldownUntil time.Time
	on            bool
	since         time.Time // when probing began without a break; zero: off
}

// note records whether the track probes now, for since.
func (p *probeControl) note(probing bool, now time.Time) {
	switch {
	case !probing:
		p.since = time.Time{}
	case p.since.IsZero():
		p.since = now
	}
}

// decide returns the padding rate, in bits per second, for a subscriber
// whose estimate is budget, whose video costs media in all, and whose
// track d is on layer. It probes while a higher layer is wanted, up to that layer's
// cost with headroom, and stops at loss or at a falling estimate (then
// cools down).
func (p *probeControl) decide(budget, media int, loss float64, d layerDemand, layer int8, now time.Time) int {
	last := p.lastBudget
	p.lastBudget = budget
	rate := 0
	switch next := d.nextLayer(layer); {
	case budget < 0 || layer == noLayer || next == noLayer || probingOff.Load():
	case loss >= probeLossStop || (p.on && last > 0 && float64(budget) < congestedRatio*float64(last)):
		p.cooldownUntil = now.Add(probeCooldown)
	case now.Before(p.cooldownUntil):
	default:
		goal := media - d.cost[layer] + int(float64(d.cost[next])*upHeadroom)
		goal = min(goal, int(probeFill*float64(budget)))
		rate = max(0, min(goal-media, int(probeShare*float64(budget))))
	}
	p.on = rate > 0
	return rate
}
