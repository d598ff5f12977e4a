package room

import "time"

// Permissions say what a participant may do in its room. With auth off
// everyone has AllPermissions; with auth on they come from the join token.
type Permissions struct {
	Publish   bool // send audio and video
	Subscribe bool // receive the others' tracks
	Data      bool // send data messages (chat)
	Admin     bool // use the admin API
}

// AllPermissions is what a participant has when auth is off.
var AllPermissions = Permissions{Publish: true, Subscribe: true, Data: true, Admin: true}

// JoinRequest is one admitted join: room and display name, plus the
// identity and permissions a join token granted.
type JoinRequest struct {
	Room        string
	Name        string
	Identity    string // empty when auth is off
	Permissions Permissions
	// Expires is when the join token expires (zero without one); TURN
	// credentials handed out in joined last as long.
	Expires time.Time
	// Resume, when set, claims to continue an earlier session (resume.go).
	Resume *ResumeClaim
}

// Permissions returns what the participant may do; fixed at join.
func (p *Participant) Permissions() Permissions { return p.perms }

// Identity is the token's identity, or "" when auth is off.
func (p *Participant) Identity() string { return p.identity }

// ValidateRoomName checks a room name alone, for a join whose display
// name comes from elsewhere (a join token).
func ValidateRoomName(name string) error { return validateRoomName(name) }
