package room

import (
	"errors"
	"fmt"
)

// ErrUnknownTrack: the participant publishes no track with that id.
var ErrUnknownTrack = errors.New("room: unknown track")

// SetTrackMuted stops (muted) or resumes forwarding one of p's tracks to
// the rest of the room.
//
// This is the auth branch's minimal stand-in, there so the admin API's
// mute works and is tested; the mute branch's fuller version (muted
// state kept for later joiners, a track-muted event) replaces this file
// with the same signature.
func (p *Participant) SetTrackMuted(trackID string, muted bool) error {
	r := p.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.left {
		return ErrLeft
	}
	t, ok := p.tracks[trackID]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownTrack, trackID)
	}
	for _, o := range r.othersThan(p) {
		if muted {
			o.sub.RemoveTrack(trackID)
		} else {
			p.manager.forward(t, o)
		}
	}
	return nil
}
