package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/webhooktest"
	"github.com/switchyard-sfu/switchyard/signal"
	"github.com/switchyard-sfu/switchyard/webhook"
)

const hookKey = "webhook-test-key-0123456789abcdef"

// churnPhase joins and leaves n participants, four at a time over four
// rooms, and returns their ids; keep of them stay joined.
func churnPhase(ctx context.Context, t *testing.T, p *process, from, n, keep int) (ids []string) {
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
			mu.Lock()
			ids = append(ids, j.ParticipantID)
			mu.Unlock()
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
	return ids
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

	p := start(t, bin, logPath, flags...)
	ids := churnPhase(ctx, t, p, 0, 50, 0)
	r.Down()
	back := time.AfterFunc(10*time.Second, r.Up) // the outage's length, not a synchronization
	defer back.Stop()
	ids = append(ids, churnPhase(ctx, t, p, 50, 50, 6)...)
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, p, 15*time.Second)
	p = start(t, bin, logPath, flags...)
	ids = append(ids, churnPhase(ctx, t, p, 100, 100, 0)...)
	if len(ids) != 200 {
		t.Fatalf("%d joins, want 200", len(ids))
	}

	// Every join and leave, exactly once after de-duplication.
	joined, left := map[string]int{}, map[string]int{}
	events := r.WaitFor(func(evs []webhook.Event) bool {
		count := map[string]int{}
		for _, ev := range evs {
			count[ev.Type]++
		}
		// The last leave's room_finished follows it.
		return count[webhook.TypeParticipantLeft] >= len(ids) && count[webhook.TypeRoomFinished] >= count[webhook.TypeRoomStarted]
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
	for roomName, list := range webhooktest.CheckOrder(t, events) {
		present := map[string]bool{}
		open := false
		for _, ev := range list {
			switch ev.Type {
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
	if shutdownLeaves != 6 {
		t.Errorf("%d server-shutdown leaves, want the 6 still joined at the restart", shutdownLeaves)
	}
	for _, b := range r.Problems() {
		t.Error(b)
	}
	t.Logf("%d distinct events in %d requests", len(events), r.Attempts())
}
