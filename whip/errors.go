package whip

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/room"
)

// Error codes in the JSON body of every 4xx/5xx, beside the HTTP status.
const (
	CodeBadContentType = "bad-content-type" // 415
	CodeTooLarge       = "too-large"        // 413
	CodeBadSDP         = "bad-sdp"          // 400
	CodeBadRoom        = "bad-room"         // 400
	CodeBadName        = "bad-name"         // 400
	CodeTokenMissing   = "token-missing"    // 401
	CodeTokenInvalid   = "token-invalid"    // 401 (malformed, bad signature, expired, not yet valid)
	CodeTokenWrongRoom = "token-wrong-room" // 403
	CodeForbidden      = "permission-denied"
	CodeNoSession      = "no-such-session" // 404
	CodeNoSource       = "no-source"       // 404: WHEP found nothing to play
	CodeRoomFull       = "room-full"       // 503
	CodeUnavailable    = "unavailable"     // 503: draining or shutting down
	CodePrecondition   = "precondition-failed"
	CodeInternal       = "internal"
	CodeBadOrigin      = "bad-origin" // 403: a browser page the origin rule refuses
)

// httpError is a refusal with its status, code and a message for people.
type httpError struct {
	status  int
	code    string
	message string
}

func (e *httpError) Error() string { return e.message }

func fail(status int, code, message string) *httpError {
	return &httpError{status: status, code: code, message: message}
}

// classify maps the room's and auth's sentinel errors to HTTP.
func classify(err error) *httpError {
	var he *httpError
	switch {
	case errors.As(err, &he):
		return he
	case errors.Is(err, auth.ErrMissing):
		return fail(http.StatusUnauthorized, CodeTokenMissing, "this server needs a join token: Authorization: Bearer <token>")
	case errors.Is(err, auth.ErrWrongRoom):
		return fail(http.StatusForbidden, CodeTokenWrongRoom, err.Error())
	case errors.Is(err, auth.ErrMalformed), errors.Is(err, auth.ErrBadSignature),
		errors.Is(err, auth.ErrExpired), errors.Is(err, auth.ErrNotYetValid):
		return fail(http.StatusUnauthorized, CodeTokenInvalid, err.Error())
	case errors.Is(err, room.ErrPermissionDenied):
		return fail(http.StatusForbidden, CodeForbidden, err.Error())
	case errors.Is(err, room.ErrBadRoomName):
		return fail(http.StatusBadRequest, CodeBadRoom, err.Error())
	case errors.Is(err, room.ErrBadName):
		return fail(http.StatusBadRequest, CodeBadName, err.Error())
	case errors.Is(err, room.ErrRoomFull):
		return fail(http.StatusServiceUnavailable, CodeRoomFull, err.Error())
	case errors.Is(err, room.ErrDraining), errors.Is(err, room.ErrShuttingDown):
		return fail(http.StatusServiceUnavailable, CodeUnavailable, err.Error())
	}
	return fail(http.StatusInternalServerError, CodeInternal, err.Error())
}

// writeError answers with the JSON error body every Switchyard client
// error has.
func writeError(w http.ResponseWriter, e *httpError) {
	if e.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="switchyard"`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"type": "error", "code": e.code, "message": e.message})
}
