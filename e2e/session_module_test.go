package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/switchyard-sfu/switchyard/room"
)

// sessionOnlyJS joins with nothing but web/static/session.js, imported
// into a page that has none of the client's UI (the server's plain-text
// 404 page, same origin): the way someone embedding Switchyard would use
// it. It publishes the fake camera and microphone and records in
// window.__so what the session says.
const sessionOnlyJS = `(async () => {
	const { Session } = await import('/session.js');
	const so = window.__so = { events: [], tracks: 0, joined: false, ended: null, pub: '' };
	const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 640, height: 360 } });
	const s = new Session({ room: %q, name: 'embedded' });
	so.session = s;
	for (const type of ['joined', 'participant', 'participant-left', 'track', 'end']) {
		s.addEventListener(type, (ev) => so.events.push(type));
	}
	s.addEventListener('joined', () => { so.joined = true; s.publish(stream); });
	s.addEventListener('track', () => { so.tracks++; });
	s.addEventListener('connection', (ev) => { if (ev.detail.pc === 'publish') so.pub = ev.detail.state; });
	s.addEventListener('end', (ev) => { so.ended = ev.detail; for (const t of stream.getTracks()) t.stop(); });
	s.start();
	return true;
})()`

// TestSessionModuleWithoutPageUI: the session module alone joins,
// publishes (a normal page sees its video play), receives the other's
// tracks, and leaves (the server logs reason leave; the other's tile goes).
func TestSessionModuleWithoutPageUI(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	bs := launchBrowsers(t, "S", 2)
	embedded, viewer := bs[0], bs[1]

	ctx, cancel := context.WithTimeout(embedded.page, joinTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(s.base+"/no-ui-here")); err != nil {
		t.Fatal(err)
	}
	if ui, err := eval[bool](embedded, `!!document.getElementById('join-form') || !!window.switchyard`); err != nil || ui {
		t.Fatalf("the bare page has the client's UI (%v, %v)", ui, err)
	}
	if _, err := evalAwait[bool](embedded, fmt.Sprintf(sessionOnlyJS, "embed")); err != nil {
		t.Fatalf("start the session: %v", err)
	}
	if err := embedded.waitJS(joinTimeout, "joined", `window.__so.joined`); err != nil {
		t.Fatal(err)
	}
	id, err := eval[string](embedded, `window.__so.session.participantId`)
	if err != nil || id == "" {
		t.Fatalf("participant id %q, %v", id, err)
	}

	if _, err := viewer.join(s.base, "embed"); err != nil {
		t.Fatal(err)
	}
	if _, err := viewer.waitPlaying(map[string]string{id: "embedded"}, true, 0.25); err != nil {
		t.Fatalf("the viewer does not play the embedded session's media: %v", err)
	}
	if err := embedded.waitJS(mediaTimeout, "the viewer's two tracks", `window.__so.tracks >= 2 && window.__so.pub === 'connected'`); err != nil {
		t.Fatal(err)
	}

	if _, err := evalAwait[bool](embedded, `window.__so.session.leave().then(() => true)`); err != nil {
		t.Fatalf("leave: %v", err)
	}
	lctx, lcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer lcancel()
	ev, err := s.rec.waitLeft(lctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Reason != room.ReasonLeave {
		t.Errorf("server: the embedded session left with %q, want %q", ev.Reason, room.ReasonLeave)
	}
	if _, err := viewer.waitPage(5*time.Second, func(st pageState) string {
		if len(st.Tiles) != 0 {
			return fmt.Sprintf("tiles %v, want none", st.tileIDs())
		}
		return ""
	}); err != nil {
		t.Error(err)
	}
	ended, err := eval[string](embedded, `window.__so.ended ? window.__so.ended.state + ' ' + window.__so.ended.text : ''`)
	if err != nil || ended != "left left: leave" {
		t.Errorf("the session ended with %q (%v), want \"left left: leave\"", ended, err)
	}
}
