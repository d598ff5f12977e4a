package sfu

import (
	"io"
	"net"
	"sync"
	"time"

	"github.com/pion/ice/v2"
)

// retiredTCPMux works around a goroutine leak in pion/ice v2.3.38's
// ICE-TCP mux. Agent.close removes its ufrag from the mux
// (removeUfragFromMux) before it cancels and waits for candidate
// gathering (queued with afterRun, which runs only once the task loop has
// ended). A gather still running then calls GetConnByUfrag, which creates
// a fresh tcpPacketConn for the dead agent; addCandidate fails on the
// closed agent without closing it, and as it came from GetConnByUfrag it
// has no alive timer, so it and its waiter goroutine stay until the mux
// closes: about 1 join/leave in 40 with ICE-TCP on
// (abuse/icetcp_churn_test.go). ICE restarts retire a ufrag the same
// way. So a ufrag, once removed, is never handed a connection again.
// Upstream: pion/ice#842 ("Cancel gathering before removing candidates",
// merged 2025-12 on the v4 line) fixes the order; drop this wrapper once
// the server is on a pion/ice with it.
type retiredTCPMux struct {
	ice.TCPMux

	mu      sync.Mutex
	retired map[string]time.Time // ufrag → when removed
}

// retiredKeep bounds how long a removed ufrag is remembered: far longer
// than any gathering, and pion's ufrags (24 random characters) never
// come back.
const retiredKeep = 2 * time.Minute

func newRetiredTCPMux(m ice.TCPMux) *retiredTCPMux {
	return &retiredTCPMux{TCPMux: m, retired: map[string]time.Time{}}
}

// GetConnByUfrag refuses a retired ufrag. The check and the inner call
// hold mu together, so a RemoveConnByUfrag either comes after the conn
// exists (and closes it) or before the call (which then fails).
func (m *retiredTCPMux) GetConnByUfrag(ufrag string, isIPv6 bool, local net.IP) (net.PacketConn, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, gone := m.retired[ufrag]; gone {
		return nil, io.ErrClosedPipe
	}
	return m.TCPMux.GetConnByUfrag(ufrag, isIPv6, local)
}

// RemoveConnByUfrag retires ufrag, then closes its connections.
func (m *retiredTCPMux) RemoveConnByUfrag(ufrag string) {
	now := time.Now()
	m.mu.Lock()
	for u, at := range m.retired {
		if now.Sub(at) > retiredKeep {
			delete(m.retired, u)
		}
	}
	m.retired[ufrag] = now
	m.mu.Unlock()
	m.TCPMux.RemoveConnByUfrag(ufrag)
}
