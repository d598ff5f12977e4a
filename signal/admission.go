package signal

import (
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/switchyard-sfu/switchyard/internal/origin"
)

// DefaultJoinTimeout closes a socket that has not joined when
// Options.JoinTimeout is 0.
const DefaultJoinTimeout = 10 * time.Second

// connCaps counts open sockets in all and per remote address.
type connCaps struct {
	mu    sync.Mutex
	total int
	perIP map[string]int
}

// acquire takes a slot for ip, or says no when a cap (0 = none) is reached.
func (c *connCaps) acquire(ip string, maxTotal, maxPerIP int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if (maxTotal > 0 && c.total >= maxTotal) || (maxPerIP > 0 && c.perIP[ip] >= maxPerIP) {
		return false
	}
	if c.perIP == nil {
		c.perIP = make(map[string]int)
	}
	c.total++
	c.perIP[ip]++
	return true
}

func (c *connCaps) release(ip string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.total--
	if c.perIP[ip]--; c.perIP[ip] <= 0 {
		delete(c.perIP, ip)
	}
}

// remoteIP is the request's peer address without the port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// originAllowed applies the one origin rule (internal/origin).
func (h *Handler) originAllowed(r *http.Request) bool {
	return origin.Policy{Allowed: h.opts.AllowedOrigins, Hosts: h.opts.Hosts}.Allows(r)
}

// startJoinTimer closes the session if it has not joined within the join
// timeout; the returned stop ends the timer.
func (s *session) startJoinTimer() (stop func() bool) {
	d := s.opts.JoinTimeout
	if d <= 0 {
		d = DefaultJoinTimeout
	}
	t := time.AfterFunc(d, func() {
		if !s.everJoined.Load() {
			s.closeWith(websocket.ClosePolicyViolation, "no join within "+d.String())
		}
	})
	return t.Stop
}
