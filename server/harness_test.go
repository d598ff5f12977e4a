package server

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/signal"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// waitLimit bounds every wait in these tests; nothing should take long.
const waitLimit = 15 * time.Second

// recorder is an Observer the tests can wait on.
type recorder struct {
	mu     sync.Mutex
	events []any
	signal chan struct{}
}

func newRecorder() *recorder { return &recorder{signal: make(chan struct{}, 1)} }

func (r *recorder) Joined(e room.JoinEvent) { r.add(e) }
func (r *recorder) Left(e room.LeaveEvent)  { r.add(e) }

func (r *recorder) add(e any) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	select {
	case r.signal <- struct{}{}:
	default:
	}
}

// waitLeft returns the leave event of participant id.
func (r *recorder) waitLeft(ctx context.Context, id string) (room.LeaveEvent, error) {
	for {
		r.mu.Lock()
		for _, e := range r.events {
			if l, ok := e.(room.LeaveEvent); ok && l.ParticipantID == id {
				r.mu.Unlock()
				return l, nil
			}
		}
		r.mu.Unlock()
		select {
		case <-r.signal:
		case <-ctx.Done():
			return room.LeaveEvent{}, fmt.Errorf("no leave event for %s: %w", id, ctx.Err())
		}
	}
}

type harness struct {
	t        *testing.T
	srv      *Server
	api      *webrtc.API
	url      string
	recorder *recorder
}

func testConfig() config.Config {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.ICE.Interfaces = []string{"lo"}
	// Tests run in parallel: one UDP mux each, on a port the OS picks.
	cfg.ICE.UDPListen = "127.0.0.1:0"
	cfg.ICE.TCPListen = ""
	cfg.ICE.UDP4Only = true
	cfg.SessionLog.Path = ""
	cfg.HTTP.MaxWebSocketsPerIP = 0 // tests open hundreds of sockets from 127.0.0.1
	return cfg
}

func startServer(t *testing.T, cfg config.Config) *harness {
	t.Helper()
	return startServerWithLog(t, cfg, zaptest.NewLogger(t))
}

func startServerWithLog(t *testing.T, cfg config.Config, log *zap.Logger) *harness {
	t.Helper()
	return startServerWith(t, cfg, Options{Log: log})
}

// startServerWith starts a server with opts plus the test's version and recorder.
func startServerWith(t *testing.T, cfg config.Config, opts Options) *harness {
	t.Helper()
	rec := newRecorder()
	opts.Version, opts.Observer = "test", rec
	srv, err := New(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	api, err := testclient.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, api: api, url: "ws://" + srv.Addr().String() + "/v1/rtc", recorder: rec}
	t.Cleanup(func() {
		// Bounded, but with room for a big room closing under -race.
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return h
}

func (h *harness) dial(ctx context.Context) *testclient.Client {
	h.t.Helper()
	c, err := testclient.Dial(ctx, h.api, h.url)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(c.Close)
	return c
}

// joined dials and joins room as name.
func (h *harness) joined(ctx context.Context, roomName, name string) (*testclient.Client, signal.Joined) {
	h.t.Helper()
	c := h.dial(ctx)
	j, err := c.Join(ctx, roomName, name)
	if err != nil {
		h.t.Fatal(err)
	}
	return c, j
}

// payloadFor is the deterministic payload a sender writes, so a receiver
// can check every byte arrived intact.
func payloadFor(sender, kind string, seq int) []byte {
	head := fmt.Sprintf("%s|%s|%08d|", sender, kind, seq)
	return []byte(head + strings.Repeat(string(rune('a'+seq%26)), 160))
}

// parsePayload splits a payload back into sender, kind and sequence.
func parsePayload(b []byte) (sender, kind string, seq int, ok bool) {
	parts := strings.SplitN(string(b), "|", 4)
	if len(parts) != 4 {
		return "", "", 0, false
	}
	if _, err := fmt.Sscanf(parts[2], "%d", &seq); err != nil {
		return "", "", 0, false
	}
	return parts[0], parts[1], seq, true
}
