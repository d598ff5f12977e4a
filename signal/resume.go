package signal

import "github.com/switchyard-sfu/switchyard/room"

// Bounds on a resume claim's fields; ids and secrets are far shorter.
const (
	maxResumeIDLen     = 64
	maxResumeSecretLen = 128
)

// resumeClaim checks a join's resume field and turns it into the room's
// claim; nil when the join resumes nothing.
func resumeClaim(r *Resume) (*room.ResumeClaim, error) {
	if r == nil {
		return nil, nil
	}
	if r.ParticipantID == "" || r.LeaveSecret == "" {
		return nil, badMessage("resume needs participant_id and leave_secret")
	}
	if len(r.ParticipantID) > maxResumeIDLen || len(r.LeaveSecret) > maxResumeSecretLen {
		return nil, badMessage("resume participant_id or leave_secret too long")
	}
	return &room.ResumeClaim{ParticipantID: r.ParticipantID, Secret: r.LeaveSecret}, nil
}
