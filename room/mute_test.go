package room

import (
	"errors"
	"testing"

	"github.com/pion/webrtc/v3"
)

// Everyone, the publisher too, hears a mute change once; setting the
// state a track already has tells nobody.
func TestMuteTellsEveryoneOnlyOnChange(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	audio := ann.publish(webrtc.RTPCodecTypeAudio, 0)
	bob := f.join("r", "bob")
	annSaid, bobSaid := ann.heard.count(), bob.heard.count()

	if err := ann.SetTrackMuted(audio.id, true); err != nil {
		t.Fatal(err)
	}
	if err := ann.SetTrackMuted(audio.id, true); err != nil {
		t.Fatal(err)
	}
	if err := ann.SetTrackMuted(audio.id, false); err != nil {
		t.Fatal(err)
	}
	want := []string{"track-muted " + ann.id + " " + audio.id + " true", "track-muted " + ann.id + " " + audio.id + " false"}
	expect(t, "ann", ann.heard, annSaid, want...)
	expect(t, "bob", bob.heard, bobSaid, want...)
	if audio.Muted() {
		t.Fatal("the track is still muted in the media core")
	}
	if err := ann.SetTrackMuted("nope", true); !errors.Is(err, ErrUnknownTrack) {
		t.Fatalf("mute of an unknown track: %v, want ErrUnknownTrack", err)
	}
	if err := bob.SetTrackMuted(audio.id, true); !errors.Is(err, ErrUnknownTrack) {
		t.Fatalf("bob muting ann's track as his own: %v, want ErrUnknownTrack", err)
	}
	ann.Leave(ReasonLeave)
	if err := ann.SetTrackMuted(audio.id, true); !errors.Is(err, ErrLeft) {
		t.Fatalf("mute after leaving: %v, want ErrLeft", err)
	}
}

// A muted track is announced muted to whoever joins later.
func TestJoinedListsMutedTracksAsMuted(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	audio := ann.publish(webrtc.RTPCodecTypeAudio, 0)
	if err := ann.SetTrackMuted(audio.id, true); err != nil {
		t.Fatal(err)
	}
	bob := f.join("r", "bob")
	if tr := bob.heard.joined.Participants[0].Tracks[0]; !tr.Muted {
		t.Fatalf("bob's joined lists %+v, want it muted", tr)
	}
}
