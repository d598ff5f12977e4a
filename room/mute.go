package room

import (
	"fmt"

	"go.uber.org/zap"
)

// SetTrackMuted mutes or unmutes one of p's tracks: while muted, the
// server forwards nothing of it. Everyone in the room, p included, hears
// track-muted when the state changes; setting the state it already has
// does nothing. The client's mute message and the operator's mute both
// come here.
func (p *Participant) SetTrackMuted(trackID string, muted bool) error {
	r := p.room
	r.mu.Lock()
	defer r.mu.Unlock()
	if p.left {
		return ErrLeft
	}
	t, ok := p.tracks[trackID]
	if !ok {
		return fmt.Errorf("%w: %s publishes no track %q", ErrUnknownTrack, p.id, trackID)
	}
	if !t.SetMuted(muted) {
		return nil
	}
	info := trackInfo(t)
	for _, o := range r.sortedParticipants() {
		o.client.TrackMuted(p.id, info)
	}
	// Debug: a client may toggle often (within limits.message_rate).
	p.manager.log.Debug("track muted", zap.String("room", r.name), zap.String("participant", p.id),
		zap.String("track", trackID), zap.Bool("muted", muted))
	return nil
}
