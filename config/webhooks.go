package config

import (
	"net/url"
	"time"
)

// minWebhookKeyLength: an HMAC-SHA256 key as long as the hash.
const minWebhookKeyLength = 32

// WebhooksConfig is where join/leave and room events are POSTed (package
// webhook). Delivery follows the session log, so it needs one.
type WebhooksConfig struct {
	// URLs receive every event; empty disables webhooks.
	URLs []string `yaml:"urls"`
	// Key signs each delivery (HMAC-SHA256, Standard Webhooks headers).
	Key string `yaml:"key"`
	// Timeout bounds one delivery attempt.
	Timeout time.Duration `yaml:"timeout"`
	// MinBackoff is the first wait before a retry; it doubles from there
	// up to MaxBackoff.
	MinBackoff time.Duration `yaml:"min_backoff"`
	MaxBackoff time.Duration `yaml:"max_backoff"`
}

func defaultWebhooks() WebhooksConfig {
	return WebhooksConfig{Timeout: 5 * time.Second, MinBackoff: 250 * time.Millisecond, MaxBackoff: 30 * time.Second}
}

func (p *problems) checkWebhooks(c Config) {
	w := c.Webhooks
	for _, u := range w.URLs {
		if parsed, err := url.Parse(u); err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			p.add("webhooks.urls: %q is not an http:// or https:// URL", u)
		}
	}
	if len(w.URLs) == 0 {
		return
	}
	if len(w.Key) < minWebhookKeyLength {
		p.add("webhooks.key: is %d bytes, must be at least %d when webhooks.urls is set (e.g. openssl rand -hex 32)", len(w.Key), minWebhookKeyLength)
	}
	if c.SessionLog.Path == "" {
		p.add("webhooks.urls: webhooks are delivered from the session log; set session_log.path")
	}
	if w.Timeout <= 0 {
		p.add("webhooks.timeout: %s must be positive", w.Timeout)
	}
	if w.MinBackoff <= 0 {
		p.add("webhooks.min_backoff: %s must be positive", w.MinBackoff)
	}
	if w.MaxBackoff < w.MinBackoff {
		p.add("webhooks.max_backoff: %s must be at least webhooks.min_backoff (%s)", w.MaxBackoff, w.MinBackoff)
	}
}
