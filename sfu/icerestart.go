package sfu

import (
	"sync"
	"time"

	"github.com/pion/webrtc/v3"
)

// DefaultICERestartLimit is how long a peer connection whose ICE failed
// may take to reconnect through ICE restarts before the failure is
// reported. It counts from the first failure, which itself comes
// DisconnectedTimeout+FailedTimeout (4 s by default) after the path went
// silent; a network change (Wi-Fi to cellular, a VPN) needs a second or
// two for the new path, and each further attempt waits out pion's
// checking timeout (the same 4 s), so 10 s allows about three attempts.
const DefaultICERestartLimit = 10 * time.Second

// iceRestart is one peer connection's restart episode: it runs from the
// first ICE failure until ICE connects again (the episode ends) or the
// limit passes (Failed is reported). Each failure inside the episode,
// including pion's checking timeout after a restart that found no path,
// restarts again.
type iceRestart struct {
	mu    sync.Mutex
	timer *time.Timer // non-nil while an episode runs
	began time.Time   // the episode's first failure
}

// restartICE handles a failed connection: it starts or continues an
// episode and asks for fresh credentials. It returns false when a
// restart cannot help (no way to reach the client, the peer has ended,
// or DTLS rather than ICE failed), so the caller reports the failure.
func (p *peer) restartICE() bool {
	if p.events.RestartICE == nil || p.pc.ICEConnectionState() != webrtc.ICEConnectionStateFailed {
		return false
	}
	p.restart.mu.Lock()
	if p.ended.Load() {
		p.restart.mu.Unlock()
		return true // closing or already failed: nothing to report twice
	}
	if p.restart.timer == nil {
		p.restart.began = time.Now()
		p.restart.timer = time.AfterFunc(p.restartLimit, p.restartExpired)
	}
	p.restart.mu.Unlock()
	p.events.RestartICE()
	return true
}

// restartExpired reports the failure the restarts could not repair.
func (p *peer) restartExpired() {
	p.restart.mu.Lock()
	began := p.restart.began
	p.restart.mu.Unlock()
	if p.ended.CompareAndSwap(false, true) {
		p.events.Failed(webrtc.PeerConnectionStateFailed, p.heardBefore(true, began))
	}
}

// iceConnected ends a running episode: the restart worked.
func (p *peer) iceConnected() {
	p.restart.mu.Lock()
	defer p.restart.mu.Unlock()
	if p.restart.timer != nil {
		p.restart.timer.Stop()
		p.restart.timer = nil
	}
}

// holdLocalCandidates makes candidates gathered from now on wait for the
// next announce: a restart gathers a new generation at once, and a
// client must get the description carrying its credentials first. It
// returns whether candidates flowed before (announce releases them).
func (p *peer) holdLocalCandidates() (wasReady bool) {
	p.localMu.Lock()
	defer p.localMu.Unlock()
	wasReady, p.localReady = p.localReady, false
	return wasReady
}
