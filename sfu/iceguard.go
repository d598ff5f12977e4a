package sfu

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v3"
)

// iceSettleLimit bounds how long a close waits for ICE checks to finish.
const iceSettleLimit = 5 * time.Second

// ICEGuard works around a data race in pion/webrtc v3.3.6: closing a
// peer connection while ICETransport.Start is still dialing races on the
// transport's mux (icetransport.go reads t.mux unlocked in stop). Closing
// only after ICE has left the new/checking states avoids it. Both the
// server and the test clients close through it.
//
// When the peer is gone before ICE connected, "settled" is the agent
// failing: DisconnectedTimeout+FailedTimeout after its checks began (4 s
// with the engine's defaults). It cannot end sooner: while checking, a
// success may already be queued, and pion reports it only through an
// asynchronous state change; after failed, the agent has dropped its
// candidates and ufrag and can no longer connect. pion/webrtc v4 fixes
// the race itself (PR 2940); v3.3.6 is the last v3.
type ICEGuard struct {
	pc      *webrtc.PeerConnection
	settled chan struct{}
	once    sync.Once
}

// NewICEGuard watches pc's ICE state; it takes over
// OnICEConnectionStateChange.
func NewICEGuard(pc *webrtc.PeerConnection) *ICEGuard {
	g := &ICEGuard{pc: pc, settled: make(chan struct{})}
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		if s != webrtc.ICEConnectionStateNew && s != webrtc.ICEConnectionStateChecking {
			g.once.Do(func() { close(g.settled) })
		}
	})
	return g
}

// Close closes the peer connection once ICE has settled, or after
// iceSettleLimit. Without a remote description ICE never ran, so it
// closes at once.
func (g *ICEGuard) Close() error {
	if g.pc.RemoteDescription() != nil {
		timer := time.NewTimer(iceSettleLimit)
		defer timer.Stop()
		select {
		case <-g.settled:
		case <-timer.C:
		}
	}
	return g.pc.Close()
}
