package whip

import (
	"fmt"
	"net/http"
)

// withOrigin applies the server's one origin rule (internal/origin) to a
// WHIP/WHEP endpoint. A browser page of a listed origin (signaling.
// allowed_origins) gets the CORS headers a cross-origin WHIP or WHEP
// player needs: the Authorization and Content-Type it sends, and the
// Location, Link and ETag it must read. A page the rule refuses gets 403
// before anything runs, so a hostile site cannot publish a visitor's
// camera into a server it can reach even should a browser skip CORS.
func (h *Handler) withOrigin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !h.opts.Origins.Allows(r) {
			writeError(w, fail(http.StatusForbidden, CodeBadOrigin,
				fmt.Sprintf("Origin %q may not use this endpoint (signaling.allowed_origins, http.hosts)", r.Header.Get("Origin"))))
			return
		}
		if o := r.Header.Get("Origin"); o != "" && h.opts.Origins.Listed(o) {
			hdr := w.Header()
			hdr.Set("Access-Control-Allow-Origin", o)
			hdr.Add("Vary", "Origin")
			hdr.Set("Access-Control-Expose-Headers", "Location, Link, ETag, Accept-Patch, Accept-Post")
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				hdr.Set("Access-Control-Allow-Methods", "POST, PATCH, DELETE, OPTIONS")
				hdr.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, If-Match")
				hdr.Set("Access-Control-Max-Age", "600")
			}
		}
		next(w, r)
	}
}
