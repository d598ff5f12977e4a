package sfu

import "time"

// heardBefore places the last packet from the peer for a failure
// declared at failedAt. pion's ICE agent checks its pair every
// KeepaliveInterval and fails it once nothing has arrived for
// DisconnectedTimeout+FailedTimeout, so after an ICE failure the peer was
// last heard at most silentToFail (the sum of the three) before: taking
// the earliest moment, a detection delay counted from it never hides
// time. After any other end (a DTLS close_notify or alert is itself a
// packet) the peer was heard at failedAt. A peer that never connected
// was never heard: zero. Without this, a session with no other sign of
// life (WHIP or WHEP: no socket, no pings) would count its detection
// delay from its join.
func (p *peer) heardBefore(iceFailed bool, failedAt time.Time) time.Time {
	switch {
	case !p.up.Load():
		return time.Time{}
	case iceFailed:
		return failedAt.Add(-p.silentToFail)
	default:
		return failedAt
	}
}
