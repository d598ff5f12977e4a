package room

import (
	"errors"
	"slices"
	"testing"

	"github.com/pion/webrtc/v3"
)

// A newcomer hears joined (listing who is there, with their tracks) before
// anyone else hears of it; then the others hear participant-joined, and
// the existing tracks are on the newcomer's subscribe PC when Join returns.
func TestJoinTellsTheNewcomerFirstThenTheOthers(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	audio := ann.publish(webrtc.RTPCodecTypeAudio, 0)
	video := ann.publish(webrtc.RTPCodecTypeVideo, 1)
	annSaid := ann.heard.count()

	bob := f.join("r", "bob")
	expect(t, "bob", bob.heard, 0, "joined r as "+bob.id+" with ["+ann.id+"]")
	expect(t, "ann", ann.heard, annSaid, "participant-joined "+bob.id)
	if got := bob.heard.joined.Participants[0].Tracks; len(got) != 2 || got[0].ID != audio.id || got[1].ID != video.id {
		t.Fatalf("bob's joined lists ann's tracks as %+v, want audio then video", got)
	}
	if got, want := bob.subFake().trackIDs(), []string{audio.id, video.id}; !slices.Equal(got, want) {
		t.Fatalf("bob's subscribe PC forwards %v, want %v", got, want)
	}
	if got, want := f.obs.lines(), []string{"joined " + ann.id, "joined " + bob.id}; !slices.Equal(got, want) {
		t.Fatalf("observer saw %v, want %v", got, want)
	}
	if len(bob.heard.joined.ICEServers) != 1 || bob.heard.joined.LeaveSecret == "" {
		t.Fatalf("joined carries ICE servers %v and secret %q; want the media's servers and a secret",
			bob.heard.joined.ICEServers, bob.heard.joined.LeaveSecret)
	}
	if rooms, people := f.m.Counts(); rooms != 1 || people != 2 {
		t.Fatalf("Counts = %d rooms, %d participants; want 1, 2", rooms, people)
	}
}

func TestJoinRefusals(t *testing.T) {
	f := newFixture(t, Options{MaxParticipants: 1})
	f.join("r", "ann")

	rec := newRecorder()
	if _, err := f.m.Join("r", "bob", rec); !errors.Is(err, ErrRoomFull) {
		t.Fatalf("join of a full room: %v, want ErrRoomFull", err)
	}
	if n := rec.count(); n != 0 {
		t.Fatalf("a refused joiner was told %v", rec.all())
	}
	refusedSub := f.media.subs[len(f.media.subs)-1]
	if !refusedSub.isClosed() {
		t.Fatal("the refused joiner's peer connections were left open")
	}
	for _, c := range []struct{ room, name string }{{"", "x"}, {"bad room", "x"}, {"r", ""}, {"r", "a\x00b"}} {
		if _, err := f.m.Join(c.room, c.name, newRecorder()); !errors.Is(err, ErrBadRoomName) && !errors.Is(err, ErrBadName) {
			t.Errorf("Join(%q, %q) = %v, want a bad name error", c.room, c.name, err)
		}
	}

	f.media.failPublisher = errors.New("no more ports")
	if _, err := f.m.Join("other", "cat", newRecorder()); err == nil {
		t.Fatal("Join succeeded without a publish PC")
	}
	if sub := f.media.subs[len(f.media.subs)-1]; !sub.isClosed() {
		t.Fatal("a failed publisher left the subscribe PC open")
	}
	if rooms, people := f.m.Counts(); rooms != 1 || people != 1 {
		t.Fatalf("Counts = %d, %d after refusals; want 1, 1", rooms, people)
	}
}

// Someone who may not subscribe gets no tracks forwarded, before or
// after joining; someone who may not publish has its offers refused.
func TestPermissionsBoundForwardingAndPublishing(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	ann.publish(webrtc.RTPCodecTypeAudio, 0)
	viewer := f.joinWith(JoinRequest{Room: "r", Name: "viewer", Permissions: Permissions{Publish: false, Subscribe: false}})
	ann.publish(webrtc.RTPCodecTypeVideo, 1)
	if got := viewer.subFake().trackIDs(); len(got) != 0 {
		t.Fatalf("a participant without subscribe permission receives %v", got)
	}
	if err := viewer.HandleOffer("v=0"); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("offer without publish permission: %v, want ErrPermissionDenied", err)
	}
	if err := viewer.SendChat("hi"); !errors.Is(err, ErrPermissionDenied) {
		t.Fatalf("chat without data permission: %v, want ErrPermissionDenied", err)
	}
}
