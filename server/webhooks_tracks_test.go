package server

import (
	"context"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/internal/webhooktest"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"github.com/switchyard-sfu/switchyard/signal"
	"github.com/switchyard-sfu/switchyard/webhook"
)

// TestTrackEventsAreLoggedBeforeToldAndDelivered: a publisher's tracks are
// in the session log by the time it hears "published"; one it ends (RTCP
// BYE) and the one its leave ends both reach the webhook receiver, in
// order, before its participant_left.
func TestTrackEventsAreLoggedBeforeToldAndDelivered(t *testing.T) {
	r := webhooktest.New(t, []byte(testHookKey), 0)
	cfg := webhookConfig(t, r.URL())
	h := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	ann, _ := h.joined(ctx, "tracks", "Ann")
	bob, jb := h.joined(ctx, "tracks", "Bob")
	stop := publishMedia(ctx, t, bob, jb.ParticipantID)
	defer stop()
	own := ownTracks(ctx, t, bob)

	// Durable before told: both records are on disk already.
	records, _, err := sessionlog.ReadFile(cfg.SessionLog.Path)
	if err != nil {
		t.Fatal(err)
	}
	logged := map[string]*sessionlog.Track{}
	for _, rec := range records {
		if rec.Event == sessionlog.EventTrackPublished && rec.ParticipantID == jb.ParticipantID {
			logged[rec.Track.Kind] = rec.Track
		}
	}
	for kind, p := range own {
		if lt := logged[kind]; lt == nil || lt.ID != p.Track.ID || lt.Mime == "" {
			t.Fatalf("Bob was told of his %s track %s but the log has %+v", kind, p.Track.ID, lt)
		}
	}

	if err := bob.Unpublish(webrtc.RTPCodecTypeAudio); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ann.WaitFor(ctx, 0, func(m testclient.Message) bool {
		var u signal.TrackUnpublished
		return m.Type == signal.TypeTrackUnpublished && m.Decode(&u) == nil && u.TrackID == own["audio"].Track.ID
	}); err != nil {
		t.Fatal(err)
	}
	if err := bob.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := waitParticipantLeft(ctx, ann, jb.ParticipantID); err != nil {
		t.Fatal(err)
	}

	events := r.WaitFor(func(evs []webhook.Event) bool {
		for _, ev := range evs {
			if ev.Type == webhook.TypeParticipantLeft && ev.Participant.ID == jb.ParticipantID {
				return true
			}
		}
		return false
	}, 20*time.Second)
	for _, p := range r.Problems() {
		t.Error(p)
	}
	webhooktest.CheckOrder(t, events)
	type step struct{ typ, kind, reason string }
	var bobs []step
	for _, ev := range events {
		if ev.Participant == nil || ev.Participant.ID != jb.ParticipantID || ev.Type == webhook.TypeParticipantJoined {
			continue
		}
		s := step{typ: ev.Type, reason: ev.Reason}
		if ev.Track != nil {
			s.kind = ev.Track.Kind
			if ev.Track.ID != own[s.kind].Track.ID || ev.Track.Mime != own[s.kind].Track.Codec || len(ev.Track.Layers) != 0 {
				t.Errorf("%s event for %+v, want track %+v", ev.Type, ev.Track, own[s.kind].Track)
			}
		}
		bobs = append(bobs, s)
	}
	// Published in arrival order (either kind first), then the BYE, then
	// the leave's own unpublish and the leave.
	if len(bobs) != 5 || bobs[0].typ != webhook.TypeTrackPublished || bobs[1].typ != webhook.TypeTrackPublished || bobs[0].kind == bobs[1].kind ||
		bobs[2] != (step{webhook.TypeTrackUnpublished, "audio", ""}) ||
		bobs[3] != (step{webhook.TypeTrackUnpublished, "video", "leave"}) ||
		bobs[4] != (step{webhook.TypeParticipantLeft, "", "leave"}) {
		t.Fatalf("Bob's events: %+v", bobs)
	}
	s := sessionlog.Summarize(mustRead(t, cfg.SessionLog.Path), sessionlog.SummaryOptions{})
	if s.Joins != 2 || s.Leaves != 1 || s.Current != 1 || s.TracksPublished != 2 || s.TracksUnpublished != 1 || s.UnknownEvents != 0 {
		t.Fatalf("summary: joins %d leaves %d current %d tracks %d/%d unknown %d; want 2 1 1 2/1 0",
			s.Joins, s.Leaves, s.Current, s.TracksPublished, s.TracksUnpublished, s.UnknownEvents)
	}
}

func mustRead(t *testing.T, path string) []sessionlog.Record {
	t.Helper()
	records, _, err := sessionlog.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return records
}
