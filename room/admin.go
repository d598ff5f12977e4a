package room

import "fmt"

// Find returns the live participants of roomName whose id or identity is
// who: one for a participant id, any number for an identity.
func (m *Manager) Find(roomName, who string) ([]*Participant, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rooms[roomName]
	if r == nil {
		return nil, fmt.Errorf("%w: %q", ErrNoSuchRoom, roomName)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var found []*Participant
	for _, p := range r.sortedParticipants() {
		if p.id == who || (p.identity != "" && p.identity == who) {
			found = append(found, p)
		}
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("%w: %q in %q", ErrNoSuchParticipant, who, roomName)
	}
	return found, nil
}

// Kick removes the participants Find names, with reason kicked, through
// the same leave path as every other leave; it returns the ids removed.
func (m *Manager) Kick(roomName, who string) ([]string, error) {
	found, err := m.Find(roomName, who)
	if err != nil {
		return nil, err
	}
	var kicked []string
	for _, p := range found {
		if m.leave(p, ReasonKicked) {
			kicked = append(kicked, p.id)
		}
	}
	if len(kicked) == 0 { // they left on their own meanwhile
		return nil, fmt.Errorf("%w: %q in %q", ErrNoSuchParticipant, who, roomName)
	}
	return kicked, nil
}

// CloseRoom makes everyone in roomName leave with reason room-closed and
// returns how many left. The name stays usable: closing is not a ban.
func (m *Manager) CloseRoom(roomName string) (int, error) {
	m.mu.Lock()
	r := m.rooms[roomName]
	m.mu.Unlock()
	if r == nil {
		return 0, fmt.Errorf("%w: %q", ErrNoSuchRoom, roomName)
	}
	r.mu.Lock()
	members := r.sortedParticipants()
	r.mu.Unlock()
	n := 0
	for _, p := range members {
		if m.leave(p, ReasonRoomClosed) {
			n++
		}
	}
	return n, nil
}

// HasTrack reports whether p publishes the track with id trackID now.
func (p *Participant) HasTrack(trackID string) bool {
	p.room.mu.Lock()
	defer p.room.mu.Unlock()
	_, ok := p.tracks[trackID]
	return ok
}
