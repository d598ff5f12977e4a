package server

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
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
// announced to the others and a silent one never is. The loud one turns
// silent as soon as it hears it is speaking and loud again as soon as it
// hears it is not: unlimited, the room would hear a change about every
// 200 ms (the smoothing's two samples); it hears one at most every 300 ms,
// and never the same list twice in a row.
func TestActiveSpeakersReachTheOthersRateLimited(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	loud, jl := h.joined(ctx, "main", "Loud")
	quiet, jq := h.joined(ctx, "main", "Quiet")
	listener, _ := h.joined(ctx, "main", "Listener")

	var isLoud atomic.Bool
	isLoud.Store(true)
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
	sendLevels(sendCtx, &wg, t, loudTracks, func(time.Duration) uint8 {
		if isLoud.Load() {
			return 10
		}
		return 127
	})

	const changes = 8
	var events []speakerEvent
	from := 0
	for i := range changes {
		want := []string{}
		if i%2 == 0 {
			want = []string{jl.ParticipantID}
		}
		// A starved sender may flicker on its own; skip to the awaited state.
		for {
			m, at, err := listener.WaitType(ctx, from, signal.TypeActiveSpeakers)
			if err != nil {
				t.Fatalf("after %d active-speakers events: %v", len(events), err)
			}
			from = at + 1
			var msg signal.ActiveSpeakers
			if err := m.Decode(&msg); err != nil {
				t.Fatal(err)
			}
			ev := speakerEvent{at: time.Now(), ids: []string{}}
			for _, s := range msg.Speakers {
				if s.Level <= 0 || s.Level > 1 {
					t.Errorf("speaker level %v out of (0, 1]", s.Level)
				}
				ev.ids = append(ev.ids, s.ParticipantID)
			}
			if slices.Contains(ev.ids, jq.ParticipantID) {
				t.Fatalf("the silent publisher was announced speaking: %v", ev.ids)
			}
			events = append(events, ev)
			if slices.Equal(ev.ids, want) {
				break
			}
		}
		isLoud.Store(i%2 == 1)
	}
	for i := 1; i < len(events); i++ {
		if slices.Equal(events[i].ids, events[i-1].ids) {
			t.Errorf("events %d and %d both say %v: sent without a change", i, i+1, events[i].ids)
		}
		// Delivery can bunch two messages a little, never by 150 ms.
		if gap := events[i].at.Sub(events[i-1].at); gap < 150*time.Millisecond {
			t.Errorf("events %d and %d arrived %v apart", i, i+1, gap)
		}
	}
	// On average, where delivery jitter cancels out, the limit must hold.
	mean := events[len(events)-1].at.Sub(events[0].at) / time.Duration(len(events)-1)
	t.Logf("%d events, %v apart on average", len(events), mean)
	if mean < 280*time.Millisecond {
		t.Errorf("events came %v apart on average; the limit is 300 ms", mean)
	}
	// The publishers themselves hear the same events.
	if _, _, err := loud.WaitType(ctx, 0, signal.TypeActiveSpeakers); err != nil {
		t.Fatalf("the speaker did not hear active-speakers: %v", err)
	}
}
