package sfu

import (
	"fmt"
	"sync"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/webrtc/v3"
)

// Send-side bandwidth estimation (Google congestion control over
// transport-wide CC feedback) bounds. A subscriber starts at
// bweInitialBitrate — enough for the low and middle layers of a typical
// camera — and the estimate moves from there with the feedback.
const (
	bweInitialBitrate = 1_000_000
	bweMinBitrate     = 30_000
	bweMaxBitrate     = 20_000_000
)

// bandwidthEstimator is what layer allocation needs from an estimator:
// the bitrate, in bits per second, the path to the subscriber can take.
type bandwidthEstimator interface {
	GetTargetBitrate() int
}

// bweHandoff gives each new peer connection its own estimator. pion's cc
// interceptor reports the estimator it built through a callback during
// NewPeerConnection, without saying for which connection, so connections
// are created one at a time and the estimator is picked up right after.
type bweHandoff struct {
	mu   sync.Mutex
	last cc.BandwidthEstimator
}

// register adds TWCC sequence numbers to outgoing packets and the gcc
// estimator that reads the feedback. The estimator paces nothing: layer
// selection is how a subscriber's rate is brought down.
func (b *bweHandoff) register(media *webrtc.MediaEngine, registry *interceptor.Registry) error {
	factory, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		return gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(bweInitialBitrate),
			gcc.SendSideBWEMinBitrate(bweMinBitrate),
			gcc.SendSideBWEMaxBitrate(bweMaxBitrate),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
		)
	})
	if err != nil {
		return fmt.Errorf("congestion controller: %w", err)
	}
	factory.OnNewPeerConnection(func(_ string, est cc.BandwidthEstimator) { b.last = est })
	// The cc interceptor must come first: writers run last-added first, and
	// it reads the sequence number the TWCC interceptor has just written.
	registry.Add(factory)
	if err := configureTWCCStamper(media, registry); err != nil { // chainwriter.go
		return fmt.Errorf("twcc header extension: %w", err)
	}
	return nil
}

// newPeerConnection creates a peer connection with create and returns the
// estimator built for it.
func (b *bweHandoff) newPeerConnection(create func() (*webrtc.PeerConnection, error)) (*webrtc.PeerConnection, bandwidthEstimator, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last = nil
	pc, err := create()
	if err != nil {
		return nil, nil, err
	}
	var est bandwidthEstimator
	if b.last != nil {
		est = b.last
	}
	return pc, est, nil
}
