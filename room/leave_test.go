package room

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
)

// drained waits, bounded, for every leaver's PCs to be closed.
func (f *fixture) drained() {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.m.WaitPeersClosed(ctx); err != nil {
		f.t.Fatalf("Drain: %v", err)
	}
}

// Everyone else hears the leaver's tracks withdrawn, audio first, then
// participant-left; the leaver hears left; then the tracks leave the
// others' subscribe PCs and the leaver's PCs close. A second leave does
// nothing.
func TestLeaveTellsTracksThenTheLeaverThenRenegotiates(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	video := ann.publish(webrtc.RTPCodecTypeVideo, 1)
	audio := ann.publish(webrtc.RTPCodecTypeAudio, 0)
	bob := f.join("r", "bob")
	cat := f.join("r", "cat")
	bobSaid, catSaid, annSaid := bob.heard.count(), cat.heard.count(), ann.heard.count()

	ann.Leave(ReasonLeave)
	for _, o := range []struct {
		name string
		m    member
		n    int
	}{{"bob", bob, bobSaid}, {"cat", cat, catSaid}} {
		expect(t, o.name, o.m.heard, o.n,
			"track-unpublished "+ann.id+" "+audio.id,
			"track-unpublished "+ann.id+" "+video.id,
			"participant-left "+ann.id+" leave")
		if got := o.m.subFake().trackIDs(); len(got) != 0 {
			t.Fatalf("%s's subscribe PC still forwards %v", o.name, got)
		}
	}
	expect(t, "ann", ann.heard, annSaid, "left leave")
	f.drained()
	if !ann.pubFake().isClosed() || !ann.subFake().isClosed() {
		t.Fatal("the leaver's peer connections are open after Drain")
	}

	ann.Leave(ReasonSocketClosed)
	expect(t, "bob", bob.heard, bobSaid+3)
	if got, want := f.obs.lines()[3:], []string{"left " + ann.id + " leave"}; !slices.Equal(got, want) {
		t.Fatalf("observer saw leaves %v, want %v", got, want)
	}
	if err := ann.HandleOffer("v=0"); !errors.Is(err, ErrLeft) {
		t.Fatalf("offer after leaving: %v, want ErrLeft", err)
	}
	if err := ann.SendChat("still here?"); !errors.Is(err, ErrLeft) {
		t.Fatalf("chat after leaving: %v, want ErrLeft", err)
	}
}

// The last leaver empties the room, which then disappears.
func TestLastLeaveRemovesTheRoom(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	ann.Leave(ReasonLeave)
	if rooms := f.m.Rooms(); len(rooms) != 0 {
		t.Fatalf("rooms after the last leave: %+v", rooms)
	}
	if _, err := f.m.Find("r", ann.id); !errors.Is(err, ErrNoSuchRoom) {
		t.Fatalf("Find in the emptied room: %v, want ErrNoSuchRoom", err)
	}
}

// Every reason travels unchanged to the others, the leaver and the
// observer; only the reasons the server detects carry a detection delay.
func TestEveryReasonReachesTheRoomAndTheObserver(t *testing.T) {
	for _, reason := range Reasons() {
		t.Run(string(reason), func(t *testing.T) {
			f := newFixture(t, Options{})
			ann := f.join("r", "ann")
			bob := f.join("r", "bob")
			ann.Touch(time.Now().Add(-time.Second))
			n := bob.heard.count()
			ann.Leave(reason)
			expect(t, "bob", bob.heard, n, "participant-left "+ann.id+" "+string(reason))
			if got := ann.heard.since(0); got[len(got)-1] != "left "+string(reason) {
				t.Fatalf("ann was last told %q", got[len(got)-1])
			}
			e := f.obs.lastLeave(t)
			if e.Reason != reason || e.ParticipantID != ann.id {
				t.Fatalf("observer saw %s leave with %s", e.ParticipantID, e.Reason)
			}
			if reason.Detected() != (e.DetectionDelay >= time.Second) || !reason.Detected() && e.DetectionDelay != 0 {
				t.Fatalf("detection delay %v for %s (detected: %v)", e.DetectionDelay, reason, reason.Detected())
			}
		})
	}
}

// The reasons room gives itself come from their causes.
func TestReasonsComeFromTheirCauses(t *testing.T) {
	cases := []struct {
		want  Reason
		cause func(f *fixture, ann member)
	}{
		{ReasonPCFailed, func(_ *fixture, ann member) { ann.pubFake().fail(webrtc.PeerConnectionStateFailed) }},
		{ReasonPCFailed, func(_ *fixture, ann member) { ann.subFake().fail(webrtc.PeerConnectionStateFailed) }},
		{ReasonPCClosed, func(_ *fixture, ann member) { ann.subFake().fail(webrtc.PeerConnectionStateClosed) }},
		{ReasonTabClosed, func(f *fixture, ann member) {
			if err := f.m.LeaveWithSecret(ann.id, ann.heard.joined.LeaveSecret); err != nil {
				t.Fatal(err)
			}
		}},
		{ReasonKicked, func(f *fixture, ann member) {
			if _, err := f.m.Kick("r", ann.id); err != nil {
				t.Fatal(err)
			}
		}},
		{ReasonRoomClosed, func(f *fixture, _ member) {
			if _, err := f.m.CloseRoom("r"); err != nil {
				t.Fatal(err)
			}
		}},
		{ReasonServerShutdown, func(f *fixture, _ member) {
			if err := f.m.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
		}},
		{ReasonReconnected, func(f *fixture, ann member) {
			f.joinWith(JoinRequest{Room: "r", Name: "ann", Permissions: AllPermissions,
				Resume: &ResumeClaim{ParticipantID: ann.id, Secret: ann.heard.joined.LeaveSecret}})
		}},
		{ReasonClusterLost, func(f *fixture, _ member) {
			if n := f.m.LeaveAll(ReasonClusterLost); n != 2 {
				t.Fatalf("LeaveAll made %d leave, want 2", n)
			}
		}},
	}
	for _, c := range cases {
		t.Run(string(c.want), func(t *testing.T) {
			f := newFixture(t, Options{})
			ann := f.join("r", "ann")
			f.join("r", "bob")
			c.cause(f, ann)
			ann.heard.waitFor(t, 0, "left "+string(c.want))
			if !slices.Contains(f.obs.lines(), "left "+ann.id+" "+string(c.want)) {
				t.Fatalf("observer saw %v", f.obs.lines())
			}
		})
	}
}

func TestLeaveWithSecretRefusals(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	if err := f.m.LeaveWithSecret("p_nobody", "x"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown participant: %v, want ErrUnknown", err)
	}
	if err := f.m.LeaveWithSecret(ann.id, "wrong"); !errors.Is(err, ErrBadSecret) {
		t.Fatalf("wrong secret: %v, want ErrBadSecret", err)
	}
	if got := ann.heard.since(1); len(got) != 0 {
		t.Fatalf("a refused beacon told ann %v", got)
	}
}

// A resumed session names the one it continues, and a claim works once.
func TestResumeContinuesAnEndedSessionOnce(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	bob := f.join("r", "bob")
	claim := &ResumeClaim{ParticipantID: ann.id, Secret: ann.heard.joined.LeaveSecret}
	ann.Leave(ReasonSocketClosed)
	again := f.joinWith(JoinRequest{Room: "r", Name: "ann", Permissions: AllPermissions, Resume: claim})
	if again.ResumedFrom() != ann.id || again.heard.joined.ResumedFrom != ann.id {
		t.Fatalf("resumed from %q, want %q", again.ResumedFrom(), ann.id)
	}
	bob.heard.waitFor(t, 0, "participant-joined "+again.id)
	third := f.joinWith(JoinRequest{Room: "r", Name: "ann", Permissions: AllPermissions, Resume: claim})
	if third.ResumedFrom() != "" {
		t.Fatalf("a claim was honoured twice (resumed from %q)", third.ResumedFrom())
	}
}

// A failed PC says when its peer was last heard from; the leave's
// detection delay counts from then, unless the client was heard later
// (a pong on a socket that outlived the media path). A session with no
// socket (WHIP) would otherwise count it from its join.
func TestPCFailureDetectionDelayCountsFromTheLastPacket(t *testing.T) {
	cases := []struct {
		name            string
		touched, silent time.Duration // before the failure
		want            time.Duration // the detection delay, about
	}{
		{"media heard last", 30 * time.Second, 4 * time.Second, 4 * time.Second},
		{"socket heard last", time.Second, 4 * time.Second, time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			ann := f.join("r", "ann")
			f.join("r", "bob")
			now := time.Now()
			ann.Touch(now.Add(-c.touched))
			ann.pubFake().failHeard(webrtc.PeerConnectionStateFailed, now.Add(-c.silent))
			e := f.obs.lastLeave(t)
			if e.Reason != ReasonPCFailed {
				t.Fatalf("left with %s", e.Reason)
			}
			// The leave is timed a moment after now.
			if e.DetectionDelay < c.want || e.DetectionDelay > c.want+time.Second {
				t.Fatalf("detection delay %v, want about %v", e.DetectionDelay, c.want)
			}
		})
	}
}
