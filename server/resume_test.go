package server

import (
	"context"
	"fmt"
	"testing"

	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/signal"
)

// joinResuming sends a join with a resume claim and waits for its answer.
func joinResuming(ctx context.Context, c *testclient.Client, roomName, name string, r *signal.Resume) (signal.Joined, error) {
	from := len(c.Messages())
	if err := c.Send(signal.Join{Type: signal.TypeJoin, Room: roomName, Name: name, Resume: r}); err != nil {
		return signal.Joined{}, err
	}
	m, _, err := c.WaitFor(ctx, from, func(m testclient.Message) bool {
		return m.Type == signal.TypeJoined || m.Type == signal.TypeError
	})
	if err != nil {
		return signal.Joined{}, err
	}
	if m.Type == signal.TypeError {
		return signal.Joined{}, fmt.Errorf("join refused: %s", m.Raw)
	}
	var j signal.Joined
	return j, m.Decode(&j)
}

func claimOf(j signal.Joined) *signal.Resume {
	return &signal.Resume{ParticipantID: j.ParticipantID, LeaveSecret: j.LeaveSecret}
}

// TestResume: a client whose socket broke rejoins with its old id and
// leave secret; the room hears the drop, then the participant back with
// resumed_from; a claim works once, only with the right secret and room,
// and a claim on a session the server still has open ends it (reason
// reconnected) before the new one starts.
func TestResume(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ann, ja := h.joined(ctx, "r", "Ann")
	bob, jb := h.joined(ctx, "r", "Bob")
	if ja.ReconnectGraceMS != 5000 {
		t.Errorf("reconnect_grace_ms %d, want the default 5000", ja.ReconnectGraceMS)
	}

	// Ann's network drops; she comes back on a new socket.
	mark := len(bob.Messages())
	if err := ann.DropSocket(); err != nil {
		t.Fatal(err)
	}
	left, err := h.recorder.waitLeft(ctx, ja.ParticipantID)
	if err != nil {
		t.Fatal(err)
	}
	if left.Reason != room.ReasonSocketClosed {
		t.Errorf("drop logged as %q, want socket-closed", left.Reason)
	}
	ann2 := h.dial(ctx)
	j2, err := joinResuming(ctx, ann2, "r", "Ann", claimOf(ja))
	if err != nil {
		t.Fatal(err)
	}
	if j2.ResumedFrom != ja.ParticipantID || j2.ParticipantID == ja.ParticipantID {
		t.Errorf("joined %s resumed_from %q, want a new id resuming %s", j2.ParticipantID, j2.ResumedFrom, ja.ParticipantID)
	}
	m, i, err := bob.WaitType(ctx, mark, signal.TypeParticipantLeft)
	if err != nil {
		t.Fatal(err)
	}
	var pl signal.ParticipantLeft
	if err := m.Decode(&pl); err != nil || pl.ParticipantID != ja.ParticipantID || pl.Reason != string(room.ReasonSocketClosed) {
		t.Errorf("Bob heard %s, want Ann left socket-closed", m.Raw)
	}
	m, _, err = bob.WaitType(ctx, i, signal.TypeParticipantJoined)
	if err != nil {
		t.Fatal(err)
	}
	var pj signal.ParticipantJoined
	if err := m.Decode(&pj); err != nil || pj.Participant.ID != j2.ParticipantID || pj.Participant.ResumedFrom != ja.ParticipantID {
		t.Errorf("Bob heard %s, want Ann back resuming %s", m.Raw, ja.ParticipantID)
	}
	if e := h.joinEvent(j2.ParticipantID); e.ResumedFrom != ja.ParticipantID {
		t.Errorf("join event %+v, want resumed_from %s", e, ja.ParticipantID)
	}

	// The same claim again, a wrong secret, another room: fresh sessions,
	// and Bob, whose id was guessed at, stays.
	for _, tc := range []struct {
		name, room string
		claim      *signal.Resume
	}{
		{"claim used twice", "r", claimOf(ja)},
		{"wrong secret", "r", &signal.Resume{ParticipantID: jb.ParticipantID, LeaveSecret: "guess"}},
		{"other room", "elsewhere", claimOf(j2)},
	} {
		c := h.dial(ctx)
		j, err := joinResuming(ctx, c, tc.room, "X", tc.claim)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if j.ResumedFrom != "" {
			t.Errorf("%s: resumed_from %q, want a fresh session", tc.name, j.ResumedFrom)
		}
		c.Close()
	}
	if !inRoom(h, "r", jb.ParticipantID) {
		t.Errorf("Bob is gone after a wrong claim on his session")
	}

	// A claim on a session still open: the old one ends as reconnected.
	ann3 := h.dial(ctx)
	j3, err := joinResuming(ctx, ann3, "r", "Ann", claimOf(j2))
	if err != nil {
		t.Fatal(err)
	}
	if j3.ResumedFrom != j2.ParticipantID {
		t.Errorf("resumed_from %q, want %s", j3.ResumedFrom, j2.ParticipantID)
	}
	l2, err := h.recorder.waitLeft(ctx, j2.ParticipantID)
	if err != nil {
		t.Fatal(err)
	}
	if l2.Reason != room.ReasonReconnected {
		t.Errorf("old open session left with %q, want reconnected", l2.Reason)
	}

	// Malformed claims are refused.
	c := h.dial(ctx)
	if _, err := joinResuming(ctx, c, "r", "Y", &signal.Resume{ParticipantID: ja.ParticipantID}); err == nil {
		t.Error("a resume without leave_secret was accepted")
	}
}

// joinEvent returns the join event of participant id, or the zero event.
func (h *harness) joinEvent(id string) room.JoinEvent {
	for _, j := range h.recorder.Joins() {
		if j.ParticipantID == id {
			return j
		}
	}
	return room.JoinEvent{}
}

func inRoom(h *harness, roomName, id string) bool {
	for _, r := range h.srv.Rooms().Rooms() {
		for _, p := range r.Participants {
			if r.Name == roomName && p.ID == id {
				return true
			}
		}
	}
	return false
}
