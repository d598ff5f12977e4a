// Package webhook tells an application's back end what happened —
// rooms started and finished, participants joined and left — by POSTing
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
	"time"

	"github.com/switchyard-sfu/switchyard/sessionlog"
)

// Event types.
const (
	TypeRoomStarted       = "room_started"
	TypeRoomFinished      = "room_finished"
	TypeParticipantJoined = "participant_joined"
	TypeParticipantLeft   = "participant_left"
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
	// Leave only: why (the session log's reasons), how long the session
	// lasted, and for leaves the server detected itself how long after
	// the client was last heard.
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

// roomState is what the events so far imply about one room; it is part
// of the persisted cursor.
type roomState struct {
	Seq     int64           `json:"seq"`
	Present map[string]bool `json:"present,omitempty"`
}

func (st *roomState) clone() *roomState {
	if st == nil {
		return nil
	}
	c := &roomState{Seq: st.Seq, Present: make(map[string]bool, len(st.Present))}
	for id := range st.Present {
		c.Present[id] = true
	}
	return c
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
		add(TypeParticipantLeft, Event{Participant: who, Reason: e.Reason, DurationSec: e.DurationSec, DetectionDelaySec: e.DetectionDelaySec})
		if len(st.Present) == 0 {
			add(TypeRoomFinished, Event{})
		}
	}
	return out
}
