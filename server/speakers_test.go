package server

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// sendLevels writes an audio packet every 20 ms, as Opus does, carrying
// the audio level that level returns for the time since start, until ctx
// ends.
func sendLevels(ctx context.Context, wg *sync.WaitGroup, t *testing.T, tracks testclient.Tracks, level func(since time.Duration) uint8) {
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		start := time.Now()
		for seq := 0; ; seq++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			hdr := rtp.Header{Version: 2, SequenceNumber: uint16(seq), Timestamp: uint32(seq * 960)}
			if err := tracks.SetAudioLevel(&hdr, level(time.Since(start))); err != nil {
				t.Error(err)
				return
			}
			_ = tracks.Audio.WriteRTP(&rtp.Packet{Header: hdr, Payload: []byte{0xf8, 0xff, 0xfe}})
		}
	}()
}

type speakerEvent struct {
	at  time.Time
	ids []string
}

// TestActiveSpeakersReachTheOthersRateLimited: a publisher who is loud is
// announced to the others and a silent one never is; while the loud one
// flickers every 200 ms the room hears changes at most every 300 ms and
// never the same list twice in a row; silence ends with an empty list.
func TestActiveSpeakersReachTheOthersRateLimited(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	loud, jl := h.joined(ctx, "main", "Loud")
	quiet, jq := h.joined(ctx, "main", "Quiet")
	listener, _ := h.joined(ctx, "main", "Listener")

	// Loud: 600 ms loud, then 2 s flickering loud/silent every 200 ms —
	// faster than the rate limit, slower than the smoothing — then silent.
	const steady, flicker = 600 * time.Millisecond, 2 * time.Second
	loudLevel := func(since time.Duration) uint8 {
		switch {
		case since < steady:
			return 10
		case since < steady+flicker && (since/(200*time.Millisecond))%2 == 0:
			return 10
		}
		return 127
	}
	var wg sync.WaitGroup
	sendCtx, stop := context.WithCancel(ctx)
	defer func() { stop(); wg.Wait() }()
	quietTracks, err := quiet.Publish(ctx, jq.ParticipantID)
	if err != nil {
		t.Fatal(err)
	}
	sendLevels(sendCtx, &wg, t, quietTracks, func(time.Duration) uint8 { return 127 })
	loudTracks, err := loud.Publish(ctx, jl.ParticipantID)
	if err != nil {
		t.Fatal(err)
	}
	if loudTracks.AudioLevelID == 0 {
		t.Fatal("the server did not negotiate the audio level extension")
	}
	start := time.Now()
	sendLevels(sendCtx, &wg, t, loudTracks, loudLevel)

	var events []speakerEvent
	for from := 0; ; {
		m, i, err := listener.WaitType(ctx, from, signal.TypeActiveSpeakers)
		if err != nil {
			t.Fatalf("after %d active-speakers events: %v", len(events), err)
		}
		from = i + 1
		var msg signal.ActiveSpeakers
		if err := m.Decode(&msg); err != nil {
			t.Fatal(err)
		}
		ev := speakerEvent{at: time.Now()}
		for _, s := range msg.Speakers {
			if s.Level <= 0 || s.Level > 1 {
				t.Errorf("speaker level %v out of (0, 1]", s.Level)
			}
			ev.ids = append(ev.ids, s.ParticipantID)
		}
		events = append(events, ev)
		t.Logf("%d: %v", len(events), ev.ids)
		if len(events) == 1 && !slices.Equal(ev.ids, []string{jl.ParticipantID}) {
			t.Fatalf("first active-speakers names %v, want only the loud publisher %s", ev.ids, jl.ParticipantID)
		}
		if slices.Contains(ev.ids, jq.ParticipantID) {
			t.Fatalf("the silent publisher was announced speaking: %v", ev.ids)
		}
		if len(ev.ids) == 0 && ev.at.After(start.Add(steady+flicker)) {
			break // the flicker is over and silence has been announced
		}
	}
	// Delivery can bunch messages a little; the server sends them at least
	// 300 ms apart, so even 200 ms apart here means the limit held
	// (unlimited, the flicker would produce one every 200 ms or less).
	for i := 1; i < len(events); i++ {
		if gap := events[i].at.Sub(events[i-1].at); gap < 200*time.Millisecond {
			t.Errorf("events %d and %d arrived %v apart", i, i+1, gap)
		}
		if slices.Equal(events[i].ids, events[i-1].ids) {
			t.Errorf("events %d and %d both say %v: sent without a change", i, i+1, events[i].ids)
		}
	}
	if len(events) < 4 {
		t.Errorf("%d events over a 2 s flicker; want the changes still reported", len(events))
	}
	if max := int((steady+flicker)/(300*time.Millisecond)) + 2; len(events) > max {
		t.Errorf("%d events, more than the rate limit allows (%d)", len(events), max)
	}
	// The publishers themselves hear the same events.
	if _, _, err := loud.WaitType(ctx, 0, signal.TypeActiveSpeakers); err != nil {
		t.Fatalf("the speaker did not hear active-speakers: %v", err)
	}
}
