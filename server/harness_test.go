package server

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/internal/servertest"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/signal"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
)

// waitLimit bounds every wait in these tests; nothing should take long.
const waitLimit = 15 * time.Second

// recorder is the shared harness's Observer (internal/servertest), with
// the waitLeft these tests were written against.
type recorder struct{ *servertest.Recorder }

func newRecorder() *recorder { return &recorder{servertest.NewRecorder()} }

// waitLeft returns the leave event of participant id.
func (r *recorder) waitLeft(ctx context.Context, id string) (room.LeaveEvent, error) {
	l, err := r.WaitLeft(ctx, id)
	return l.LeaveEvent, err
}

type harness struct {
	t        *testing.T
	srv      *Server
	api      *webrtc.API
	url      string
	recorder *recorder
}

func testConfig() config.Config {
	cfg := servertest.Loopback()
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
	// Bounded, but with room for a big room closing under -race.
	addr := servertest.Start(t, srv, waitLimit)
	api, err := testclient.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, srv: srv, api: api, url: "ws://" + addr + "/v1/rtc", recorder: rec}
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
