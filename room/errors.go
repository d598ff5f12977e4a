package room

import "errors"

// The sentinel errors of package room, in one place: callers branch on
// them with errors.Is, and signal maps each to its wire code
// (signal/errors.go).

// Errors returned by Join; callers map them to protocol error codes.
var (
	ErrBadRoomName  = errors.New("room: bad room name")
	ErrBadName      = errors.New("room: bad display name")
	ErrRoomFull     = errors.New("room: room is full")
	ErrShuttingDown = errors.New("room: server is shutting down")
	ErrUnknown      = errors.New("room: unknown participant")
	ErrBadSecret    = errors.New("room: wrong leave secret")
	ErrLeft         = errors.New("room: participant has left")
)

// Errors from the operator actions (admin.go).
var (
	ErrNoSuchRoom        = errors.New("room: no such room")
	ErrNoSuchParticipant = errors.New("room: no such participant in that room")
)

// Errors SendChat returns; the session goes on after each.
var (
	ErrChatEmpty   = errors.New("room: empty chat message")
	ErrChatTooLong = errors.New("room: chat message too long")
	ErrRateLimited = errors.New("room: too many chat messages")
	ErrChatBadText = errors.New("room: chat text has control characters")
)

// ErrUnknownTrack means the participant publishes no track of that id.
var ErrUnknownTrack = errors.New("room: unknown track")

// ErrPermissionDenied refuses a request the participant's join token does
// not allow, such as a publish offer without publish permission.
var ErrPermissionDenied = errors.New("room: permission denied")

// ErrTooManyTracks refuses an offer that would publish more tracks than
// the limit; the publish PC stays as it was.
var ErrTooManyTracks = errors.New("room: too many published tracks")

// ErrDraining refuses a join while the server drains before stopping.
var ErrDraining = errors.New("room: server is draining and takes no new joins")

// ErrClusterLost refuses a join while this node is not a live member of
// its cluster (not yet registered, or fenced after losing NATS).
var ErrClusterLost = errors.New("room: this node is not connected to its cluster and takes no joins")

// ErrNoSource refuses a WHEP offer when the room has nobody (or not the
// named participant) publishing.
var ErrNoSource = errors.New("room: nothing to play")
