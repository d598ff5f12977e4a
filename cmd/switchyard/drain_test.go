package main

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// TestSIGTERMWithDrainTimeout runs the binary with shutdown.drain_timeout
// set and checks the three ways a drain ends.
func TestSIGTERMWithDrainTimeout(t *testing.T) {
	bin := binary(t) // built once for the subtests

	t.Run("exits once the rooms are empty", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		logPath := filepath.Join(t.TempDir(), "sessions.jsonl")
		p := start(t, bin, logPath, "--shutdown.drain_timeout=1m")
		ann := joinClient(ctx, t, p, "r", "Ann")
		bob := joinClient(ctx, t, p, "r", "Bob")
		late := dialClient(ctx, t, p)
		if got := ready(ctx, t, p); got != http.StatusOK {
			t.Fatalf("/readyz = %d, want 200", got)
		}

		signalAndWait(ctx, t, p, ann, bob, late)
		if got := ready(ctx, t, p); got != http.StatusServiceUnavailable {
			t.Fatalf("/readyz while draining = %d, want 503", got)
		}
		_, err := late.JoinToken(ctx, "r", "Late", "")
		var refused *testclient.RefusedError
		if !errors.As(err, &refused) || refused.Code != signal.CodeDraining {
			t.Fatalf("join while draining: %v, want %s", err, signal.CodeDraining)
		}
		start := time.Now()
		for _, c := range []*testclient.Client{ann, bob} {
			if err := c.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
				t.Fatal(err)
			}
		}
		waitExit(t, p, 10*time.Second)
		t.Logf("last leave to exit: %v", time.Since(start))
		if s := summarize(t, logPath); s.Joins != 2 || s.LeavesByReason["leave"] != 2 || s.Current != 0 {
			t.Fatalf("log summary %+v, want 2 joins and 2 leaves", s)
		}
	})

	t.Run("closes the rest at the deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		logPath := filepath.Join(t.TempDir(), "sessions.jsonl")
		p := start(t, bin, logPath, "--shutdown.drain_timeout=1s")
		ann := joinClient(ctx, t, p, "r", "Ann")
		start := time.Now()
		signalAndWait(ctx, t, p, ann)
		waitLeftShutdown(ctx, t, ann)
		waitExit(t, p, 10*time.Second)
		if took := time.Since(start); took < time.Second {
			t.Fatalf("exited %v after SIGTERM, before the 1 s drain deadline", took)
		}
		t.Logf("SIGTERM to exit with a 1 s drain: %v", time.Since(start))
	})

	t.Run("a second signal stops at once", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		logPath := filepath.Join(t.TempDir(), "sessions.jsonl")
		p := start(t, bin, logPath, "--shutdown.drain_timeout=1h")
		ann := joinClient(ctx, t, p, "r", "Ann")
		signalAndWait(ctx, t, p, ann)
		start := time.Now()
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		waitLeftShutdown(ctx, t, ann)
		waitExit(t, p, 5*time.Second)
		t.Logf("second SIGTERM to exit: %v", time.Since(start))
	})
}

func dialClient(ctx context.Context, t *testing.T, p *process) *testclient.Client {
	t.Helper()
	api, err := testclient.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	c, err := testclient.Dial(ctx, api, "ws://"+p.addr+"/v1/rtc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func ready(ctx context.Context, t *testing.T, p *process) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+p.addr+"/readyz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// signalAndWait sends SIGTERM and waits until every client heard
// server-draining.
func signalAndWait(ctx context.Context, t *testing.T, p *process, clients ...*testclient.Client) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, c := range clients {
		if _, _, err := c.WaitType(ctx, 0, signal.TypeServerDraining); err != nil {
			t.Fatal(err)
		}
	}
}

func waitLeftShutdown(ctx context.Context, t *testing.T, c *testclient.Client) {
	t.Helper()
	m, _, err := c.WaitType(ctx, 0, signal.TypeLeft)
	if err != nil || !strings.Contains(string(m.Raw), "server-shutdown") {
		t.Fatalf("got %s (%v), want left server-shutdown", m.Raw, err)
	}
}

func waitExit(t *testing.T, p *process, limit time.Duration) {
	t.Helper()
	select {
	case err := <-p.exit:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(limit):
		t.Fatalf("still running %v later", limit)
	}
}
