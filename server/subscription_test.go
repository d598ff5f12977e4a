package server

import (
	"context"
	"testing"

	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// TestSubscriptionMessages: bad subscriptions get clear errors; one for a
// track the client really receives is accepted without any.
func TestSubscriptionMessages(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	c, _ := h.joined(ctx, "subs", "Viewer")
	pub, jp := h.joined(ctx, "subs", "Camera")
	defer publishMedia(ctx, t, pub, jp.ParticipantID)()
	m, i, err := c.WaitFor(ctx, 0, func(m testclient.Message) bool {
		var tp signal.TrackPublished
		return m.Type == signal.TypeTrackPublished && m.Decode(&tp) == nil && tp.Track.Kind == "video"
	})
	if err != nil {
		t.Fatal(err)
	}
	// The track is the subscriber's once the server offers it.
	if _, _, err := c.WaitType(ctx, i, signal.TypeOffer); err != nil {
		t.Fatal(err)
	}
	var published signal.TrackPublished
	if err := m.Decode(&published); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		msg  signal.Subscription
		code string // "" means accepted
	}{
		{"missing track", signal.Subscription{Width: 320, Height: 180}, signal.CodeBadMessage},
		{"negative size", signal.Subscription{Track: published.Track.ID, Width: -1, Height: 180}, signal.CodeBadMessage},
		{"huge size", signal.Subscription{Track: published.Track.ID, Width: 1 << 20, Height: 180}, signal.CodeBadMessage},
		{"unknown track", signal.Subscription{Track: "t_nope", Width: 320, Height: 180}, signal.CodeUnknownTrack},
		{"real track", signal.Subscription{Track: published.Track.ID, Width: 320, Height: 180}, ""},
		{"limit lifted", signal.Subscription{Track: published.Track.ID}, ""},
	}
	for _, tc := range cases {
		from := len(c.Messages())
		tc.msg.Type = signal.TypeSubscription
		if err := c.Send(tc.msg); err != nil {
			t.Fatal(err)
		}
		want := tc.code
		if want == "" {
			// Accepted requests are not answered: a bad one sent right after
			// must be the first error to come back.
			if err := c.Send(signal.Subscription{Type: signal.TypeSubscription}); err != nil {
				t.Fatal(err)
			}
			want = signal.CodeBadMessage
		}
		m, _, err := c.WaitType(ctx, from, signal.TypeError)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var e signal.Error
		if err := m.Decode(&e); err != nil || e.Code != want || e.Ref != signal.TypeSubscription {
			t.Errorf("%s: got %s, want code %s", tc.name, m.Raw, want)
		}
	}
}
