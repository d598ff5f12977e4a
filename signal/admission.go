package signal

import (
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
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

// originAllowed accepts no Origin (non-browser clients), "*", a listed
// origin, or an origin whose host is one of Options.Hosts. Without Hosts
// it falls back to the request's own Host, which a DNS-rebinding page
// controls: production configs should set http.hosts.
func (h *Handler) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || slices.Contains(h.opts.AllowedOrigins, "*") {
		return true
	}
	if slices.ContainsFunc(h.opts.AllowedOrigins, func(o string) bool { return strings.EqualFold(o, origin) }) {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if len(h.opts.Hosts) == 0 {
		return len(h.opts.AllowedOrigins) == 0 && strings.EqualFold(u.Host, r.Host)
	}
	return slices.ContainsFunc(h.opts.Hosts, func(known string) bool {
		return strings.EqualFold(known, u.Host) || (!strings.Contains(known, ":") && strings.EqualFold(known, u.Hostname()))
	})
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
