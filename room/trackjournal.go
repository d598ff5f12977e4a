package room

import (
	"time"
)

// TrackEvent is a track published or unpublished while its participant
// stays in the room.
type TrackEvent struct {
	Time          time.Time
	Room          string
	ParticipantID string
	Name          string
	Identity      string
	Published     bool // false: unpublished
	Track         TrackInfo
	Layers        []string // simulcast rids, lowest first; nil without simulcast
}

// TrackObserver is what an Observer may also implement to learn of
// TrackEvents, under the same rule as joins and leaves: once durable,
// in the room's order, quickly. It is optional so observers that count
// only presence (metrics, the cluster) need not change.
type TrackObserver interface {
	TrackChanged(TrackEvent)
}

// recordTrack posts t's journal record as a barrier in r's outbox, so
// nobody (the publisher's "published" included) hears of the change
// before it is durable. Callers hold r.mu and, once it is released,
// deliver r's outbox through its last entry.
func (m *Manager) recordTrack(r *Room, p *Participant, t Track, published bool) {
	e := TrackEvent{Time: time.Now().UTC(), Room: r.name, ParticipantID: p.id, Name: p.name, Identity: p.identity,
		Published: published, Track: trackInfo(t), Layers: t.Layers()}
	m.commitThen(r, m.journal.RecordTrack(e), p.joinEvent(e.Time), func() {
		if o, ok := m.observer.(TrackObserver); ok {
			o.TrackChanged(e)
		}
	})
}
