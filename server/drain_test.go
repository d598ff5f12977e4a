package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/signal"
)

func (h *harness) readyStatus(ctx context.Context) int {
	h.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+h.srv.Addr().String()+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode
}

// startDrain runs Drain with the given limit in the background; the
// channel gets its result.
func (h *harness) startDrain(limit time.Duration) (<-chan error, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	done := make(chan error, 1)
	go func() { done <- h.srv.Drain(ctx) }()
	h.t.Cleanup(cancel)
	return done, cancel
}

// waitDraining waits for c's server-draining message and checks its deadline.
func waitDraining(ctx context.Context, t *testing.T, c *testclient.Client, within time.Duration) {
	t.Helper()
	m, _, err := c.WaitType(ctx, 0, signal.TypeServerDraining)
	if err != nil {
		t.Fatal(err)
	}
	var msg signal.ServerDraining
	if err := m.Decode(&msg); err != nil {
		t.Fatal(err)
	}
	if until := time.Until(msg.Deadline); until <= 0 || until > within || msg.DeadlineMS <= 0 || msg.DeadlineMS > within.Milliseconds() {
		t.Fatalf("server-draining %s: deadline not within %s from now", m.Raw, within)
	}
}

func TestDrainRefusesJoinsTellsEveryoneAndEndsWhenRoomsEmpty(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ann, _ := h.joined(ctx, "r", "Ann")
	bob, _ := h.joined(ctx, "r", "Bob")
	idle := h.dial(ctx) // connected, not joined: told too, and refused
	if got := h.readyStatus(ctx); got != http.StatusOK {
		t.Fatalf("/readyz = %d before draining, want 200", got)
	}

	done, _ := h.startDrain(time.Minute)
	for _, c := range []*testclient.Client{ann, bob, idle} {
		waitDraining(ctx, t, c, time.Minute)
	}
	if got := h.readyStatus(ctx); got != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d while draining, want 503", got)
	}
	_, err := idle.JoinToken(ctx, "r", "Carl", "")
	var refused *testclient.RefusedError
	if !errors.As(err, &refused) || refused.Code != signal.CodeDraining {
		t.Fatalf("join while draining: %v, want %s", err, signal.CodeDraining)
	}

	if err := ann.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		t.Fatalf("drain ended (%v) with Bob still in the room", err)
	default:
	}
	if err := bob.CloseSocket(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("drain: %v, want nil once the rooms are empty", err)
		}
	case <-ctx.Done():
		t.Fatal("drain did not end when the last participant left")
	}
}

func TestDrainEndsAtTheDeadlineAndShutdownClosesTheRest(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	stayer, js := h.joined(ctx, "r", "Stayer")

	const limit = 300 * time.Millisecond
	done, _ := h.startDrain(limit)
	waitDraining(ctx, t, stayer, limit)
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("drain: %v, want the deadline", err)
		}
	case <-ctx.Done():
		t.Fatal("drain outlived its deadline")
	}
	if _, n := h.srv.Rooms().Counts(); n != 1 {
		t.Fatalf("%d participants after the drain deadline, want the stayer", n)
	}
	shutdownCtx, stop := context.WithTimeout(ctx, 5*time.Second)
	defer stop()
	if err := h.srv.Shutdown(shutdownCtx); err != nil {
		t.Fatal(err)
	}
	m, _, err := stayer.WaitType(ctx, 0, signal.TypeLeft)
	var left signal.Left
	if err != nil || json.Unmarshal(m.Raw, &left) != nil || left.Reason != string(room.ReasonServerShutdown) {
		t.Fatalf("stayer got %s (%v), want left server-shutdown", m.Raw, err)
	}
	if event, err := h.recorder.waitLeft(ctx, js.ParticipantID); err != nil || event.Reason != room.ReasonServerShutdown {
		t.Fatalf("observer: %+v %v", event, err)
	}
}

func TestDrainCutShortByCancel(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	stayer, _ := h.joined(ctx, "r", "Stayer")
	done, stop := h.startDrain(time.Hour)
	waitDraining(ctx, t, stayer, time.Hour)
	stop() // what a second SIGTERM does
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("drain: %v, want canceled", err)
		}
	case <-ctx.Done():
		t.Fatal("drain ignored the cancel")
	}
}
