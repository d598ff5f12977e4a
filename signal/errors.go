package signal

import (
	"errors"
	"fmt"

	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sfu"
)

// Every error code a client can be sent, and the one mapping from the
// lower layers' errors to them (docs/protocol.md, "Error codes").

// Error codes sent in error messages.
const (
	CodeBadMessage   = "bad-message"       // not JSON, or a field is missing or wrong
	CodeUnknownType  = "unknown-type"      // type is not one this server knows
	CodeTooLarge     = "message-too-large" // the frame exceeded signaling.max_message_size
	CodeNotJoined    = "not-joined"        // the message needs a joined session
	CodeRoomFull     = "room-full"         // room.max_participants reached
	CodeBadSDP       = "bad-sdp"           // the SDP could not be applied
	CodeBadCandidate = "bad-candidate"     // the ICE candidate could not be applied
	CodeWrongState   = "wrong-state"       // e.g. an answer nobody asked for
	CodeInternal     = "internal"          // the server failed; the session goes on
	CodeShuttingDown = "shutting-down"     // the server is draining and takes no joins
	CodeUnknownTrack = "unknown-track"     // mute or subscription named a track the client does not publish / receive
)

// Error codes for join tokens, permissions and draining.
const (
	CodeTokenMissing      = "token-missing"       // auth is on and the join has no token
	CodeTokenMalformed    = "token-malformed"     // not a JWT, or a required claim is missing
	CodeTokenBadSignature = "token-bad-signature" // not signed with this server's key (or not HS256)
	CodeTokenExpired      = "token-expired"       // past its exp
	CodeTokenNotYetValid  = "token-not-yet-valid" // before its nbf
	CodeTokenWrongRoom    = "token-wrong-room"    // the token names another room
	CodePermissionDenied  = "permission-denied"   // the token does not allow this request
	CodeDraining          = "draining"            // the server is draining and takes no joins
)

// Error codes for mute, chat and rate limits.
const (
	CodeChatTooLong = "chat-too-long" // chat text over room.MaxChatLength characters
	CodeRateLimited = "rate-limited"  // a message over its rate limit (chat, mute, subscription, offer, answer, join); dropped
)

// Error codes for the per-participant limits (config limits.*).
const (
	CodeTooManyTracks = "too-many-tracks" // an offer would publish more than limits.max_tracks
)

// CodeClusterLost refuses a join while this node is cut off from its
// cluster (docs/cluster.md); the client may try another node.
const CodeClusterLost = "cluster-lost"

// requestError is a client mistake with its protocol error code.
type requestError struct {
	code string
	msg  string
}

func (e *requestError) Error() string { return e.msg }

func badMessage(format string, args ...any) error {
	return &requestError{code: CodeBadMessage, msg: fmt.Sprintf(format, args...)}
}

var errNotJoined = &requestError{code: CodeNotJoined, msg: "join a room first"}

// errorCode maps an error from any layer to the code the client sees.
// Mute and chat refusals come first, then tokens, permissions and
// draining, then the client's own mistakes, then room and sfu errors; an
// error none of these names is the server's fault.
func errorCode(err error) string {
	var re *requestError
	switch {
	case errors.Is(err, room.ErrUnknownTrack):
		return CodeUnknownTrack
	case errors.Is(err, room.ErrChatTooLong):
		return CodeChatTooLong
	case errors.Is(err, room.ErrRateLimited):
		return CodeRateLimited
	case errors.Is(err, room.ErrChatEmpty), errors.Is(err, room.ErrChatBadText):
		return CodeBadMessage

	case errors.Is(err, auth.ErrMissing):
		return CodeTokenMissing
	case errors.Is(err, auth.ErrMalformed):
		return CodeTokenMalformed
	case errors.Is(err, auth.ErrBadSignature):
		return CodeTokenBadSignature
	case errors.Is(err, auth.ErrExpired):
		return CodeTokenExpired
	case errors.Is(err, auth.ErrNotYetValid):
		return CodeTokenNotYetValid
	case errors.Is(err, auth.ErrWrongRoom):
		return CodeTokenWrongRoom
	case errors.Is(err, room.ErrPermissionDenied):
		return CodePermissionDenied
	case errors.Is(err, room.ErrDraining):
		return CodeDraining

	case errors.As(err, &re):
		return re.code

	case errors.Is(err, room.ErrBadRoomName), errors.Is(err, room.ErrBadName):
		return CodeBadMessage
	case errors.Is(err, room.ErrTooManyTracks):
		return CodeTooManyTracks
	case errors.Is(err, room.ErrRoomFull):
		return CodeRoomFull
	case errors.Is(err, room.ErrShuttingDown):
		return CodeShuttingDown
	case errors.Is(err, room.ErrClusterLost):
		return CodeClusterLost
	case errors.Is(err, room.ErrLeft):
		return CodeNotJoined
	case errors.Is(err, sfu.ErrBadSDP):
		return CodeBadSDP
	case errors.Is(err, sfu.ErrBadCandidate):
		return CodeBadCandidate
	case errors.Is(err, sfu.ErrWrongState):
		return CodeWrongState
	case errors.Is(err, sfu.ErrUnknownTrack):
		return CodeUnknownTrack
	}
	return CodeInternal
}
