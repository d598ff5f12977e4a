// Package adminapi is the JSON of the room listings that the admin API
// (GET /v1/admin/rooms, /v1/rooms, the cluster's cross-node listing)
// returns and that nodes send each other. room's own types carry no JSON
// tags, so renaming a field there cannot change this API.
package adminapi

import (
	"time"

	"github.com/switchyard-sfu/switchyard/room"
)

// Track is one published track.
type Track struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"` // "audio" or "video"
	StreamID string `json:"stream_id"`
	Codec    string `json:"codec,omitempty"`
	Muted    bool   `json:"muted"`
}

// Participant is someone in a room.
type Participant struct {
	ID          string    `json:"id"`
	Identity    string    `json:"identity,omitempty"` // from the join token, when auth is on
	Name        string    `json:"name"`
	JoinedAt    time.Time `json:"joined_at"`
	Tracks      []Track   `json:"tracks"`
	ResumedFrom string    `json:"resumed_from,omitempty"`
}

// Room is one room and who is in it.
type Room struct {
	Name         string        `json:"room"`
	Participants []Participant `json:"participants"`
}

// Rooms converts room's listing.
func Rooms(infos []room.Info) []Room {
	out := make([]Room, 0, len(infos))
	for _, info := range infos {
		out = append(out, FromRoom(info))
	}
	return out
}

// FromRoom converts one room.
func FromRoom(info room.Info) Room {
	r := Room{Name: info.Name, Participants: make([]Participant, 0, len(info.Participants))}
	for _, p := range info.Participants {
		tracks := make([]Track, 0, len(p.Tracks))
		for _, t := range p.Tracks {
			tracks = append(tracks, Track{ID: t.ID, Kind: t.Kind, StreamID: t.StreamID, Codec: t.Codec, Muted: t.Muted})
		}
		r.Participants = append(r.Participants, Participant{ID: p.ID, Identity: p.Identity, Name: p.Name, JoinedAt: p.JoinedAt, Tracks: tracks, ResumedFrom: p.ResumedFrom})
	}
	return r
}
