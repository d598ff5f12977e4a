package server

import (
	"context"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/signal"
	"go.uber.org/zap/zaptest"
)

// activeSections counts m-sections of sdp that still send the stream id.
func activeSections(sdp, streamID string) int {
	n := 0
	for _, section := range regexp.MustCompile(`(?m)^m=`).Split(sdp, -1)[1:] {
		active := regexp.MustCompile(`(?m)^a=(sendonly|sendrecv)\r?$`).MatchString(section)
		if active && regexp.MustCompile(`(?m)^a=msid:`+regexp.QuoteMeta(streamID)+` `).MatchString(section) {
			n++
		}
	}
	return n
}

func TestEveryLeaveCauseIsSeenByTheRoom(t *testing.T) {
	causes := []struct {
		name   string
		leave  func(*testclient.Client) error
		reason room.Reason
	}{
		{"explicit leave", func(c *testclient.Client) error { return c.Send(signal.Leave{Type: signal.TypeLeave}) }, room.ReasonLeave},
		{"websocket closed", (*testclient.Client).CloseSocket, room.ReasonSocketClosed},
		{"websocket dropped", (*testclient.Client).DropSocket, room.ReasonSocketClosed},
		{"pings unanswered", func(c *testclient.Client) error { c.Freeze(); return nil }, room.ReasonPingTimeout},
		{"peer connection closed", (*testclient.Client).ClosePeers, room.ReasonPCFailed},
	}
	var mu sync.Mutex
	latency := map[string]time.Duration{}
	t.Cleanup(func() {
		t.Log("leave propagation, cause applied → participant-left at the other client:")
		for _, c := range causes {
			if d, ok := latency[c.name]; ok {
				t.Logf("  %-24s %-14s %8.1f ms", c.name, c.reason, float64(d.Microseconds())/1000)
			}
		}
	})
	for _, cause := range causes {
		t.Run(cause.name, func(t *testing.T) {
			t.Parallel()
			// A client that closed its PCs cannot answer the ICE restarts
			// tried before pc-failed (icerestart_test.go); a short limit
			// keeps that case inside waitLimit.
			h := startServerWith(t, testConfig(), Options{Log: zaptest.NewLogger(t), iceRestartLimit: time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()

			a, ja := h.joined(ctx, "main", "Ann")
			b, jb := h.joined(ctx, "main", "Bob")
			defer publishMedia(ctx, t, a, ja.ParticipantID)()
			collect(ctx, t, jb.ParticipantID, b, atLeast(5, ja.ParticipantID))
			if n := activeSections(b.SubscribeSDP(), ja.ParticipantID); n != 2 {
				t.Fatalf("B's subscribe PC carries %d of A's tracks, want 2", n)
			}

			from := len(b.Messages())
			start := time.Now()
			if err := cause.leave(a); err != nil {
				t.Fatal(err)
			}
			left, leftAt, err := b.WaitType(ctx, from, signal.TypeParticipantLeft)
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(start)
			var msg signal.ParticipantLeft
			if err := left.Decode(&msg); err != nil || msg.ParticipantID != ja.ParticipantID || msg.Reason != string(cause.reason) {
				t.Fatalf("participant-left = %s, want %s with reason %s", left.Raw, ja.ParticipantID, cause.reason)
			}
			// Both tracks were withdrawn before the participant-left.
			unpublished := 0
			for _, m := range b.Messages()[from:leftAt] {
				if m.Type == signal.TypeTrackUnpublished {
					unpublished++
				}
			}
			if unpublished != 2 {
				t.Fatalf("%d track-unpublished before participant-left, want 2", unpublished)
			}
			// Then B's subscribe PC is renegotiated without A's tracks.
			for {
				// The client records an offer only after applying it, so
				// counting first cannot miss the renegotiation.
				seen := len(b.Messages())
				if activeSections(b.SubscribeSDP(), ja.ParticipantID) == 0 {
					break
				}
				if _, _, err := b.WaitType(ctx, seen, signal.TypeOffer); err != nil {
					t.Fatalf("B's subscribe PC still carries A's tracks: %v", err)
				}
			}
			event, err := h.recorder.waitLeft(ctx, ja.ParticipantID)
			if err != nil {
				t.Fatal(err)
			}
			if event.Reason != cause.reason {
				t.Fatalf("observer saw reason %s, want %s", event.Reason, cause.reason)
			}
			if _, participants := h.srv.Rooms().Counts(); participants != 1 {
				t.Fatalf("server counts %d participants, want 1", participants)
			}
			mu.Lock()
			latency[cause.name] = took
			mu.Unlock()
		})
	}
}
