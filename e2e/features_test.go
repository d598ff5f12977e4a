package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// sentJS measures, inside the page, how many RTP packets the publish PC's
// sender of kind sends in one second, after running prep (JS statements
// with s, the session, and tr, the transceiver, in scope).
func sentJS(kind, prep string) string {
	return fmt.Sprintf(`(async () => {
	const s = window.switchyardExt.session();
	const tr = s.pub.getTransceivers().find((t) => t.receiver.track.kind === %q);
	const sent = async () => {
		let n = 0;
		(await tr.sender.getStats()).forEach((r) => { if (r.type === 'outbound-rtp') n += r.packetsSent; });
		return n;
	};
	%s;
	// Margin for packets already in the pacer when a change took effect
	// (callers wait for the change itself: senderSettled).
	await new Promise((r) => setTimeout(r, 300));
	const before = await sent();
	await new Promise((r) => setTimeout(r, 1000));
	return (await sent()) - before;
})()`, kind, prep)
}

func (b *browser) packetsPerSecond(kind, prep string) (int, error) {
	ctx, cancel := context.WithTimeout(b.page, evalTimeout)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[int](sentJS(kind, prep), chromedp.EvalAwaitPromise))
}

// senderSettled waits until the page's senders have followed every mute
// toggle so far, and says how long that took. The other page's tile
// changes as soon as the server hears "mute", but the sender follows on
// its own promise chain (replaceTrack(null), then setParameters turning
// the simulcast encodings off), which under load can still be running
// when the tile has changed: measuring from the tile alone once counted
// 72 video packets a second that were sent before the encodings went off.
func (b *browser) senderSettled() (time.Duration, error) {
	ms, err := evalAwait[float64](b, `(async () => { const t0 = performance.now(); await window.switchyardMute.settled(); return performance.now() - t0; })()`)
	return time.Duration(ms * float64(time.Millisecond)), err
}

// senderState describes the publish PC's sender of kind: its track and
// whether each encoding is active, e.g. "no track, q off h off f off".
func (b *browser) senderState(kind string) (string, error) {
	return eval[string](b, fmt.Sprintf(`(() => {
	const tr = window.switchyardExt.session().pub.getTransceivers().find((t) => t.receiver.track.kind === %q);
	const encs = (tr.sender.getParameters().encodings || []).map((e) => (e.rid || '-') + (e.active ? ' on' : ' off'));
	return [tr.sender.track ? 'track ' + tr.sender.track.readyState : 'no track', ...encs].join(', ');
})()`, kind))
}

func (b *browser) click(selector string) error {
	ctx, cancel := context.WithTimeout(b.page, evalTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Click(chromedp.CSS(selector))); err != nil {
		return fmt.Errorf("%s: click %s: %w", b.name, selector, err)
	}
	return nil
}

// waitJS polls a boolean expression in the page until it holds.
func (b *browser) waitJS(timeout time.Duration, what, expr string) error {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		ok, err := eval[bool](b, expr)
		if err == nil && ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s not seen within %v (last error %v)", b.name, what, timeout, err)
		}
		<-tick.C
	}
}

func tileAttrJS(participant, attr, value string) string {
	return fmt.Sprintf(`(() => { const el = document.querySelector('.tile[data-participant-id=%q]'); return !!el && el.dataset.%s === %q; })()`,
		participant, attr, value)
}

// TestMuteAndChatShowInTheOtherPage: in real Chromium, clicking the mic
// and camera buttons in one page shows them muted (then unmuted) on that
// participant's tile in the other page, the muted sender really stops
// sending, and a chat message typed in one page appears in the other.
func TestMuteAndChatShowInTheOtherPage(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	bs := launchBrowsers(t, "F", 2)
	ids, err := joinAll(s.base, "features", bs)
	if err != nil {
		t.Fatal(err)
	}
	errs := make([]error, len(bs))
	parallel(len(bs), func(i int) { _, errs[i] = bs[i].waitPlaying(othersOf(bs, ids, i), true, 0.25) })
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	a, b := bs[0], bs[1]
	if err := a.waitJS(mediaTimeout, "both published messages", `(window.__e2eTrace || []).filter((l) => l.includes('ws < published')).length >= 2`); err != nil {
		t.Fatal(err)
	}

	if os.Getenv(envMuteCosts) == "1" {
		logMuteCosts(t, a)
	}

	// Mic: click mute in A; B's tile for A shows it, and A sends nothing.
	if err := a.click("#mute-mic"); err != nil {
		t.Fatal(err)
	}
	if err := b.waitJS(5*time.Second, "A's mic muted on B's tile", tileAttrJS(ids[0], "micMuted", "true")); err != nil {
		t.Fatal(err)
	}
	settle, err := a.senderSettled()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("A's mic sender settled %v after B saw the mute", settle)
	mutedAudio, err := a.packetsPerSecond("audio", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("audio packets sent per second while muted (replaceTrack(null)): %d", mutedAudio)
	if mutedAudio > 0 {
		t.Errorf("A's muted mic still sends %d packets a second", mutedAudio)
	}
	if muted := s.trackMuted(ids[0], "audio"); !muted {
		t.Errorf("server: A's audio track is not muted")
	}

	// Camera: the same, and both badges at once.
	if err := a.click("#toggle-camera"); err != nil {
		t.Fatal(err)
	}
	if err := b.waitJS(5*time.Second, "A's camera off on B's tile", tileAttrJS(ids[0], "cameraMuted", "true")+" && "+tileAttrJS(ids[0], "micMuted", "true")); err != nil {
		t.Fatal(err)
	}
	if settle, err = a.senderSettled(); err != nil {
		t.Fatal(err)
	}
	t.Logf("A's camera sender settled %v after B saw it off", settle)
	mutedVideo, err := a.packetsPerSecond("video", "")
	if err != nil {
		t.Fatal(err)
	}
	state, err := a.senderState("video")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("video packets sent per second while camera off (replaceTrack(null)): %d; sender: %s", mutedVideo, state)
	if mutedVideo > 0 {
		t.Errorf("A's camera still sends %d packets a second while off; sender: %s", mutedVideo, state)
	}

	// Unmute both: B sees it, and A's audio reaches B again.
	if err := a.click("#mute-mic"); err != nil {
		t.Fatal(err)
	}
	if err := a.click("#toggle-camera"); err != nil {
		t.Fatal(err)
	}
	if err := b.waitJS(5*time.Second, "A unmuted on B's tile", tileAttrJS(ids[0], "micMuted", "false")+" && "+tileAttrJS(ids[0], "cameraMuted", "false")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.waitPlaying(othersOf(bs, ids, 1), true, 0.25); err != nil {
		t.Fatalf("after unmute: %v", err)
	}

	// Chat: typed in A, shown in B with A's name; B's own shows too.
	text := "hello from F1 <b>not bold</b>"
	ctx, cancel := context.WithTimeout(a.page, evalTimeout)
	_, err = chromedp.Run(ctx, chromedp.SendKeys(chromedp.ID("chat-input"), text))
	if err == nil {
		_, err = chromedp.Run(ctx, chromedp.Click(chromedp.CSS("#chat-form button")))
	}
	cancel()
	if err != nil {
		t.Fatalf("type chat in A: %v", err)
	}
	seen := fmt.Sprintf(`[...document.querySelectorAll('#chat-log li')].some((li) => li.dataset.from === %q && li.querySelector('.from').textContent === %q && li.querySelector('.text').textContent === %q)`,
		ids[0], a.name, text)
	for _, p := range bs {
		if err := p.waitJS(5*time.Second, "A's chat message in the log", seen); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := eval[int](b, `document.querySelectorAll('#chat-log b').length`); err != nil || n != 0 {
		t.Fatalf("chat text was rendered as HTML (%d <b> elements, %v)", n, err)
	}
}

// envMuteCosts, set to 1, has TestMuteAndChatShowInTheOtherPage log what
// each way of muting costs in packets (8 s of measuring, asserted nothing:
// it is why the page mutes with replaceTrack(null), not track.enabled).
const envMuteCosts = "SWITCHYARD_MUTE_COSTS"

// logMuteCosts logs the packets a's senders send per second live, with
// track.enabled=false and enabled again.
func logMuteCosts(t *testing.T, a *browser) {
	t.Helper()
	for _, kind := range []string{"audio", "video"} {
		on, err1 := a.packetsPerSecond(kind, "")
		disabled, err2 := a.packetsPerSecond(kind, "for (const t of s.localStream.getTracks()) if (t.kind === tr.receiver.track.kind) t.enabled = false")
		restored, err3 := a.packetsPerSecond(kind, "for (const t of s.localStream.getTracks()) t.enabled = true")
		if err := errorsJoin(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s packets sent per second: live %d, track.enabled=false %d, enabled again %d", kind, on, disabled, restored)
	}
}

func errorsJoin(errs ...error) error {
	var msgs []string
	for _, err := range errs {
		if err != nil {
			msgs = append(msgs, err.Error())
		}
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%s", strings.Join(msgs, "; "))
}
