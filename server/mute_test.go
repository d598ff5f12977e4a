package server

import (
	"context"
	"testing"

	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// ownTracks waits for the server to tell c the ids of its audio and video
// tracks.
func ownTracks(ctx context.Context, t *testing.T, c *testclient.Client) map[string]signal.Published {
	t.Helper()
	got := map[string]signal.Published{}
	for from := 0; len(got) < 2; {
		m, i, err := c.WaitType(ctx, from, signal.TypePublished)
		if err != nil {
			t.Fatal(err)
		}
		from = i + 1
		var p signal.Published
		if err := m.Decode(&p); err != nil {
			t.Fatal(err)
		}
		got[p.Track.Kind] = p
	}
	return got
}

// waitMuted waits on c for track-muted about track, and checks it.
func waitMuted(ctx context.Context, t *testing.T, c *testclient.Client, from int, publisher, track string, muted bool) int {
	t.Helper()
	m, i, err := c.WaitType(ctx, from, signal.TypeTrackMuted)
	if err != nil {
		t.Fatal(err)
	}
	var tm signal.TrackMuted
	if err := m.Decode(&tm); err != nil {
		t.Fatal(err)
	}
	if tm.ParticipantID != publisher || tm.TrackID != track || tm.Kind != "audio" || tm.Muted != muted {
		t.Fatalf("got %s, want %s's audio %s muted=%v", m.Raw, publisher, track, muted)
	}
	return i
}

// countAudioWhile reads b's packets until it has seen video packets of
// publisher, which keep flowing at 100 a second and serve as the clock,
// and returns how many of its audio packets came meanwhile.
func countAudioWhile(ctx context.Context, t *testing.T, b *testclient.Client, publisher string, videoPackets int) (audio int) {
	t.Helper()
	for video := 0; video < videoPackets; {
		select {
		case <-ctx.Done():
			t.Fatalf("only %d video packets of %s arrived", video, publisher)
		case p := <-b.Packets:
			switch {
			case p.StreamID != publisher:
			case p.Kind == "video":
				video++
			case p.Kind == "audio":
				audio++
			}
		}
	}
	return audio
}

// TestMuteStopsForwardingAndTellsEveryone: a muted audio track is told to
// the room and to its publisher, shows as muted in a late joiner's
// snapshot, and is not forwarded while muted — although this publisher
// keeps sending — then flows again after unmute.
func TestMuteStopsForwardingAndTellsEveryone(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	a, ja := h.joined(ctx, "main", "Ann")
	b, _ := h.joined(ctx, "main", "Bob")
	defer publishMedia(ctx, t, a, ja.ParticipantID)()
	audio := ownTracks(ctx, t, a)["audio"]
	if audio.Track.ID == "" || audio.Mid == "" || audio.Track.Muted {
		t.Fatalf("published %+v, want an unmuted audio track with id and mid", audio)
	}
	collect(ctx, t, "Bob", b, atLeast(20, ja.ParticipantID))

	fromA, fromB := len(a.Messages()), len(b.Messages())
	if err := a.Send(signal.Mute{Type: signal.TypeMute, Track: audio.Track.ID, Muted: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	waitMuted(ctx, t, b, fromB, ja.ParticipantID, audio.Track.ID, true)
	waitMuted(ctx, t, a, fromA, ja.ParticipantID, audio.Track.ID, true)
	// Packets already queued may still arrive for a moment; after that,
	// half a second of video must come with no audio at all.
	countAudioWhile(ctx, t, b, ja.ParticipantID, 20)
	if n := countAudioWhile(ctx, t, b, ja.ParticipantID, 50); n != 0 {
		t.Fatalf("Bob received %d audio packets of a muted track", n)
	}

	// Muting again changes nothing and tells nobody.
	if err := a.Send(signal.Mute{Type: signal.TypeMute, Track: audio.Track.ID, Muted: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	c, jc := h.joined(ctx, "main", "Cid")
	if len(jc.Participants) != 2 || len(jc.Participants[0].Tracks) != 2 {
		t.Fatalf("late joiner's snapshot %+v", jc.Participants)
	}
	for _, tr := range jc.Participants[0].Tracks {
		if tr.Muted != (tr.ID == audio.Track.ID) {
			t.Fatalf("late joiner sees %+v; only the audio track is muted", tr)
		}
	}

	fromB = len(b.Messages())
	if err := a.Send(signal.Mute{Type: signal.TypeMute, Track: audio.Track.ID, Muted: ptr(false)}); err != nil {
		t.Fatal(err)
	}
	i := waitMuted(ctx, t, b, fromB, ja.ParticipantID, audio.Track.ID, false)
	if _, _, err := c.WaitType(ctx, 0, signal.TypeTrackMuted); err != nil {
		t.Fatalf("late joiner did not hear the unmute: %v", err)
	}
	for _, m := range b.Messages()[fromB:i] {
		if m.Type == signal.TypeTrackMuted {
			t.Fatalf("the repeated mute was announced: %s", m.Raw)
		}
	}
	if n := countAudioWhile(ctx, t, b, ja.ParticipantID, 50); n < 20 {
		t.Fatalf("after unmute Bob received %d audio packets in 50 video packets' time", n)
	}

	// Mistakes get errors and the session goes on.
	for _, tc := range []struct {
		msg  any
		code string
	}{
		{signal.Mute{Type: signal.TypeMute, Track: "t_nosuchtrack", Muted: ptr(true)}, signal.CodeUnknownTrack},
		{signal.Mute{Type: signal.TypeMute, Track: audio.Track.ID}, signal.CodeBadMessage},
		{map[string]any{"type": "mute", "track": audio.Track.ID, "muted": "yes"}, signal.CodeBadMessage},
	} {
		expectError(ctx, t, b, tc.msg, tc.code)
	}
	// Bob cannot mute Ann's track: to him it is unknown.
	expectError(ctx, t, b, signal.Mute{Type: signal.TypeMute, Track: audio.Track.ID, Muted: ptr(true)}, signal.CodeUnknownTrack)
	collect(ctx, t, "Bob", b, atLeast(10, ja.ParticipantID))
}

func ptr[T any](v T) *T { return &v }

// expectError sends msg from c and waits for an error with code.
func expectError(ctx context.Context, t *testing.T, c *testclient.Client, msg any, code string) {
	t.Helper()
	from := len(c.Messages())
	if err := c.Send(msg); err != nil {
		t.Fatal(err)
	}
	m, _, err := c.WaitType(ctx, from, signal.TypeError)
	if err != nil {
		t.Fatal(err)
	}
	var e signal.Error
	if err := m.Decode(&e); err != nil || e.Code != code {
		t.Fatalf("sent %+v, got %s, want code %s", msg, m.Raw, code)
	}
}
