package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// pcRecorderJS keeps every peer connection the page creates in
// window.__pcs, so the test can read their getStats.
const pcRecorderJS = `(() => {
	window.__pcs = [];
	const Base = window.RTCPeerConnection;
	window.RTCPeerConnection = class extends Base {
		constructor(...a) { super(...a); window.__pcs.push(this); }
	};
})()`

// videoStatsJS lists the page's video RTP streams: what it sends (one
// entry per simulcast layer) and what it receives.
const videoStatsJS = `(async () => {
	const out = [];
	for (const pc of window.__pcs || []) {
		if (pc.connectionState === 'closed') continue;
		(await pc.getStats()).forEach((r) => {
			if (r.kind !== 'video') return;
			if (r.type === 'outbound-rtp') out.push({dir: 'out', rid: r.rid || '', width: r.frameWidth || 0, height: r.frameHeight || 0, bytes: r.bytesSent || 0, limit: r.qualityLimitationReason || ''});
			if (r.type === 'inbound-rtp') out.push({dir: 'in', width: r.frameWidth || 0, height: r.frameHeight || 0, bytes: r.bytesReceived || 0, frames: r.framesDecoded || 0});
		});
	}
	return out;
})()`

type videoStat struct {
	Dir    string `json:"dir"`
	RID    string `json:"rid"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Bytes  int64  `json:"bytes"`
	Frames int    `json:"frames"`
	Limit  string `json:"limit"`
}

func (v videoStat) String() string {
	if v.Dir == "out" {
		return fmt.Sprintf("out rid=%s %dx%d %dB limit=%s", v.RID, v.Width, v.Height, v.Bytes, v.Limit)
	}
	return fmt.Sprintf("in %dx%d %dB %d frames", v.Width, v.Height, v.Bytes, v.Frames)
}

func (b *browser) videoStats() ([]videoStat, error) {
	ctx, cancel := context.WithTimeout(b.page, evalTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[[]videoStat](videoStatsJS, chromedp.EvalAwaitPromise))
}

func (b *browser) recordPeerConnections() error {
	ctx, cancel := context.WithTimeout(b.page, evalTimeout)
	defer cancel()
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pcRecorderJS})
	return err
}

// waitVideoStats polls videoStats until ok accepts them (returns "").
func (b *browser) waitVideoStats(timeout time.Duration, ok func([]videoStat) string) ([]videoStat, error) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		st, err := b.videoStats()
		if err != nil {
			return nil, fmt.Errorf("%s: getStats: %w", b.name, err)
		}
		missing := ok(st)
		if missing == "" {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("%s: after %v still %s; stats: %v", b.name, timeout, missing, st)
		}
		<-tick.C
	}
}

// TestSmallTileReceivesLowSimulcastLayer: a browser publishes its camera
// in three simulcast layers; another shows it in a small tile and
// receives the lowest layer (inbound-rtp frameWidth), then in a large tile
// and receives a higher one.
func TestSmallTileReceivesLowSimulcastLayer(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	bs := launchBrowsers(t, "S", 2)
	for _, b := range bs {
		if err := b.recordPeerConnections(); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := joinAll(s.base, "simulcast", bs)
	if err != nil {
		t.Fatal(err)
	}
	publisher, viewer := bs[0], bs[1]
	if _, err := eval[bool](viewer, `(window.switchyardQuality.setTileSize('small'), true)`); err != nil {
		t.Fatal(err)
	}
	if _, err := viewer.waitPlaying(map[string]string{ids[0]: publisher.name}, true, 0.25); err != nil {
		t.Fatal(err)
	}

	// What the publisher really sends: Chromium decides how many layers a
	// capture size gets.
	sent, err := publisher.waitVideoStats(mediaTimeout, func(st []videoStat) string {
		n := 0
		for _, v := range st {
			if v.Dir == "out" && v.Width > 0 {
				n++
			}
		}
		if n < 2 {
			return fmt.Sprintf("%d layers with frames, want at least 2", n)
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	lowest, highest := 0, 0
	var layers []string
	for _, v := range sent {
		if v.Dir != "out" || v.Width == 0 {
			continue
		}
		layers = append(layers, v.String())
		if lowest == 0 || v.Width < lowest {
			lowest = v.Width
		}
		highest = max(highest, v.Width)
	}
	t.Logf("publisher sends %d layers: %s", len(layers), strings.Join(layers, "; "))

	tileW, err := eval[int](viewer, `document.querySelector('.tile video').clientWidth`)
	if err != nil {
		t.Fatal(err)
	}
	small, err := viewer.waitVideoStats(mediaTimeout, func(st []videoStat) string {
		for _, v := range st {
			if v.Dir == "in" && v.Width > 0 && v.Width <= lowest {
				return ""
			}
		}
		return fmt.Sprintf("no inbound video at the lowest layer's width %d", lowest)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("small tile (%d CSS px wide) receives %v", tileW, small)

	// The same video in a large tile gets a larger layer: the size asked
	// for, not the bandwidth, held it at the lowest.
	if _, err := eval[bool](viewer, `(window.switchyardQuality.setTileSize('large'), true)`); err != nil {
		t.Fatal(err)
	}
	// Longer than mediaTimeout: on a CPU-starved CI machine gcc's estimate
	// can fail the first upswitches, and the allocator then backs off 10 s,
	// then 20 s (sfu/hysteresis.go), by design; seen once in a -race run.
	large, err := viewer.waitVideoStats(mediaTimeout+45*time.Second, func(st []videoStat) string {
		for _, v := range st {
			if v.Dir == "in" && v.Width > lowest {
				return ""
			}
		}
		return fmt.Sprintf("inbound video not above the lowest layer's width %d (highest sent: %d)", lowest, highest)
	})
	if err != nil {
		t.Fatal(err)
	}
	tileW, _ = eval[int](viewer, `document.querySelector('.tile video').clientWidth`)
	t.Logf("large tile (%d CSS px wide) receives %v", tileW, large)
	if sent, err := publisher.videoStats(); err == nil {
		t.Logf("publisher now sends: %v", sent)
	}
}
