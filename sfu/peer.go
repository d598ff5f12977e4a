package sfu

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/webrtc/v3"
)

// maxPendingCandidates bounds candidates held before the remote
// description arrives, so a misbehaving client cannot grow memory.
const maxPendingCandidates = 64

// PeerEvents is how a peer connection reports to its owner. Callbacks run
// on pion's goroutines and must not block.
type PeerEvents struct {
	// Candidate carries a local ICE candidate to trickle; nil ends gathering.
	Candidate func(*webrtc.ICECandidateInit)
	// Failed reports that the connection failed or was closed by something
	// other than Close; it fires at most once. With RestartICE set, an ICE
	// failure is reported only once restarts have not repaired it within
	// the engine's ICERestartLimit (icerestart.go). lastHeard is when the
	// peer was last heard from: for an ICE failure, when its path went
	// silent as ICE's timeouts place it (lastheard.go), not when the
	// failure was declared.
	Failed func(state webrtc.PeerConnectionState, lastHeard time.Time)
	// RestartICE, when set, is called on each ICE failure while restarts
	// are tried: the owner must get fresh ICE credentials exchanged (the
	// Subscriber sends its own restart offer before calling it; for a
	// Publisher the client must send a new offer). Nil means the owner
	// cannot reach the client, and a failure is reported at once.
	RestartICE func()

	// connected, when set, runs at every change to the connected state;
	// the Subscriber uses it to ask for keyframes (deliverable.go).
	connected func()
}

// peer wraps a pion PeerConnection with what both directions share:
// trickle ICE in both directions, candidate buffering and one-shot failure.
type peer struct {
	pc     *webrtc.PeerConnection
	bwe    bandwidthEstimator // this connection's send-side estimate
	events PeerEvents

	mu        sync.Mutex
	remoteSet bool
	pending   []webrtc.ICECandidateInit
	budget    candidateBudget // remote candidates, candidates.go

	// Local candidates wait until the first offer or answer has been handed
	// out, so a client never gets a candidate for a PC it cannot apply yet.
	localMu      sync.Mutex
	localReady   bool
	localPending []*webrtc.ICECandidateInit

	ended     atomic.Bool // set by Close or the first failure; silences Failed
	closed    chan struct{}
	closeOnce sync.Once
	sdpMu     sync.Mutex // SDP steps and the close take turns: sdpstep.go
	guard     *ICEGuard

	restart      iceRestart
	restartLimit time.Duration
	silentToFail time.Duration // the longest ICE takes from silence to failed

	// up is set at the first connected state: from then on, SRTP writes
	// reach the wire (a later disconnection only loses packets).
	up atomic.Bool
}

func (e *Engine) newPeer(events PeerEvents) (*peer, error) {
	pc, bwe, err := e.bwe.newPeerConnection(e.newPeerConnection)
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	p := &peer{pc: pc, bwe: bwe, events: events, closed: make(chan struct{}), guard: NewICEGuard(pc), restartLimit: e.iceRestartLimit, silentToFail: e.silentToFail}
	p.budget.max = e.maxRemoteCandidates
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		var init *webrtc.ICECandidateInit
		if c != nil {
			v := c.ToJSON()
			init = &v
		}
		p.localMu.Lock()
		defer p.localMu.Unlock()
		if !p.localReady {
			p.localPending = append(p.localPending, init)
			return
		}
		p.events.Candidate(init)
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		switch s {
		case webrtc.PeerConnectionStateConnected:
			p.iceConnected()
			p.up.Store(true)
			if p.events.connected != nil {
				p.events.connected()
			}
			return
		case webrtc.PeerConnectionStateFailed:
			if p.restartICE() {
				return
			}
		case webrtc.PeerConnectionStateClosed:
		default:
			return
		}
		if p.ended.CompareAndSwap(false, true) {
			p.events.Failed(s, p.heardBefore(p.pc.ICEConnectionState() == webrtc.ICEConnectionStateFailed, time.Now()))
		}
	})
	return p, nil
}

// AddCandidate applies a remote candidate, holding it until the remote
// description is set. A nil candidate (end of gathering) is accepted and
// ignored: pion needs no end-of-candidates signal.
func (p *peer) AddCandidate(c *webrtc.ICECandidateInit) error {
	if c == nil || c.Candidate == "" {
		return nil
	}
	// Parse now: a buffered candidate's error would have nobody to tell.
	parsed, err := ice.UnmarshalCandidate(c.Candidate)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadCandidate, err)
	}
	if dialsOut(parsed) {
		return nil // the server never dials; see dialsOut
	}
	p.mu.Lock()
	if err := p.budget.take(strings.TrimPrefix(c.Candidate, "candidate:")); err != nil {
		p.mu.Unlock()
		return err
	}
	if !p.remoteSet {
		defer p.mu.Unlock()
		if len(p.pending) >= maxPendingCandidates {
			return fmt.Errorf("%w: more than %d before the remote description", ErrBadCandidate, maxPendingCandidates)
		}
		p.pending = append(p.pending, *c)
		return nil
	}
	p.mu.Unlock()
	if err := p.pc.AddICECandidate(*c); err != nil {
		return fmt.Errorf("%w: %w", ErrBadCandidate, err)
	}
	return nil
}

// setRemoteDescription applies desc and then any candidates that waited
// for it.
func (p *peer) setRemoteDescription(desc webrtc.SessionDescription) error {
	p.mu.Lock()
	sdp, err := filterSDPCandidates(desc.SDP, &p.budget)
	p.mu.Unlock()
	if err != nil {
		return err
	}
	desc.SDP = sdp
	if err := p.pc.SetRemoteDescription(desc); err != nil {
		return fmt.Errorf("%w: %w", ErrBadSDP, err)
	}
	p.mu.Lock()
	pending := p.pending
	p.pending = nil
	p.remoteSet = true
	p.mu.Unlock()
	for _, c := range pending {
		// A bad early candidate is the client's problem; the others still apply.
		_ = p.pc.AddICECandidate(c)
	}
	return nil
}

// announce hands out a local description through send, then releases
// the candidates gathered so far, keeping the two in order.
func (p *peer) announce(send func()) {
	p.localMu.Lock()
	defer p.localMu.Unlock()
	send()
	if p.localReady {
		return
	}
	p.localReady = true
	for _, c := range p.localPending {
		p.events.Candidate(c)
	}
	p.localPending = nil
}

// Close tears the connection down without reporting failure. Safe to call
// more than once.
func (p *peer) Close() error {
	var err error
	p.closeOnce.Do(func() {
		p.ended.Store(true)
		p.iceConnected() // stops a running restart episode's timer
		close(p.closed)
		p.sdpMu.Lock() // a step in flight finishes first: sdpstep.go
		defer p.sdpMu.Unlock()
		err = p.guard.Close()
	})
	return err
}
