package sfu

import (
	"math"
	"time"
)

// lossSmoothing is the time constant of the loss a layer decision acts
// on. gcc's averageLoss follows each TWCC feedback with a 200 ms time
// constant: at a steady 2 % random loss (which NACKs repair) one feedback
// of a dozen packets with two lost lifts it past lossDownRatio, and each
// such spike took the subscriber down a layer and straight back, two
// switches and a freeze (issue 15's lab, 40 ms + 2 %: 4 switches in 60 s).
// Over a second, a spike weighs a third of itself, while loss from real
// congestion (tens of percent) still crosses lossDownRatio within one to
// two allocations.
const lossSmoothing = time.Second

// lossFilter smooths the estimator's loss over lossSmoothing.
type lossFilter struct {
	avg float64
	at  time.Time
}

// update folds in the loss seen at now and returns the smoothed loss.
func (f *lossFilter) update(loss float64, now time.Time) float64 {
	if !f.at.IsZero() && now.After(f.at) {
		w := 1 - math.Exp(-float64(now.Sub(f.at))/float64(lossSmoothing))
		f.avg += w * (loss - f.avg)
	}
	f.at = now
	return f.avg
}
