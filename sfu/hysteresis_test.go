package sfu

import (
	"testing"
	"time"
)

// TestHysteresisDecisions drives one track's decision with a fake clock:
// down at once, up only after upSustain of an unbroken plan, a failed
// upswitch backs off (doubling), a held one resets the backoff, and an
// estimate flapping around a layer's cost never moves the layer up.
func TestHysteresisDecisions(t *testing.T) {
	var h hysteresis
	start := time.Unix(1000, 0)
	current := noLayer
	steps := []struct {
		name    string
		at      time.Duration // since start
		planned int8
		want    int8
		why     upswitch
	}{
		{"first choice takes the plan", 0, 2, 2, upNone},
		{"down at once", 1 * time.Second, 1, 1, upNone},
		{"up waits", 1500 * time.Millisecond, 2, 1, upSustained},
		{"still waits", 6 * time.Second, 2, 1, upSustained},
		{"up after 5 s", 6500 * time.Millisecond, 2, 2, upNone},
		{"drop within the trial: failed", 8 * time.Second, 1, 1, upNone},
		{"sustained but backing off", 12500 * time.Millisecond, 2, 1, upBackedOff},
		{"still backing off", 17900 * time.Millisecond, 2, 1, upBackedOff},
		{"backoff (10 s) over", 18 * time.Second, 2, 2, upNone},
		{"fails again", 19 * time.Second, 1, 1, upNone},
		{"backing off", 25 * time.Second, 2, 1, upBackedOff},
		{"backoff doubled: 20 s", 38900 * time.Millisecond, 2, 1, upBackedOff},
		{"after 20 s", 39 * time.Second, 2, 2, upNone},
		{"held past the trial", 47 * time.Second, 2, 2, upNone},
		{"a later drop is not a failure", 50 * time.Second, 0, 0, upNone},
		{"waits", 50500 * time.Millisecond, 2, 0, upSustained},
		{"both layers sustained: straight to the top", 55500 * time.Millisecond, 2, 2, upNone},
	}
	for _, s := range steps {
		got, why := h.decide(current, s.planned, s.planned, start.Add(s.at))
		if got != s.want || why != s.why {
			t.Fatalf("%s (t=%v, current %d, planned %d): got %d/%d, want %d/%d", s.name, s.at, current, s.planned, got, why, s.want, s.why)
		}
		current = got
	}

	// A plan flapping between two layers every allocation never sustains.
	h, current = hysteresis{}, noLayer
	for i := range 60 {
		planned := int8(1 + i%2)
		if i == 0 {
			planned = 1
		}
		got, _ := h.decide(current, planned, planned, start.Add(time.Duration(i)*allocateInterval))
		if got != 1 {
			t.Fatalf("allocation %d: flapping plan moved the layer to %d", i, got)
		}
		current = got
	}
}

// TestTileGrowthNeedsNoSustain: the sustain time runs on what the
// estimate carries, not on what the tile asks for, so a tile that grows
// gets its larger layer at once when the estimate carried it all along.
func TestTileGrowthNeedsNoSustain(t *testing.T) {
	var h hysteresis
	start := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	current, _ := h.decide(noLayer, 0, 2, at(0)) // small tile, plenty of estimate
	for d := time.Second; d <= 10*time.Second; d += time.Second {
		current, _ = h.decide(current, 0, 2, at(d))
	}
	if got, why := h.decide(current, 2, 2, at(10500*time.Millisecond)); got != 2 {
		t.Errorf("tile grew after 10 s of estimate for the top layer: got %d (%d), want 2 at once", got, why)
	}
	// Shrinking the tile soon after is no failed upswitch: growing it
	// again needs no backoff.
	current, _ = h.decide(2, 0, 2, at(12*time.Second))
	if got, why := h.decide(current, 2, 2, at(13*time.Second)); got != 2 {
		t.Errorf("tile grew again after shrinking: got %d (%d), want 2 at once", got, why)
	}
	// The estimate only just carries it: the sustain time applies.
	h = hysteresis{}
	current, _ = h.decide(noLayer, 0, 0, at(0))
	if got, why := h.decide(current, 2, 2, at(time.Second)); got != 0 || why != upSustained {
		t.Errorf("estimate new to the top layer: got %d (%d), want 0 sustaining", got, why)
	}
}

// TestAllocatorLossStepsDown: lasting high loss takes one layer off
// whatever the estimate says, within about a second; the few percent
// NACKs repair do not, nor does one spike of gcc's loss average.
func TestAllocatorLossStepsDown(t *testing.T) {
	track := simulcastTestTrack()
	track.stats = &counters{}
	for l := range int8(maxLayers) {
		track.keyframes[l] = newKeyframeRequester(time.Hour, func() {})
	}
	defer track.stopLayerFeedback()
	d := &DownTrack{track: track, selector: newLayerSelector(track)}
	est := &lossyEstimate{bps: 10_000_000}
	s := &Subscriber{downs: map[string]*DownTrack{track.id: d}, alloc: newAllocator(est)}
	now := time.Unix(1000, 0)
	step := func(loss float64) int32 { // 80, 320, 800 kbit/s over each allocation interval
		for l, kbps := range [maxLayers]uint64{80, 320, 800} {
			track.sim.layers[l].bytes.Add(kbps * 1000 / 8 / 2)
		}
		est.loss = loss
		s.allocate(now)
		now = now.Add(allocateInterval)
		return d.selector.target.Load()
	}
	if got := step(0); got != 2 {
		t.Fatalf("plenty of estimate: layer %d, want 2", got)
	}
	if d.nacks.twice.Load() {
		t.Fatal("no loss: resends go twice, want once")
	}
	for i, loss := range []float64{0.02, 0.03, 0.15, 0.02, 0.01, 0.02, 0.12, 0.02} {
		if got := step(loss); got != 2 {
			t.Fatalf("allocation %d, loss %.2f amid 2%% (NACK repairs it): layer %d, want 2", i, loss, got)
		}
	}
	// A few percent of random loss: each resend goes twice (resendTwiceLoss).
	if !d.nacks.twice.Load() {
		t.Fatal("amid 2% loss: resends go once, want twice")
	}
	for i := range 4 {
		if got := step(0.15); got == 1 {
			if d.nacks.twice.Load() {
				t.Fatal("15% loss (congestion): resends go twice, want once")
			}
			return
		} else if got != 2 {
			t.Fatalf("15%% loss: layer %d, want 1", got)
		}
		if i == 3 {
			t.Fatalf("15%% loss for %v: still on layer 2, want 1", 4*allocateInterval)
		}
	}
}

// lossyEstimate is a fake estimator that also reports gcc's loss.
type lossyEstimate struct {
	bps  int
	loss float64
}

func (e *lossyEstimate) GetTargetBitrate() int    { return e.bps }
func (e *lossyEstimate) GetStats() map[string]any { return map[string]any{"averageLoss": e.loss} }

// TestProbedUpswitchSustainsShorter: while padding has probed all the
// time the estimate carried a layer, the upswitch waits probedUpSustain;
// a probe that began only after the estimate got there (or none) leaves
// the full upSustain.
func TestProbedUpswitchSustainsShorter(t *testing.T) {
	start := time.Unix(1000, 0)
	at := func(d time.Duration) time.Time { return start.Add(d) }
	cases := []struct {
		name   string
		probed time.Duration // when probing began, since start; <0: never
		want   time.Duration // when the upswitch happens
	}{
		{"probing throughout", 0, time.Second + probedUpSustain},
		{"probing began after the estimate carried it", 2 * time.Second, time.Second + upSustain},
		{"no probing", -1, time.Second + upSustain},
	}
	for _, c := range cases {
		var h hysteresis
		current, _ := h.decide(noLayer, 0, 0, at(0))
		got := time.Duration(-1)
		for d := 500 * time.Millisecond; d <= 10*time.Second; d += 250 * time.Millisecond {
			h.probedSince = time.Time{}
			if c.probed >= 0 && d >= c.probed {
				h.probedSince = at(c.probed)
			}
			planned := int8(0)
			if d >= time.Second {
				planned = 1 // the estimate carries layer 1 from 1 s on
			}
			if current, _ = h.decide(current, planned, planned, at(d)); current == 1 {
				got = d
				break
			}
		}
		if got != c.want {
			t.Errorf("%s: up at %v, want %v", c.name, got, c.want)
		}
	}
}
