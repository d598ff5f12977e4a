package server

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/internal/webhooktest"
	"github.com/switchyard-sfu/switchyard/signal"
)

const testHookKey = "server-webhook-test-key-0123456789"

func webhookConfig(t *testing.T, urls ...string) config.Config {
	cfg := testConfig()
	cfg.SessionLog.Path = filepath.Join(t.TempDir(), "sessions.jsonl")
	cfg.Webhooks.URLs, cfg.Webhooks.Key = urls, testHookKey
	cfg.Webhooks.Timeout = 2 * time.Second
	return cfg
}

// joinLeaveLatencies joins and leaves n participants one after another
// beside a watcher, timing join (dial done to joined) and leave (leave
// sent to the watcher hearing participant-left).
func joinLeaveLatencies(ctx context.Context, t *testing.T, h *harness, n int) (joins, leaves []time.Duration) {
	t.Helper()
	w, _ := h.joined(ctx, "churn", "Watcher")
	for i := range n {
		c := h.dial(ctx)
		start := time.Now()
		j, err := c.Join(ctx, "churn", fmt.Sprintf("Guest%d", i))
		if err != nil {
			t.Fatal(err)
		}
		joins = append(joins, time.Since(start))
		start = time.Now()
		if err := c.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := waitParticipantLeft(ctx, w, j.ParticipantID); err != nil {
			t.Fatal(err)
		}
		leaves = append(leaves, time.Since(start))
		c.Close()
	}
	return joins, leaves
}

func percentile(d []time.Duration, p float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func TestWebhookDeliveryLatencyWithAHealthyReceiver(t *testing.T) {
	r := webhooktest.New(t, []byte(testHookKey), 0)
	h := startServer(t, webhookConfig(t, r.URL()))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const n = 40
	joinLeaveLatencies(ctx, t, h, n)
	// started and joined for the watcher, then joined and left for each guest.
	r.Wait(2+2*n, 20*time.Second)
	if p := r.Problems(); len(p) > 0 {
		t.Fatal(p)
	}
	lat := r.Latencies()
	t.Logf("webhook delivery latency (event time to receipt) over %d events: p50 %v, p99 %v, max %v",
		len(lat), percentile(lat, 0.5), percentile(lat, 0.99), slices.Max(lat))
}

// TestDeadWebhookReceiverDoesNotSlowJoinsOrLeaves compares join and leave
// latency with no webhooks and with a receiver that accepts connections
// and never answers.
func TestDeadWebhookReceiverDoesNotSlowJoinsOrLeaves(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept and hold every connection: the receiver never answers
		var held []net.Conn
		defer func() {
			for _, c := range held {
				c.Close()
			}
		}()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held = append(held, c)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	const n = 30
	measure := func(cfg config.Config) (join, leave time.Duration) {
		h := startServer(t, cfg)
		joins, leaves := joinLeaveLatencies(ctx, t, h, n)
		return percentile(joins, 0.5), percentile(leaves, 0.5)
	}
	baseJoin, baseLeave := measure(webhookConfig(t))
	deadJoin, deadLeave := measure(webhookConfig(t, "http://"+ln.Addr().String()+"/hook"))
	t.Logf("p50 join %v -> %v, p50 leave %v -> %v (no webhooks -> dead receiver)", baseJoin, deadJoin, baseLeave, deadLeave)
	// Delivery never touches the join or leave path; allow for noise only.
	if deadJoin > 2*baseJoin+20*time.Millisecond || deadLeave > 2*baseLeave+20*time.Millisecond {
		t.Fatalf("a dead receiver slowed joins or leaves: p50 join %v -> %v, leave %v -> %v", baseJoin, deadJoin, baseLeave, deadLeave)
	}
}
