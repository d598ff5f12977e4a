package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/switchyard-sfu/switchyard/auth"
)

// waitPublishing waits until the page's publish PC is connected.
func (b *browser) waitPublishing() error {
	return b.waitJS(mediaTimeout, "publish PC connected",
		`(() => { const s = window.switchyardExt.session(); return !!s && !!s.pub && s.pub.connectionState === 'connected'; })()`)
}

// TestPageMuteClickedTwiceQuicklyStillSends: a mute button clicked twice
// in one go (mute, then unmute before the first replaceTrack resolved)
// leaves the sender with its track and its encodings active, the button
// unpressed; and a toggle button keeps its label, its state being in
// aria-pressed.
func TestPageMuteClickedTwiceQuicklyStillSends(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	b := launchBrowsers(t, "Q", 1)[0]
	if _, err := b.join(s.base, "double-click"); err != nil {
		t.Fatal(err)
	}
	if err := b.waitPublishing(); err != nil {
		t.Fatal(err)
	}
	for kind, button := range map[string]string{"audio": "mute-mic", "video": "toggle-camera"} {
		// The mute messages are held back, as for a track the server does
		// not know yet, so that no track-muted echo mends the sender.
		got, err := evalAwait[string](b, fmt.Sprintf(`(async () => {
	const s = window.switchyardExt.session();
	const tr = s.pub.getTransceivers().find((t) => t.receiver.track.kind === %[1]q);
	const send = WebSocket.prototype.send;
	WebSocket.prototype.send = function (d) { if (!String(d).includes('"type":"mute"')) send.call(this, d); };
	const b = document.getElementById(%[2]q);
	try { b.click(); b.click(); } finally { WebSocket.prototype.send = send; }
	await window.switchyardMute.settled();
	const local = s.localStream.getTracks().find((t) => t.kind === %[1]q);
	const active = tr.sender.getParameters().encodings.every((e) => e.active);
	return [tr.sender.track === local ? 'track' : 'no track', active ? 'active' : 'inactive', b.getAttribute('aria-pressed')].join(' ');
})()`, kind, button))
		if err != nil {
			t.Fatal(err)
		}
		if want := "track active false"; got != want {
			t.Errorf("%s after mute and unmute in one go: sender %q, want %q", kind, got, want)
		}
		n, err := b.packetsPerSecond(kind, "")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s packets a second after mute+unmute in one go: %d", kind, n)
		if n == 0 {
			t.Errorf("%s: muted and unmuted at once, the sender sends nothing", kind)
		}

		label, err := eval[string](b, fmt.Sprintf(`document.getElementById(%q).textContent`, button))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.click("#" + button); err != nil {
			t.Fatal(err)
		}
		pressed := fmt.Sprintf(`(() => { const el = document.getElementById(%q); return el.getAttribute('aria-pressed') === 'true' && el.textContent === %q; })()`, button, label)
		if err := b.waitJS(5*time.Second, button+" pressed with its label unchanged", pressed); err != nil {
			t.Fatal(err)
		}
		if err := b.click("#" + button); err != nil {
			t.Fatal(err)
		}
	}
}

// evalAwait evaluates an expression that yields a promise and returns
// what it resolves to.
func evalAwait[T any](b *browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.page, evalTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// TestPageShowsServerDraining: a joined page says when the server drains,
// and a join during the drain shows the refusal.
func TestPageShowsServerDraining(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	b := launchBrowsers(t, "D", 1)[0]
	if _, err := b.join(s.base, "drain"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var drainErr error
	drained := make(chan struct{})
	go func() {
		drainErr = s.srv.Drain(ctx)
		close(drained)
	}()
	defer func() {
		cancel()
		<-drained
	}()
	if err := b.waitJS(10*time.Second, "draining notice", `document.getElementById('notice').textContent.includes('shutting down')`); err != nil {
		t.Fatal(err)
	}
	if _, err := eval[bool](b, `(window.switchyard.leave(), true)`); err != nil {
		t.Fatal(err)
	}
	<-drained
	if drainErr != nil {
		t.Fatalf("drain: %v", drainErr)
	}
	if _, err := b.waitPage(joinTimeout, func(st pageState) string {
		if st.State != "left" {
			return "not left"
		}
		return ""
	}); err != nil {
		t.Fatal(err)
	}
	if ok, err := eval[bool](b, `window.switchyard.join('drain', 'again')`); err != nil || !ok {
		t.Fatalf("join again: %v, %v", ok, err)
	}
	st := b.waitRefused(t)
	if !strings.Contains(st.StateText, "draining") {
		t.Fatalf("page says %q, want the draining refusal", st.StateText)
	}
}

// TestPageWithoutPublishOrChatPermission: a token without publish and data
// joins receive-only: no refused offer, the camera freed, chat disabled.
func TestPageWithoutPublishOrChatPermission(t *testing.T) {
	needBrowser(t)
	s, mint := startAuthServer(t)
	token := mint(auth.Grant{Room: "watch", Identity: "viewer", Permissions: auth.Permissions{Subscribe: true}})
	b := launchBrowsers(t, "P", 1)[0]
	u := fmt.Sprintf("%s/?room=watch&name=v&token=%s", s.base, url.QueryEscape(token))
	nctx, ncancel := context.WithTimeout(b.page, joinTimeout)
	err := chromedp.Do(nctx, chromedp.Navigate(u))
	ncancel()
	if err != nil {
		t.Fatal(err)
	}
	ready := `window.switchyard.state === 'joined' && document.getElementById('notice').textContent.includes('does not allow publishing')`
	if err := b.waitJS(joinTimeout, "receive-only notice", ready); err != nil {
		t.Fatal(err)
	}
	got, err := eval[map[string]any](b, `({
		stateText: window.switchyard.stateText,
		pub: !!window.switchyardExt.session().pub,
		preview: !!document.getElementById('local-video').srcObject,
		mic: document.getElementById('mute-mic').disabled,
		chat: document.getElementById('chat-input').disabled,
	})`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"stateText": "joined", "pub": false, "preview": false, "mic": true, "chat": true}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (page %v)", k, got[k], v, got)
		}
	}
}

// TestPageKeepsItsTokenAcrossReload: the page drops ?token= from its
// address after joining; reloading it still joins, with the same token.
func TestPageKeepsItsTokenAcrossReload(t *testing.T) {
	needBrowser(t)
	s, mint := startAuthServer(t)
	token := mint(auth.Grant{Room: "reload", Identity: "ann", Permissions: auth.Permissions{Publish: true, Subscribe: true, Data: true}})
	b := launchBrowsers(t, "R", 1)[0]
	joined := func(st pageState) string {
		if st.State != "joined" {
			return "not joined"
		}
		return ""
	}
	for i, step := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(fmt.Sprintf("%s/?room=reload&name=ann&token=%s", s.base, url.QueryEscape(token))),
		chromedp.Reload(),
	} {
		ctx, cancel := context.WithTimeout(b.page, joinTimeout)
		err := chromedp.Do(ctx, step)
		cancel()
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if _, err := b.waitPage(joinTimeout, joined); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		href, err := eval[string](b, `location.href`)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(href, "token") {
			t.Errorf("step %d: address %q still shows the token", i, href)
		}
	}
}

// TestPageWithCameraDeniedStillSendsItsMic: a camera blocked for the site
// (the mic allowed) leaves the mic: the page publishes audio only, with
// its mute button usable and the camera button disabled.
func TestPageWithCameraDeniedStillSendsItsMic(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	b := launchBrowsers(t, "C", 1)[0]
	// As Chromium answers when the site's camera is blocked and its mic
	// allowed (a permission override is not honoured under
	// --use-fake-ui-for-media-stream).
	const denyCamera = `(() => {
	const md = navigator.mediaDevices, gum = md.getUserMedia.bind(md);
	md.getUserMedia = (c) => c && c.video ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError')) : gum(c);
})()`
	ctx, cancel := context.WithTimeout(b.page, evalTimeout)
	_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: denyCamera})
	cancel()
	if err != nil {
		t.Fatalf("deny the camera: %v", err)
	}
	if _, err := b.join(s.base, "no-camera"); err != nil {
		t.Fatal(err)
	}
	if err := b.waitPublishing(); err != nil {
		t.Fatal(err)
	}
	got, err := eval[map[string]any](b, `({
		kinds: window.switchyardExt.session().pub.getTransceivers().map((t) => t.sender.track ? t.sender.track.kind : '-').join(','),
		mic: document.getElementById('mute-mic').disabled,
		camera: document.getElementById('toggle-camera').disabled,
	})`)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"kinds": "audio", "mic": false, "camera": true}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (page %v)", k, got[k], v, got)
		}
	}
}

// TestPageChatErrorsStayInTheChat: a chat refused for its rate shows
// beside the chat, and the state line still says joined.
func TestPageChatErrorsStayInTheChat(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	b := launchBrowsers(t, "H", 1)[0]
	if _, err := b.join(s.base, "chatty"); err != nil {
		t.Fatal(err)
	}
	// More than the burst of 10 at once.
	if _, err := eval[bool](b, `(() => { for (let i = 0; i < 20; i++) window.switchyardExt.send({ type: 'chat', text: 'spam ' + i }); return true; })()`); err != nil {
		t.Fatal(err)
	}
	if err := b.waitJS(10*time.Second, "rate-limited shown in the chat", `!!window.switchyard.lastError && window.switchyard.lastError.code === 'rate-limited' && document.getElementById('chat-status').textContent !== ''`); err != nil {
		t.Fatal(err)
	}
	if st, err := b.state(); err != nil || st.StateText != "joined" {
		t.Fatalf("state line %q (%v), want joined", st.StateText, err)
	}
}
