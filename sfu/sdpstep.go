package sfu

// pion v3.3.6 creates a peer connection's ICE agent at its first SDP
// step (CreateOffer, CreateAnswer). A Close that finds no agent yet
// closes nothing and leaves the gatherer "new", so a step still in
// flight creates an agent nobody closes: one goroutine leaked per race
// (icegatherer.go close/createAgent; seen by goleak in a clean-clone CI
// run of abuse/, where joins and leaves race). So a peer's SDP steps and
// its close take turns: the close waits for a step in flight, and a step
// after the close fails with ErrClosed.

// beginSDP starts an SDP step; endSDP must follow unless it failed.
func (p *peer) beginSDP() error {
	p.sdpMu.Lock()
	select {
	case <-p.closed:
		p.sdpMu.Unlock()
		return ErrClosed
	default:
		return nil
	}
}

func (p *peer) endSDP() { p.sdpMu.Unlock() }
