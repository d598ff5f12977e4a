package e2e

import (
	"fmt"
	"testing"
	"time"
)

// screensJS is what a page shows of others' screen shares.
const screensJS = `JSON.stringify(window.switchyardScreen.shown())`

// serverVideoTracks counts participant's video tracks on the server.
func (s *e2eServer) serverVideoTracks(participant string) int {
	n := 0
	for _, r := range s.srv.Rooms().Rooms() {
		for _, p := range r.Participants {
			for _, tr := range p.Tracks {
				if p.ID == participant && tr.Kind == "video" {
					n++
				}
			}
		}
	}
	return n
}

// TestScreenShareReachesTheOthers: a participant shares its screen
// (Chromium's fake display capture, picked without a prompt); the server
// forwards it as a second video track; the other page plays it in a
// screen tile beside the camera tile; it ends for the other when sharing
// stops, by the button and by the browser ending the track. A refused
// prompt leaves a notice and the call going on.
func TestScreenShareReachesTheOthers(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	bs := launchBrowsers(t, "SS", 2)
	ids, err := joinAll(s.base, "screen", bs)
	if err != nil {
		t.Fatal(err)
	}
	sharer, viewer := bs[0], bs[1]
	if _, err := viewer.waitPlaying(othersOf(bs, ids, 1), true, 0.1); err != nil {
		t.Fatal(err)
	}

	playing := fmt.Sprintf(`(() => { const s = window.switchyardScreen.shown().find((x) => x.id === %q); return !!s && s.videoWidth > 0 && s.currentTime > 0.3; })()`, ids[0])
	gone := `window.switchyardScreen.shown().length === 0`
	for _, stop := range []struct{ name, js string }{
		{"the button", `(document.getElementById('share-screen').click(), true)`},
		{"the browser ending the track", `(() => { const t = window.switchyardExt.session().pub.getTransceivers().map((x) => x.sender.track).find((t) => t && t.contentHint === 'detail'); t.stop(); t.dispatchEvent(new Event('ended')); return true; })()`},
	} {
		if err := sharer.click("#share-screen"); err != nil {
			t.Fatal(err)
		}
		if err := sharer.waitJS(joinTimeout, "sharing", `window.switchyardScreen.sharing`); err != nil {
			t.Fatalf("%v (notice %q)", err, noticeText(sharer))
		}
		if err := viewer.waitJS(mediaTimeout, "the sharer's screen playing", playing); err != nil {
			got, _ := eval[string](viewer, screensJS)
			t.Fatalf("%v; shown %s", err, got)
		}
		if n := s.serverVideoTracks(ids[0]); n != 2 {
			t.Errorf("server: the sharer publishes %d video tracks, want 2 (camera and screen)", n)
		}
		// The camera still plays in the sharer's own tile.
		if _, err := viewer.waitPlaying(othersOf(bs, ids, 1), true, 0.1); err != nil {
			t.Error(err)
		}
		if _, err := eval[bool](sharer, stop.js); err != nil {
			t.Fatal(err)
		}
		if err := viewer.waitJS(10*time.Second, "the screen gone after stopping by "+stop.name, gone); err != nil {
			t.Fatal(err)
		}
		if err := sharer.waitJS(5*time.Second, "not sharing", `!window.switchyardScreen.sharing && document.getElementById('share-screen').getAttribute('aria-pressed') === 'false'`); err != nil {
			t.Fatal(err)
		}
	}

	// Refused: a notice, the call goes on.
	if _, err := eval[bool](sharer, `(navigator.mediaDevices.getDisplayMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError')), true)`); err != nil {
		t.Fatal(err)
	}
	if err := sharer.click("#share-screen"); err != nil {
		t.Fatal(err)
	}
	if err := sharer.waitJS(5*time.Second, "the refusal notice", `document.getElementById('notice').textContent.includes('refused') && window.switchyard.state === 'joined' && !window.switchyardScreen.sharing`); err != nil {
		t.Fatal(err)
	}
	if _, err := viewer.waitPlaying(othersOf(bs, ids, 1), true, 0.1); err != nil {
		t.Error(err)
	}
}

func noticeText(b *browser) string {
	s, _ := eval[string](b, `document.getElementById('notice').textContent`)
	return s
}
