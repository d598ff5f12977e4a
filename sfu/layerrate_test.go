package sfu

import (
	"testing"
	"time"
)

// TestLayerRatesAverageOverTheWindow: rates come from the bytes counted,
// averaged over the window, so a keyframe burst does not double a layer;
// a layer that stops reads 0 within the minimum window.
func TestLayerRatesAverageOverTheWindow(t *testing.T) {
	var r layerRates
	start := time.Unix(1000, 0)
	var bytes [maxLayers]uint64
	step := func(ms int, add [maxLayers]uint64) ([maxLayers]int, bool) {
		for i := range bytes {
			bytes[i] += add[i]
		}
		return r.update(start.Add(time.Duration(ms)*time.Millisecond), bytes)
	}
	// 10 kB, 40 kB, 100 kB per 500 ms: 160, 640, 1600 kbit/s.
	steady := [maxLayers]uint64{10_000, 40_000, 100_000}
	if _, measured := step(0, [maxLayers]uint64{}); measured {
		t.Fatal("measured before any interval passed")
	}
	if _, measured := step(250, [maxLayers]uint64{}); measured {
		t.Fatal("measured before the minimum window passed")
	}
	rates, measured := step(500, steady)
	if !measured || rates[0] != 160_000 || rates[2] != 1_600_000 {
		t.Fatalf("after 500 ms: %v %v, want 160k/640k/1.6M measured", rates, measured)
	}
	for ms := 1000; ms <= 3000; ms += 500 {
		rates, _ = step(ms, steady)
	}
	// A keyframe doubles one 500 ms of the top layer: the 2 s average
	// rises by a quarter, not by two.
	rates, _ = step(3500, [maxLayers]uint64{10_000, 40_000, 200_000})
	if want := 2_000_000; rates[2] != want {
		t.Errorf("top layer with a keyframe burst: %d bit/s, want %d (averaged over 2 s)", rates[2], want)
	}
	// The middle layer stops: 0 once 500 ms brought nothing.
	rates, _ = step(4000, [maxLayers]uint64{10_000, 0, 100_000})
	if rates[1] != 0 {
		t.Errorf("stopped layer reads %d bit/s, want 0", rates[1])
	}
	if rates[0] != 160_000 {
		t.Errorf("low layer %d bit/s, want 160000", rates[0])
	}
	// Calls faster than the sample period return the last measurement.
	if again, _ := step(4100, [maxLayers]uint64{1_000_000, 0, 0}); again != rates {
		t.Errorf("resampled within %v: %v, want %v", layerRateSample, again, rates)
	}
}

// TestLayerRatesStallIsNotAStop: layers that fall silent together with
// every layer below them (the publisher stalled) keep their average, a
// falling one, until the whole span brought nothing; one that falls
// silent above a layer still flowing is stopped at once.
func TestLayerRatesStallIsNotAStop(t *testing.T) {
	var r layerRates
	start := time.Unix(1000, 0)
	var bytes [maxLayers]uint64
	var rates [maxLayers]int
	step := func(ms int, add [maxLayers]uint64) {
		for i := range bytes {
			bytes[i] += add[i]
		}
		rates, _ = r.update(start.Add(time.Duration(ms)*time.Millisecond), bytes)
	}
	steady := [maxLayers]uint64{10_000, 40_000, 100_000} // 160k, 640k, 1.6M per 500 ms
	ms := 0
	for ; ms <= 2500; ms += 250 {
		step(ms, [maxLayers]uint64{steady[0] / 2, steady[1] / 2, steady[2] / 2})
	}
	// The two lower layers stall for 500 ms; the top one goes on.
	for end := ms + 500; ms <= end; ms += 250 {
		step(ms, [maxLayers]uint64{0, 0, steady[2] / 2})
	}
	if rates[0] == 0 || rates[1] == 0 || rates[2] == 0 {
		t.Errorf("lower layers stalled 500 ms under a flowing top: %v, want none stopped", rates)
	}
	// Everything stalls: no layer is stopped before the span is silent.
	for end := ms + 500; ms <= end; ms += 250 {
		step(ms, [maxLayers]uint64{})
	}
	if rates[0] == 0 || rates[1] == 0 || rates[2] == 0 {
		t.Errorf("all layers stalled 750 ms (the lower ones 1.5 s): %v, want none stopped yet", rates)
	}
	for end := ms + int(layerRateSpan.Milliseconds()); ms <= end; ms += 250 {
		step(ms, [maxLayers]uint64{})
	}
	if rates != [maxLayers]int{} {
		t.Errorf("all layers silent for the whole span: %v, want all 0", rates)
	}
	// Back, but the top layer stays silent above the flowing ones: stopped.
	for end := ms + 2500; ms <= end; ms += 250 {
		step(ms, [maxLayers]uint64{steady[0] / 2, steady[1] / 2, 0})
	}
	if rates[0] == 0 || rates[1] == 0 || rates[2] != 0 {
		t.Errorf("top layer silent above flowing ones: %v, want it alone 0", rates)
	}
}
