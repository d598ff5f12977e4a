// Package webhook tells an application's back end what happened —
// rooms started and finished, participants joined and left, tracks
// published and unpublished — by POSTing
// signed JSON events to the configured URLs. It is driven by the durable
// session log, never by the live room: each URL has a cursor (a byte
// offset in the log plus what it implies) persisted beside the log, so a
// receiver that is down, or a server that restarts, misses nothing, and a
// slow or dead receiver can never hold up a join or a leave. Delivery is
// at least once and in log order (so in order per room); receivers
// de-duplicate by event id. See docs/webhooks.md.
package webhook

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"time"

	"github.com/switchyard-sfu/switchyard/sessionlog"
)

// Event types.
const (
	TypeRoomStarted       = "room_started"
	TypeRoomFinished      = "room_finished"
	TypeParticipantJoined = "participant_joined"
	TypeParticipantLeft   = "participant_left"
	TypeTrackPublished    = "track_published"
	TypeTrackUnpublished  = "track_unpublished"
)

// Event is one webhook body.
type Event struct {
	// ID is unique per event and the same on every redelivery: derived
	// from the log line it comes from.
	ID string `json:"id"`
	// Seq numbers a room's events 1, 2, 3, ... with no gaps, for ever (it
	// does not restart when the room empties and fills again).
	Seq         int64        `json:"seq"`
	Type        string       `json:"type"`
	Room        string       `json:"room"`
	Time        time.Time    `json:"time"` // when it happened, from the log
	Participant *Participant `json:"participant,omitempty"`
	// Track events only: the track.
	Track *Track `json:"track,omitempty"`
	// Leave only: why (the session log's reasons), how long the session
	// lasted, and for leaves the server detected itself how long after
	// the client was last heard. A track_unpublished that a leave caused
	// carries the leave's reason too.
	Reason            string  `json:"reason,omitempty"`
	DurationSec       float64 `json:"duration_s,omitempty"`
	DetectionDelaySec float64 `json:"detection_delay_s,omitempty"`
}

// Participant names who joined or left.
type Participant struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Identity string `json:"identity,omitempty"`
}

// Track is a published track.
type Track struct {
	ID   string `json:"id"`
	Kind string `json:"kind"` // "audio" or "video"
	Mime string `json:"mime,omitempty"`
	// Layers are the simulcast rids, lowest first; absent without simulcast.
	Layers []string `json:"layers,omitempty"`
}

// roomState is what the events so far imply about one room; it is part
// of the persisted cursor (cursors saved before track events simply have
// no Tracks).
type roomState struct {
	Seq     int64           `json:"seq"`
	Present map[string]bool `json:"present,omitempty"`
	// Tracks are each present participant's open tracks, in publish order.
	Tracks map[string][]Track `json:"tracks,omitempty"`
}

func (st *roomState) clone() *roomState {
	if st == nil {
		return nil
	}
	c := &roomState{Seq: st.Seq, Present: make(map[string]bool, len(st.Present)), Tracks: make(map[string][]Track, len(st.Tracks))}
	for id := range st.Present {
		c.Present[id] = true
	}
	for id, list := range st.Tracks {
		c.Tracks[id] = slices.Clone(list) // the Tracks themselves are never changed
	}
	return c
}

func trackOf(t *sessionlog.Track) Track {
	return Track{ID: t.ID, Kind: t.Kind, Mime: t.Mime, Layers: t.Layers}
}

// derive turns one log record into its events, updating rooms. A join
// into an empty room starts it; the leave that empties it finishes it.
func derive(rooms map[string]*roomState, e sessionlog.Entry) []Event {
	st := rooms[e.Room]
	if st == nil {
		st = &roomState{}
		rooms[e.Room] = st
	}
	sum := sha256.Sum256(e.Line)
	base := "evt_" + hex.EncodeToString(sum[:12])
	who := &Participant{ID: e.ParticipantID, Name: e.Name, Identity: e.Identity}
	var out []Event
	add := func(typ string, ev Event) {
		st.Seq++
		ev.ID, ev.Seq, ev.Type, ev.Room, ev.Time = base+"_"+typ, st.Seq, typ, e.Room, e.Time
		if ev.Type == TypeTrackUnpublished && e.Event == sessionlog.EventLeave {
			ev.ID += "_" + ev.Track.ID // one line, several tracks
		}
		out = append(out, ev)
	}
	switch e.Event {
	case sessionlog.EventJoin:
		if st.Present[e.ParticipantID] {
			return nil // a duplicate join changes nothing
		}
		if len(st.Present) == 0 {
			add(TypeRoomStarted, Event{})
		}
		if st.Present == nil {
			st.Present = map[string]bool{}
		}
		st.Present[e.ParticipantID] = true
		add(TypeParticipantJoined, Event{Participant: who})
	case sessionlog.EventLeave:
		if !st.Present[e.ParticipantID] {
			return nil // nothing open to close
		}
		delete(st.Present, e.ParticipantID)
		// The leave ends whatever the leaver still published, as the
		// room tells the others: unpublished first, then left.
		for _, t := range st.Tracks[e.ParticipantID] {
			add(TypeTrackUnpublished, Event{Participant: who, Track: &t, Reason: e.Reason})
		}
		delete(st.Tracks, e.ParticipantID)
		add(TypeParticipantLeft, Event{Participant: who, Reason: e.Reason, DurationSec: e.DurationSec, DetectionDelaySec: e.DetectionDelaySec})
		if len(st.Present) == 0 {
			add(TypeRoomFinished, Event{})
		}
	case sessionlog.EventTrackPublished, sessionlog.EventTrackUnpublished:
		if !st.Present[e.ParticipantID] || e.Track == nil {
			return nil // the log never has it; nothing to attach it to
		}
		list := st.Tracks[e.ParticipantID]
		i := slices.IndexFunc(list, func(t Track) bool { return t.ID == e.Track.ID })
		t := trackOf(e.Track)
		switch {
		case e.Event == sessionlog.EventTrackPublished && i < 0:
			if st.Tracks == nil {
				st.Tracks = map[string][]Track{}
			}
			st.Tracks[e.ParticipantID] = append(list, t)
			add(TypeTrackPublished, Event{Participant: who, Track: &t})
		case e.Event == sessionlog.EventTrackUnpublished && i >= 0:
			st.Tracks[e.ParticipantID] = slices.Delete(slices.Clone(list), i, i+1)
			add(TypeTrackUnpublished, Event{Participant: who, Track: &t})
		}
	}
	return out
}
