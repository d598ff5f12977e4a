package sfu

import (
	"fmt"
	"strings"

	"github.com/pion/ice/v2"
)

// DefaultMaxRemoteCandidates bounds the remote candidates one peer
// connection accepts per ICE generation (trickled and in the SDP together).
// A browser sends a handful; each accepted candidate costs up to pion's
// maxBindingRequests (7, not settable through pion/webrtc v3.3.6's
// SettingEngine) STUN checks, so the cap also bounds the checks the server
// sends to addresses a client chose.
const DefaultMaxRemoteCandidates = 32

// candidateBudget counts a peer connection's remote candidates. Callers
// hold peer.mu.
type candidateBudget struct {
	max   int
	used  int
	ufrag string // the remote ICE generation the count belongs to
	// seen holds the candidates counted in this generation: every
	// renegotiation's SDP repeats the ones before, and charging them again
	// refused a subscriber's answer after a few dozen renegotiations
	// (abuse/meeting_test.go), leaving it stuck.
	seen map[string]struct{}
}

// take admits candidate c (its a=candidate value), free when already
// counted in this generation, or says why not.
func (b *candidateBudget) take(c string) error {
	if _, dup := b.seen[c]; dup {
		return nil
	}
	if b.used >= b.max {
		return fmt.Errorf("%w: more than %d remote candidates", ErrBadCandidate, b.max)
	}
	if b.seen == nil {
		b.seen = make(map[string]struct{})
	}
	b.seen[c] = struct{}{}
	b.used++
	return nil
}

// generation restarts the count when the remote ufrag changes (an ICE
// restart): a new generation brings a new set of candidates.
func (b *candidateBudget) generation(ufrag string) {
	if ufrag != "" && ufrag != b.ufrag {
		b.ufrag, b.used, b.seen = ufrag, 0, nil
	}
}

// dialsOut reports whether pairing with c would make the server open a
// TCP connection: a remote passive or simultaneous-open TCP candidate. The
// server only listens (active ICE-TCP is off), so such candidates are
// dropped rather than refused; browsers gather them legitimately.
func dialsOut(c ice.Candidate) bool {
	return c.NetworkType().IsTCP() && c.TCPType() != ice.TCPTypeActive
}

// filterSDPCandidates drops the SDP's dial-out candidates and charges the
// rest to b; more than b allows refuses the whole description.
func filterSDPCandidates(sdp string, b *candidateBudget) (string, error) {
	b.generation(sdpUfrag(sdp))
	if !strings.Contains(sdp, "a=candidate:") {
		return sdp, nil
	}
	lines := strings.SplitAfter(sdp, "\n")
	kept := lines[:0]
	for _, line := range lines {
		value, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), "a=candidate:")
		if !ok {
			kept = append(kept, line)
			continue
		}
		c, err := ice.UnmarshalCandidate("candidate:" + value)
		if err != nil {
			continue // pion would skip it too
		}
		if dialsOut(c) {
			continue
		}
		if err := b.take(strings.TrimPrefix(value, "candidate:")); err != nil {
			return "", fmt.Errorf("%w: the SDP carries %w", ErrBadSDP, err)
		}
		kept = append(kept, line)
	}
	return strings.Join(kept, ""), nil
}

// sdpUfrag is the first a=ice-ufrag value in sdp, or "".
func sdpUfrag(sdp string) string {
	_, rest, ok := strings.Cut(sdp, "a=ice-ufrag:")
	if !ok {
		return ""
	}
	ufrag, _, _ := strings.Cut(rest, "\n")
	return strings.TrimSpace(ufrag)
}
