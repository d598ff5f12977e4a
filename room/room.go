package room

import (
	"cmp"
	"slices"
	"sync"
)

// Room is one set of participants who see and hear each other. Its mutex
// orders joins, leaves and track changes, so every member receives room
// events in the same order.
type Room struct {
	name string

	mu           sync.Mutex
	participants map[string]*Participant
	speakers     speakerWatch // guarded by mu; speakers.go
	out          outbox       // orders what members are told; outbox.go
	// removed is closed when the manager drops the room, which ends its
	// speaker sampling at once.
	removed chan struct{}
}

func newRoom(name string) *Room {
	return &Room{name: name, participants: make(map[string]*Participant), removed: make(chan struct{})}
}

// sortedParticipants returns the members by join time; callers hold r.mu.
func (r *Room) sortedParticipants() []*Participant {
	list := make([]*Participant, 0, len(r.participants))
	for _, p := range r.participants {
		list = append(list, p)
	}
	slices.SortFunc(list, func(a, b *Participant) int {
		return cmp.Or(a.joinedAt.Compare(b.joinedAt), cmp.Compare(a.id, b.id))
	})
	return list
}

func (r *Room) info() Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	info := Info{Name: r.name, Participants: []ParticipantInfo{}}
	for _, p := range r.sortedParticipants() {
		info.Participants = append(info.Participants, p.info())
	}
	return info
}

// othersThan lists the members except p; callers hold r.mu.
func (r *Room) othersThan(p *Participant) []*Participant {
	return slices.DeleteFunc(r.sortedParticipants(), func(o *Participant) bool { return o == p })
}
