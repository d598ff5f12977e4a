package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
)

const (
	// pollEvery is how often a page is asked for its state while a test
	// waits for it to change; there is no event to await across CDP.
	pollEvery = 50 * time.Millisecond
	// evalTimeout bounds one DevTools call.
	evalTimeout = 5 * time.Second
	// joinTimeout bounds opening the page and getting `joined`.
	joinTimeout = 30 * time.Second
	// mediaTimeout bounds the wait for remote video and audio to play.
	// It is usually a few seconds; the slack is for a loaded 2-core
	// machine (fake camera start, DTLS, decoders).
	mediaTimeout = 45 * time.Second
)

// tile is one remote participant as the page's test hook reports it.
type tile struct {
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	VideoWidth  int     `json:"videoWidth"`
	VideoHeight int     `json:"videoHeight"`
	CurrentTime float64 `json:"currentTime"`
	AudioLive   bool    `json:"audioLive"`
	ResumedFrom string  `json:"resumedFrom"` // the session this participant resumed, or ""
}

// pageState is a snapshot of window.switchyard plus what the tile watcher
// (watchTilesJS) saw.
type pageState struct {
	State     string             `json:"state"`
	StateText string             `json:"stateText"`
	ID        string             `json:"id"`
	Tiles     []tile             `json:"tiles"`
	DOMTiles  []string           `json:"domTiles"` // data-participant-id of every .tile element
	Gone      map[string]float64 `json:"gone"`     // participant id → Date.now() when its tile left the DOM
}

func (p pageState) tileIDs() []string {
	ids := make([]string, 0, len(p.Tiles))
	for _, t := range p.Tiles {
		ids = append(ids, t.ID)
	}
	slices.Sort(ids)
	return ids
}

func (p pageState) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "state=%q (%q) id=%s tiles=[", p.State, p.StateText, p.ID)
	for i, t := range p.Tiles {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "{%s %q %dx%d t=%.2f audio=%v}", t.ID, t.Name, t.VideoWidth, t.VideoHeight, t.CurrentTime, t.AudioLive)
	}
	fmt.Fprintf(&b, "] dom=%v", p.DOMTiles)
	return b.String()
}

const stateJS = `(() => {
	const s = window.switchyard;
	const dom = [...document.querySelectorAll('.tile')].map((e) => e.dataset.participantId || '');
	const gone = (window.__e2e && window.__e2e.gone) || {};
	if (!s) return {state: 'no-test-hooks', stateText: '', id: '', tiles: [], domTiles: dom, gone};
	return {state: s.state, stateText: s.stateText || '', id: s.participantId || '', tiles: s.tiles(), domTiles: dom, gone};
})()`

// watchTilesJS records, in the page, the wall-clock time each remote tile
// leaves the DOM, so removal latency is measured where it happens rather
// than at the next poll.
const watchTilesJS = `(() => {
	if (window.__e2e) return true;
	const gone = {};
	window.__e2e = {gone};
	new MutationObserver((records) => {
		const now = Date.now();
		for (const r of records) for (const n of r.removedNodes) {
			if (n.nodeType === 1 && n.classList.contains('tile') && n.dataset.participantId) gone[n.dataset.participantId] = now;
		}
	}).observe(document.getElementById('tiles'), {childList: true, subtree: true});
	return true;
})()`

// pagehideJS opens a WebSocket to the test's pagehide sink and, on
// pagehide, reports there that pagehide fired and what the app's state
// was once its own pagehide handler (registered earlier) had run. It
// returns whether the socket is open yet; see (*browser).armPagehide.
func pagehideJS(sinkURL string) string {
	return fmt.Sprintf(`(() => {
	if (!window.__e2eSink) {
		const ws = new WebSocket(%q);
		window.__e2eSink = ws;
		addEventListener('pagehide', (e) => {
			const s = window.switchyard;
			ws.send(JSON.stringify({
				at: Date.now(), persisted: e.persisted, state: s.state, stateText: s.stateText,
			}));
			ws.close();
		});
	}
	return window.__e2eSink.readyState === 1;
})()`, sinkURL)
}

// armPagehide makes the page report its pagehide to sink.
func (b *browser) armPagehide(sink *pagehideSink) error {
	deadline := time.Now().Add(evalTimeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		open, err := eval[bool](b, pagehideJS(sink.url))
		if err != nil {
			return fmt.Errorf("%s: arm pagehide report: %w", b.name, err)
		}
		if open {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: pagehide report socket not open within %v", b.name, evalTimeout)
		}
		<-tick.C
	}
}

// eval runs one expression in the browser's tab.
func eval[T any](b *browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.page, evalTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

func (b *browser) state() (pageState, error) {
	return eval[pageState](b, stateJS)
}

// waitPage polls the page's state until ok accepts it or timeout passes;
// ok returns what is still missing, or "" when satisfied.
func (b *browser) waitPage(timeout time.Duration, ok func(pageState) string) (pageState, error) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		st, err := b.state()
		if err != nil {
			return st, fmt.Errorf("%s: reading page state: %w", b.name, err)
		}
		missing := ok(st)
		if missing == "" {
			return st, nil
		}
		if time.Now().After(deadline) {
			return st, fmt.Errorf("%s: after %v still %s; page: %v", b.name, timeout, missing, st)
		}
		<-tick.C
	}
}

// join opens the room link, which joins at once, and waits for `joined`.
// It returns the participant id.
func (b *browser) join(base, roomName string) (string, error) {
	u := fmt.Sprintf("%s/?room=%s&name=%s", base, url.QueryEscape(roomName), url.QueryEscape(b.name))
	ctx, cancel := context.WithTimeout(b.page, joinTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
		return "", fmt.Errorf("%s: open %s: %w", b.name, u, err)
	}
	if _, err := eval[bool](b, watchTilesJS); err != nil {
		return "", fmt.Errorf("%s: install tile watcher: %w", b.name, err)
	}
	st, err := b.waitPage(joinTimeout, func(st pageState) string {
		if st.State != "joined" || st.ID == "" {
			return "not joined"
		}
		return ""
	})
	return st.ID, err
}

// waitPlaying waits until the page shows exactly the participants in want
// (id → name), each with a live audio track and, if video is set, video of
// a real size; and then until every one's media element has advanced by at
// least minAdvance seconds: media that really flows, seen from inside the
// page.
func (b *browser) waitPlaying(want map[string]string, video bool, minAdvance float64) (pageState, error) {
	wantIDs := make([]string, 0, len(want))
	for id := range want {
		wantIDs = append(wantIDs, id)
	}
	slices.Sort(wantIDs)
	ready := func(st pageState) string {
		if !slices.Equal(st.tileIDs(), wantIDs) {
			return fmt.Sprintf("tiles %v, want %v", st.tileIDs(), wantIDs)
		}
		for _, t := range st.Tiles {
			switch {
			case t.Name != want[t.ID]:
				return fmt.Sprintf("tile %s is named %q, want %q", t.ID, t.Name, want[t.ID])
			case video && (t.VideoWidth <= 0 || t.VideoHeight <= 0):
				return fmt.Sprintf("tile %s has no video size", t.ID)
			case !t.AudioLive:
				return fmt.Sprintf("tile %s has no live audio", t.ID)
			}
		}
		return ""
	}
	first, err := b.waitPage(mediaTimeout, ready)
	if err != nil {
		return first, err
	}
	start := map[string]float64{}
	for _, t := range first.Tiles {
		start[t.ID] = t.CurrentTime
	}
	return b.waitPage(mediaTimeout, func(st pageState) string {
		if missing := ready(st); missing != "" {
			return missing
		}
		for _, t := range st.Tiles {
			if t.CurrentTime < start[t.ID]+minAdvance {
				return fmt.Sprintf("tile %s at %.3fs, was %.3fs: not advancing by %.2fs", t.ID, t.CurrentTime, start[t.ID], minAdvance)
			}
		}
		return ""
	})
}

// joinAll opens the room in every browser in parallel and returns their
// participant ids, in order.
func joinAll(base, roomName string, bs []*browser) ([]string, error) {
	ids := make([]string, len(bs))
	errs := make([]error, len(bs))
	parallel(len(bs), func(i int) { ids[i], errs[i] = bs[i].join(base, roomName) })
	return ids, errors.Join(errs...)
}

// othersOf maps every participant but skip to its name.
func othersOf(bs []*browser, ids []string, skip int) map[string]string {
	m := map[string]string{}
	for i, b := range bs {
		if i != skip {
			m[ids[i]] = b.name
		}
	}
	return m
}
