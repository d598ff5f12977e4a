package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"
)

// restoreMarkJS tags the live page, so that after going back the test can
// tell a back/forward cache restore (the same document: the mark is
// there) from a fresh load (no mark).
const restoreMarkJS = `(() => { window.__bfcacheMark = true; return true; })()`

// navigationJS reports whether the current document is the marked one
// and, for a fresh load, why Chromium did not restore it from the cache
// (notRestoredReasons, Chromium 123+).
const navigationJS = `(() => {
  const e = performance.getEntriesByType('navigation')[0] || {};
  return JSON.stringify({
    restored: window.__bfcacheMark === true,
    type: e.type || '',
    notRestoredReasons: e.notRestoredReasons ? e.notRestoredReasons.toJSON() : null,
  });
})()`

type navigationReport struct {
	Restored           bool            `json:"restored"`
	Type               string          `json:"type"`
	NotRestoredReasons json.RawMessage `json:"notRestoredReasons"`
}

// TestBackForwardCacheRestoreRejoins: a joined page that navigates away
// leaves at once; when Back restores it from the back/forward cache, its
// pageshow (persisted) makes it rejoin the room as a continuation of the
// old session (resumed_from), and the others see it back. The page must
// be restorable: it releases its peer connections and camera on pagehide,
// which Chromium otherwise names in notRestoredReasons ("rtc",
// "mediastream") and loads the page afresh.
func TestBackForwardCacheRestoreRejoins(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	bs := launchBrowsers(t, "F", 2)
	leaver, observer := bs[0], bs[1]
	ids, err := joinAll(s.base, "bfcache", bs)
	if err != nil {
		t.Fatal(err)
	}
	// Both ways: a peer connection still connecting when the leaver's
	// page goes would be closed by the server only at its ICE failure
	// time (sfu.ICEGuard), 4 s on.
	errs := make([]error, len(bs))
	parallel(len(bs), func(i int) { _, errs[i] = bs[i].waitPlaying(othersOf(bs, ids, i), false, 0.1) })
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	leaverID := ids[0]
	if _, err := eval[bool](leaver, restoreMarkJS); err != nil {
		t.Fatal(err)
	}

	away, err := eval[int64](leaver, clickLinkJS(s.base+"/healthz"))
	if err != nil {
		t.Fatalf("click: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	ev, err := s.rec.waitLeft(ctx, leaverID)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("left as %s %v after the navigation started", ev.Reason, ms(ev.At.Sub(time.UnixMilli(away))))
	if _, err := leaver.waitURL(5*time.Second, "/healthz"); err != nil {
		t.Fatal(err)
	}

	// history.back() as the Back button: chromedp's NavigateBack waits for
	// a load event, which a cache restore does not fire.
	backAt := time.Now()
	if _, err := eval[bool](leaver, `(() => { history.back(); return true; })()`); err != nil {
		t.Fatalf("back: %v", err)
	}
	if _, err := leaver.waitURL(joinTimeout, "/"); err != nil {
		t.Fatal(err)
	}
	raw, err := eval[string](leaver, navigationJS)
	if err != nil {
		t.Fatal(err)
	}
	var nav navigationReport
	if err := json.Unmarshal([]byte(raw), &nav); err != nil {
		t.Fatalf("navigation report %q: %v", raw, err)
	}
	if !nav.Restored {
		t.Fatalf("Chromium loaded the page afresh instead of restoring it from the back/forward cache (navigation type %q); notRestoredReasons: %s", nav.Type, nav.NotRestoredReasons)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	rejoin, err := s.rec.waitResumed(ctx, leaverID)
	cancel()
	if err != nil {
		t.Fatalf("restored from the back/forward cache but did not rejoin: %v", err)
	}
	t.Logf("restored from the back/forward cache: rejoined as %s %v after Back", rejoin.ParticipantID, ms(rejoin.Time.Sub(backAt)))
	if _, err := leaver.waitPage(5*time.Second, func(st pageState) string {
		if st.State != "joined" || st.ID != rejoin.ParticipantID {
			return "the page does not show the resumed session"
		}
		return ""
	}); err != nil {
		t.Error(err)
	}
	if _, err := observer.waitPage(5*time.Second, func(st pageState) string {
		for _, tl := range st.Tiles {
			if tl.ID == rejoin.ParticipantID && tl.ResumedFrom == leaverID {
				return ""
			}
		}
		return "no tile for the resumed participant"
	}); err != nil {
		t.Error(err)
	}
	// The restored page hears and is heard again; that also lets its new
	// peer connections finish connecting before the test ends, or the
	// server's shutdown would wait out their ICE failure time (4 s).
	resumedIDs := []string{rejoin.ParticipantID, ids[1]}
	parallel(len(bs), func(i int) { _, errs[i] = bs[i].waitPlaying(othersOf(bs, resumedIDs, i), false, 0.1) })
	if err := errors.Join(errs...); err != nil {
		t.Errorf("after the restore: %v", err)
	}
}

// waitURL waits until the tab's document is at path: the navigation away
// has committed (no CDP event is wired for it here, so it polls).
func (b *browser) waitURL(timeout time.Duration, path string) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		got, err := eval[string](b, `location.pathname`)
		if err == nil && got == path {
			return got, nil
		}
		if time.Now().After(deadline) {
			return got, fmt.Errorf("%s: still at %q (%v), want %q", b.name, got, err, path)
		}
		time.Sleep(pollEvery) // polling a page across CDP: no event to await
	}
}
