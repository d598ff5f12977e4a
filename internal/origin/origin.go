// Package origin is the one rule for which browser pages may use the
// server's APIs: the signaling WebSocket, and WHIP/WHEP through CORS.
package origin

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Policy says which Origin values are allowed.
type Policy struct {
	// Allowed lists Origin values allowed besides the server's own;
	// "*" allows any.
	Allowed []string
	// Hosts are the names this server is reached at (http.hosts). Empty
	// falls back to the request's own Host.
	Hosts []string
}

// Allows accepts no Origin (non-browser clients), "*", a listed origin,
// or an origin whose host is one of Hosts. Without Hosts it falls back
// to the request's own Host, which a DNS-rebinding page controls:
// production configs should set http.hosts.
func (p Policy) Allows(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || p.Listed(o) {
		return true
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" {
		return false
	}
	if len(p.Hosts) == 0 {
		return len(p.Allowed) == 0 && strings.EqualFold(u.Host, r.Host)
	}
	return slices.ContainsFunc(p.Hosts, func(known string) bool {
		return strings.EqualFold(known, u.Host) || (!strings.Contains(known, ":") && strings.EqualFold(known, u.Hostname()))
	})
}

// Listed reports whether o is allowed by the list itself ("*" or
// named): a page of another site, which CORS must let in explicitly.
func (p Policy) Listed(o string) bool {
	return slices.Contains(p.Allowed, "*") || slices.ContainsFunc(p.Allowed, func(a string) bool { return strings.EqualFold(a, o) })
}
