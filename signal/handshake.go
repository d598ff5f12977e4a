package signal

import (
	"net/http"
)

// SocketTokenParam is the query parameter of the signaling URL that may
// carry the join token at the handshake (/v1/rtc?token=JWT), so that with
// auth on a socket without a plausible token costs the server no
// WebSocket at all. The join message still carries the token, and the
// join-time check (room, permissions) stays the one that admits.
const SocketTokenParam = "token"

// handshakeRefusal checks a signaling request's token before the upgrade,
// with auth on: a token given must verify (signature, expiry, claims; its
// room is checked at join, where the room is known), and with
// Options.RequireSocketToken one must be given. It returns the protocol
// error code and why, or "" to proceed.
func (h *Handler) handshakeRefusal(r *http.Request) (code, why string) {
	if h.opts.Auth == nil {
		return "", ""
	}
	token := r.URL.Query().Get(SocketTokenParam)
	if token == "" {
		if !h.opts.RequireSocketToken {
			return "", "" // the join message must carry it (join-time check)
		}
		return CodeTokenMissing, "auth is on: connect to /v1/rtc?" + SocketTokenParam + "=<join token>"
	}
	if _, err := h.opts.Auth.Verify(token); err != nil {
		return errorCode(err), err.Error()
	}
	return "", ""
}

// refuseHandshake answers 401 before any upgrade, naming the code as the
// join's error would.
func refuseHandshake(w http.ResponseWriter, code, why string) {
	challenge := `Bearer realm="switchyard"`
	if code != CodeTokenMissing {
		challenge += `, error="invalid_token"` // RFC 6750 §3.1: none when no token was given
	}
	w.Header().Set("WWW-Authenticate", challenge)
	http.Error(w, code+": "+why, http.StatusUnauthorized)
}
