package sfu

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
)

// iceAgentLoops counts live pion ICE agents, by their task loop.
func iceAgentLoops() int {
	buf := make([]byte, 1<<22)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "ice/v2.(*Agent).taskLoop")
}

// A subscriber closed while its first offer is being made leaves no ICE
// agent behind: pion creates the agent inside that offer, and one created
// just after the close would never be closed (sdpstep.go). Joins that
// leave at once race exactly so.
func TestCloseDuringTheFirstOfferLeavesNoICEAgent(t *testing.T) {
	e := testEngine(t)
	defer e.Close()
	before := iceAgentLoops()
	var wg sync.WaitGroup
	for i := range 300 {
		s, err := e.NewSubscriber(SubscriberEvents{PeerEvents: PeerEvents{Candidate: func(*webrtc.ICECandidateInit) {}, Failed: func(webrtc.PeerConnectionState, time.Time) {}}, Offer: func(string) {}})
		if err != nil {
			t.Fatal(err)
		}
		var stats counters
		track := testTrack(&stats)
		track.codec = webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96}
		if err := s.AddTrack(track); err != nil { // schedules the first offer
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Spread the closes over the first offer's duration, to land
			// some inside it (not a wait for anything).
			time.Sleep(time.Duration(i%40) * 50 * time.Microsecond)
			_ = s.Close()
		}()
	}
	wg.Wait()
	// An agent closes its task loop asynchronously; wait for it to go.
	deadline := time.Now().Add(10 * time.Second)
	for iceAgentLoops() > before && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond)
	}
	if n := iceAgentLoops() - before; n > 0 {
		t.Errorf("%d ICE agents outlived their closed subscribers", n)
	}
}
