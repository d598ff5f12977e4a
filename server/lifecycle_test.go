package server

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/cpulock"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if endpoint := os.Getenv(whipChildEnv); endpoint != "" { // whip_test.go: a publisher to kill
		os.Exit(runWHIPChild(endpoint))
	}
	// These tests measure leave latencies and run the CPU-heavy presence
	// test: keep the browser tests from running alongside. The lock goes
	// with the process when VerifyTestMain exits.
	if _, err := cpulock.Acquire(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m)
}

func TestJoinLeaveCyclesLeaveNoGoroutinesBehind(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	watcher, _ := h.joined(ctx, "main", "Watcher")
	baseline := goleak.IgnoreCurrent()

	const cycles, parallel = 100, 5
	var wg sync.WaitGroup
	errs := make(chan error, cycles)
	slots := make(chan struct{}, parallel)
	for i := range cycles {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			errs <- h.cycle(ctx, fmt.Sprintf("Guest%d", i), i%2 == 0)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if rooms, participants := h.srv.Rooms().Counts(); rooms != 1 || participants != 1 {
		t.Fatalf("after %d cycles: %d rooms, %d participants; want only the watcher", cycles, rooms, participants)
	}
	left := 0
	for _, m := range watcher.Messages() {
		if m.Type == signal.TypeParticipantLeft {
			left++
		}
	}
	if left != cycles {
		t.Fatalf("watcher saw %d participant-left, want %d", left, cycles)
	}
	// Everything the guests started on both sides must be gone: the
	// server's per-participant goroutines and the clients' own.
	// Peer connections close in the background; wait for that first.
	if err := h.srv.Rooms().WaitPeersClosed(ctx); err != nil {
		t.Fatal(err)
	}
	goleak.VerifyNone(t, baseline)
}

// cycle joins, publishes media (when publish is set) and leaves, closing
// the client afterwards.
func (h *harness) cycle(ctx context.Context, name string, publish bool) error {
	c, err := testclient.Dial(ctx, h.api, h.url)
	if err != nil {
		return err
	}
	defer c.Close()
	j, err := c.Join(ctx, "main", name)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	sendCtx, stop := context.WithCancel(ctx)
	defer func() { stop(); wg.Wait() }()
	if publish {
		tracks, err := c.Publish(ctx, j.ParticipantID)
		if err != nil {
			return err
		}
		sendMedia(sendCtx, &wg, j.ParticipantID, tracks)
	}
	from := len(c.Messages())
	if err := c.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
		return err
	}
	_, _, err = c.WaitType(ctx, from, signal.TypeLeft)
	return err
}

func TestShutdownTellsEveryoneAndClosesSockets(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	a, _ := h.joined(ctx, "one", "Ann")
	b, _ := h.joined(ctx, "two", "Bob")
	idle := h.dial(ctx) // connected, never joined

	shutdownCtx, cancelShutdown := context.WithTimeout(ctx, 5*time.Second)
	defer cancelShutdown()
	start := time.Now()
	if err := h.srv.Shutdown(shutdownCtx); err != nil {
		buf := make([]byte, 1<<20)
		t.Fatalf("shutdown: %v\n%s", err, buf[:runtime.Stack(buf, true)])
	}
	t.Logf("shutdown with 2 participants took %v", time.Since(start))
	for name, c := range map[string]*testclient.Client{"Ann": a, "Bob": b} {
		m, _, err := c.WaitType(ctx, 0, signal.TypeLeft)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var left signal.Left
		if err := m.Decode(&left); err != nil || left.Reason != "server-shutdown" {
			t.Fatalf("%s got %s, want reason server-shutdown", name, m.Raw)
		}
		if _, _, err := c.WaitType(ctx, 0, "socket-closed"); err != nil {
			t.Fatalf("%s: socket not closed: %v", name, err)
		}
	}
	if _, _, err := idle.WaitType(ctx, 0, "socket-closed"); err != nil {
		t.Fatalf("idle socket not closed: %v", err)
	}
}
