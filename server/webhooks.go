package server

import (
	"context"
	"fmt"

	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/webhook"
	"go.uber.org/zap"
)

// newWebhooks starts following the session log for cfg.Webhooks.URLs, or
// returns nil when none are set. It runs before the server takes joins,
// so a new URL's cursor starts exactly at the log's end.
func newWebhooks(cfg config.Config, log *zap.Logger) (*webhook.Dispatcher, error) {
	if len(cfg.Webhooks.URLs) == 0 {
		return nil, nil
	}
	d, err := webhook.New(webhook.Options{
		URLs:       cfg.Webhooks.URLs,
		Key:        []byte(cfg.Webhooks.Key),
		LogPath:    cfg.SessionLog.Path,
		Timeout:    cfg.Webhooks.Timeout,
		MinBackoff: cfg.Webhooks.MinBackoff,
		MaxBackoff: cfg.Webhooks.MaxBackoff,
		Log:        log,
	})
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	log.Info("webhooks on", zap.Strings("urls", cfg.Webhooks.URLs))
	return d, nil
}

// webhookWake nudges the dispatcher after each record is written, so
// deliveries need not wait for its poll. It only signals: delivery reads
// the log, never these events, and never blocks the room.
type webhookWake struct{ d *webhook.Dispatcher }

func (w webhookWake) Joined(room.JoinEvent) { w.d.Wake() }
func (w webhookWake) Left(room.LeaveEvent)  { w.d.Wake() }

func (w webhookWake) TrackChanged(room.TrackEvent) { w.d.Wake() }

// closeWebhooks gives pending deliveries (the shutdown's leaves) a moment,
// then saves the cursors.
func (s *Server) closeWebhooks(ctx context.Context) error {
	if s.hooks == nil {
		return nil
	}
	return s.hooks.Close(ctx)
}
