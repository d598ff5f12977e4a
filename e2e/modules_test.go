package e2e

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
)

// holdBack delays, in b's tab, every request whose URL matches pattern by
// d: a slow script, as a loaded machine or network serves one.
func holdBack(t *testing.T, b *browser, pattern string, d time.Duration) {
	t.Helper()
	err := chromedp.Listen(b.page, func(ev any) {
		e, ok := ev.(*fetch.EventRequestPaused)
		if !ok {
			return
		}
		// Not from the listener: it must not block on the browser.
		go func() {
			<-time.After(d) // the fault under test, not a wait for anything
			_, _ = chromedp.Call(b.page, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: e.RequestID})
		}()
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.page, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}); err != nil {
		t.Fatal(err)
	}
}

// TestRoomLinkJoinsOnceEveryModuleRan: a room link (/?room=…) joins at
// once, but only after every module script of the page has run. A module
// whose script arrives late (the people panel's, held back 800 ms here)
// must still see joined and with it who is already in the room; before,
// app.js joined as it ran, and such a module missed the room as it was (in
// a loaded CI run, the reconnect grace: no "reconnecting…" placeholder).
func TestRoomLinkJoinsOnceEveryModuleRan(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	bs := launchBrowsers(t, "ML", 2)
	first, late := bs[0], bs[1]
	firstID, err := first.join(s.base, "modules")
	if err != nil {
		t.Fatal(err)
	}
	holdBack(t, late, "*/people.js", 800*time.Millisecond)
	if _, err := late.join(s.base, "modules"); err != nil {
		t.Fatal(err)
	}
	listed := fmt.Sprintf(`!!document.querySelector('#people-list li[data-participant-id=%q]')`, firstID)
	if err := late.waitJS(5*time.Second, "the people panel listing who was there first", listed); err != nil {
		t.Error(err)
	}
}
