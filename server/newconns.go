package server

import (
	"net"
	"net/http"
	"sync"
)

// newConns are HTTP connections that have not sent a request yet (browsers
// open them speculatively). http.Server.Shutdown waits up to 5 s for each,
// longer than a SIGTERM stop may take, so Shutdown closes them itself.
type newConns struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing bool
}

// track is the http.Server's ConnState hook.
func (n *newConns) track(c net.Conn, state http.ConnState) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if state != http.StateNew {
		delete(n.conns, c)
		return
	}
	if n.closing {
		_ = c.Close() // accepted while the listener was closing
		return
	}
	if n.conns == nil {
		n.conns = map[net.Conn]struct{}{}
	}
	n.conns[c] = struct{}{}
}

// closeAll closes them, and any accepted from now on. A request still
// arriving on one is lost, as it would be on a server that is gone.
func (n *newConns) closeAll() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closing = true
	for c := range n.conns {
		_ = c.Close()
	}
	clear(n.conns)
}
