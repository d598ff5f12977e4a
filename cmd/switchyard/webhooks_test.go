package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/internal/webhooktest"
	"github.com/switchyard-sfu/switchyard/signal"
	"github.com/switchyard-sfu/switchyard/webhook"
)

const hookKey = "webhook-test-key-0123456789abcdef"

// publishUntilTold publishes audio and video from c, sending packets
// until stop, and returns once the server has told c both are published
// (so both are in the session log).
func publishUntilTold(ctx context.Context, c *testclient.Client, id string) (stop func(), err error) {
	tracks, err := c.Publish(ctx, id)
	if err != nil {
		return nil, err
	}
	sendCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for seq := 0; sendCtx.Err() == nil; seq++ {
			hdr := rtp.Header{Version: 2, SequenceNumber: uint16(seq), Timestamp: uint32(seq * 960), Marker: true}
			_ = tracks.Audio.WriteRTP(&rtp.Packet{Header: hdr, Payload: []byte{0xf8, 0xff, 0xfe}})
			_ = tracks.Video.WriteRTP(&rtp.Packet{Header: hdr, Payload: []byte{0x10, 0, 0, 0}})
			select {
			case <-sendCtx.Done():
			case <-tick.C:
			}
		}
	}()
	stop = func() { cancel(); <-done }
	for from, told := 0, 0; told < 2; told++ {
		_, i, err := c.WaitType(ctx, from, signal.TypePublished)
		if err != nil {
			stop()
			return nil, err
		}
		from = i + 1
	}
	return stop, nil
}

// churnPhase joins and leaves n participants, four at a time over four
// rooms, and returns their ids; keep of them stay joined. Every fifth
// publishes audio and video; of those, every other one ends its audio
// (RTCP BYE) before leaving, the rest leave with both tracks.
func churnPhase(ctx context.Context, t *testing.T, p *process, from, n, keep int) (ids []string, publishers int) {
	t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	slots := make(chan struct{}, 4)
	for i := from; i < from+n; i++ {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			c := dialClient(ctx, t, p)
			j, err := c.Join(ctx, fmt.Sprintf("room%d", i%4), fmt.Sprintf("Guest%d", i))
			if err != nil {
				t.Error(err)
				return
			}
			publishes := i%5 == 0
			mu.Lock()
			ids = append(ids, j.ParticipantID)
			if publishes {
				publishers++
			}
			mu.Unlock()
			if publishes {
				stop, err := publishUntilTold(ctx, c, j.ParticipantID)
				if err != nil {
					t.Error(err)
					return
				}
				t.Cleanup(stop)
				if i%10 == 0 {
					if err := c.Unpublish(webrtc.RTPCodecTypeAudio); err != nil {
						t.Error(err)
					}
				}
			}
			if i >= from+n-keep {
				return // still joined when the server restarts
			}
			if err := c.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
				t.Error(err)
				return
			}
			if _, _, err := c.WaitType(ctx, 0, signal.TypeLeft); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	return ids, publishers
}

// TestWebhooksDeliverEveryEventOnceThroughFailuresOutageAndRestart runs
// the real binary: 200 joins and leaves, a receiver failing 30 % of
// requests and down for 10 s in the middle, and the server restarted once
// with participants still in their rooms.
func TestWebhooksDeliverEveryEventOnceThroughFailuresOutageAndRestart(t *testing.T) {
	bin := binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	r := webhooktest.New(t, []byte(hookKey), 0.3)
	logPath := filepath.Join(t.TempDir(), "sessions.jsonl")
	flags := []string{"--webhooks.urls", r.URL(), "--webhooks.key", hookKey, "--webhooks.min_backoff", "20ms", "--webhooks.max_backoff", "1s"}

	var ids []string
	publishers := 0
	phase := func(p *process, from, n, keep int) {
		more, pubs := churnPhase(ctx, t, p, from, n, keep)
		ids, publishers = append(ids, more...), publishers+pubs
	}
	p := start(t, bin, logPath, flags...)
	phase(p, 0, 50, 0)
	r.Down()
	back := time.AfterFunc(10*time.Second, r.Up) // the outage's length, not a synchronization
	defer back.Stop()
	phase(p, 50, 50, 10) // keeps 90..99, of which 90 and 95 publish
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, p, 15*time.Second)
	p = start(t, bin, logPath, flags...)
	phase(p, 100, 100, 0)
	if len(ids) != 200 || publishers != 40 {
		t.Fatalf("%d joins and %d publishers, want 200 and 40", len(ids), publishers)
	}

	// Every join and leave, exactly once after de-duplication.
	joined, left := map[string]int{}, map[string]int{}
	events := r.WaitFor(func(evs []webhook.Event) bool {
		count := map[string]int{}
		for _, ev := range evs {
			count[ev.Type]++
		}
		// The last leave's room_finished follows it.
		return count[webhook.TypeParticipantLeft] >= len(ids) && count[webhook.TypeRoomFinished] >= count[webhook.TypeRoomStarted] &&
			count[webhook.TypeTrackPublished] >= 2*publishers && count[webhook.TypeTrackUnpublished] >= count[webhook.TypeTrackPublished]
	}, 90*time.Second)
	for _, ev := range events {
		switch ev.Type {
		case webhook.TypeParticipantJoined:
			joined[ev.Participant.ID]++
		case webhook.TypeParticipantLeft:
			left[ev.Participant.ID]++
		}
	}
	for _, id := range ids {
		if joined[id] != 1 || left[id] != 1 {
			t.Errorf("%s: joined %d times, left %d times; want once each", id, joined[id], left[id])
		}
	}
	if len(joined) != len(ids) || len(left) != len(ids) {
		t.Errorf("%d participants joined and %d left in the events, want %d", len(joined), len(left), len(ids))
	}
	// In order per room, consistent with itself: a room starts only when
	// empty and finishes exactly when it empties.
	// Every track published once and unpublished once, by an id the
	// server never reuses.
	published, unpublished := map[string]int{}, map[string]int{}
	for _, ev := range events {
		switch ev.Type {
		case webhook.TypeTrackPublished:
			published[ev.Track.ID]++
		case webhook.TypeTrackUnpublished:
			unpublished[ev.Track.ID]++
		}
	}
	if len(published) != 2*publishers {
		t.Errorf("%d tracks published in the events, want %d", len(published), 2*publishers)
	}
	for id, n := range published {
		if n != 1 || unpublished[id] != 1 {
			t.Errorf("track %s: published %d times, unpublished %d times; want once each", id, n, unpublished[id])
		}
	}
	for roomName, list := range webhooktest.CheckOrder(t, events) {
		present := map[string]bool{}
		tracks := map[string]string{} // open track id -> participant
		open := false
		for _, ev := range list {
			switch ev.Type {
			case webhook.TypeTrackPublished:
				if !present[ev.Participant.ID] || tracks[ev.Track.ID] != "" {
					t.Fatalf("room %s: track %s published by %s, who is not present, or twice", roomName, ev.Track.ID, ev.Participant.ID)
				}
				tracks[ev.Track.ID] = ev.Participant.ID
			case webhook.TypeTrackUnpublished:
				if tracks[ev.Track.ID] != ev.Participant.ID {
					t.Fatalf("room %s: track %s unpublished by %s, not open", roomName, ev.Track.ID, ev.Participant.ID)
				}
				delete(tracks, ev.Track.ID)
			case webhook.TypeRoomStarted:
				if open || len(present) > 0 {
					t.Fatalf("room %s started while open: seq %d", roomName, ev.Seq)
				}
				open = true
			case webhook.TypeRoomFinished:
				if !open || len(present) > 0 {
					t.Fatalf("room %s finished while not empty: seq %d", roomName, ev.Seq)
				}
				open = false
			case webhook.TypeParticipantJoined:
				present[ev.Participant.ID] = true
			case webhook.TypeParticipantLeft:
				if !present[ev.Participant.ID] {
					t.Fatalf("room %s: %s left without joining", roomName, ev.Participant.ID)
				}
				for id, who := range tracks {
					if who == ev.Participant.ID {
						t.Fatalf("room %s: %s left with track %s still published", roomName, who, id)
					}
				}
				delete(present, ev.Participant.ID)
			}
		}
		if open || len(present) > 0 {
			t.Errorf("room %s still open at the end", roomName)
		}
	}
	shutdownLeaves := 0
	for _, ev := range events {
		if ev.Type == webhook.TypeParticipantLeft && ev.Reason == "server-shutdown" {
			shutdownLeaves++
		}
	}
	if shutdownLeaves != 10 {
		t.Errorf("%d server-shutdown leaves, want the 10 still joined at the restart", shutdownLeaves)
	}
	for _, b := range r.Problems() {
		t.Error(b)
	}
	t.Logf("%d distinct events in %d requests", len(events), r.Attempts())
}
