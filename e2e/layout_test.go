package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
)

// envScreenshots names a directory the layout tests write their PNGs to
// (default: the test's temporary directory).
const envScreenshots = "SWITCHYARD_SCREENSHOTS"

// rectsJS lists the page's tiles (everything laid out in #tiles) with
// their boxes and the viewport, after laying out at once.
const rectsJS = `(() => {
	window.switchyardLayout.now();
	return JSON.stringify({
		w: window.innerWidth, h: window.innerHeight,
		tiles: [...document.getElementById('tiles').children].filter((e) => !e.hidden).map((e) => {
			const r = e.getBoundingClientRect();
			return { id: e.dataset.participantId || e.id || e.className, x: r.left, y: r.top, r: r.right, b: r.bottom };
		}),
	});
})()`

type tileBox struct {
	ID         string
	X, Y, R, B float64
}

type layoutSnap struct {
	W, H  float64
	Tiles []tileBox
}

// problems says which tiles overlap or leave the viewport.
func (l layoutSnap) problems() []string {
	var out []string
	for i, a := range l.Tiles {
		if a.R-a.X < 40 || a.B-a.Y < 20 {
			out = append(out, fmt.Sprintf("%s is only %.0f×%.0f", a.ID, a.R-a.X, a.B-a.Y))
		}
		if a.X < 0 || a.Y < 0 || a.R > l.W+0.5 || a.B > l.H+0.5 {
			out = append(out, fmt.Sprintf("%s at (%.0f,%.0f)-(%.0f,%.0f) is off the %.0f×%.0f screen", a.ID, a.X, a.Y, a.R, a.B, l.W, l.H))
		}
		for _, b := range l.Tiles[i+1:] {
			if a.X < b.R-0.5 && b.X < a.R-0.5 && a.Y < b.B-0.5 && b.Y < a.B-0.5 {
				out = append(out, fmt.Sprintf("%s overlaps %s", a.ID, b.ID))
			}
		}
	}
	return out
}

// pionGuests joins n pion participants to roomName; they leave at cleanup.
func pionGuests(t *testing.T, s *e2eServer, roomName string, n int) {
	t.Helper()
	api, err := testclient.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), joinTimeout)
	defer cancel()
	ws := "ws" + strings.TrimPrefix(s.base, "http") + "/v1/rtc"
	for i := range n {
		c, err := testclient.Dial(ctx, api, ws)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		if _, err := c.Join(ctx, roomName, fmt.Sprintf("guest %d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
}

func screenshotDir(t *testing.T) string {
	if d := os.Getenv(envScreenshots); d != "" {
		return d
	}
	return t.TempDir()
}

// shoot saves the page's viewport as a PNG.
func (b *browser) shoot(path string) error {
	ctx, cancel := context.WithTimeout(b.page, evalTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		return err
	}
	return os.WriteFile(path, png, 0o644)
}

// settledLayout polls the page's tile boxes until there are want of
// them and none is misplaced, or 5 s pass; it returns the last seen.
func (b *browser) settledLayout(want int) layoutSnap {
	var snap layoutSnap
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		snap = layoutSnap{}
		raw, err := eval[string](b, rectsJS)
		if err == nil {
			err = json.Unmarshal([]byte(raw), &snap)
		}
		if err == nil && len(snap.Tiles) == want && len(snap.problems()) == 0 || time.Now().After(deadline) {
			if err != nil {
				b.t.Errorf("%s: layout: %v", b.name, err)
			}
			return snap
		}
		<-tick.C
	}
}

func (b *browser) viewport(w, h int64) error {
	ctx, cancel := context.WithTimeout(b.page, evalTimeout)
	defer cancel()
	return chromedp.Do(ctx, chromedp.EmulateViewport(w, h))
}

// TestLayoutFitsEveryTile: with 1, 3 and 9 participants, at 1280×800 and
// on a phone-sized 390×844 window, every tile is on screen and none
// overlaps another, with and without a pinned tile. Screenshots of each
// are written (SWITCHYARD_SCREENSHOTS=DIR keeps them).
func TestLayoutFitsEveryTile(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	b := launchBrowsers(t, "L", 1)[0]
	if _, err := b.join(s.base, "layout"); err != nil {
		t.Fatal(err)
	}
	dir := screenshotDir(t)
	guests := 0
	for _, total := range []int{1, 3, 9} {
		pionGuests(t, s, "layout", total-1-guests)
		guests = total - 1
		if _, err := b.waitPage(joinTimeout, func(st pageState) string {
			if len(st.Tiles) != guests {
				return fmt.Sprintf("%d tiles, want %d", len(st.Tiles), guests)
			}
			return ""
		}); err != nil {
			t.Fatal(err)
		}
		for _, vp := range []struct{ w, h int64 }{{1280, 800}, {390, 844}} {
			if err := b.viewport(vp.w, vp.h); err != nil {
				t.Fatal(err)
			}
			for _, pinned := range []bool{false, true} {
				if pinned {
					if guests == 0 {
						continue
					}
					if _, err := eval[bool](b, `(window.switchyardLayout.pin(document.querySelector('.tile')), true)`); err != nil {
						t.Fatal(err)
					}
				}
				snap := b.settledLayout(total)
				name := fmt.Sprintf("layout-%d-%dx%d", total, vp.w, vp.h)
				if pinned {
					name += "-pinned"
				}
				if err := b.shoot(filepath.Join(dir, name+".png")); err != nil {
					t.Error(err)
				}
				if len(snap.Tiles) != total {
					t.Errorf("%s: %d tiles laid out, want %d", name, len(snap.Tiles), total)
				}
				for _, p := range snap.problems() {
					t.Errorf("%s: %s", name, p)
				}
				if pinned {
					if _, err := eval[bool](b, `(window.switchyardLayout.pin(document.querySelector('.tile')), true)`); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
	}
	t.Logf("screenshots in %s", dir)
}
