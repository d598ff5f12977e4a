package e2e

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// peopleWatchJS records, in the observing page, every render of the
// people panel entry of participant %q: when (Date.now()) and its state,
// plus when the server's active-speakers first named them.
const peopleWatchJS = `(() => {
	const id = %q;
	const log = window.__pp = [];
	const list = document.getElementById('people-list');
	const snap = () => {
		const li = list.querySelector('li[data-participant-id="' + id + '"]');
		log.push({ t: Date.now(), present: !!li, mic: li ? li.dataset.micMuted : '', screen: li ? li.dataset.screen : '', speaking: li ? li.dataset.speaking : '' });
	};
	new MutationObserver(snap).observe(list, { childList: true, subtree: true, attributes: true });
	snap();
	window.__spk = 0;
	window.switchyardExt.on('message', (m) => {
		if (!window.__spk && m.type === 'active-speakers' && (m.speakers || []).some((s) => s.participant_id === id)) window.__spk = Date.now();
	});
	return true;
})()`

type peopleRec struct {
	T       int64  `json:"t"`
	Present bool   `json:"present"`
	Mic     string `json:"mic"`
	Screen  string `json:"screen"`
	Speak   string `json:"speaking"`
}

// seenAfter waits until the observer's panel shows ok in a render at or
// after since (page milliseconds) and returns how long after t0 it did
// (zero if before: the other page may hear of it first).
func seenAfter(b *browser, since, t0 int64, timeout time.Duration, what string, ok func(peopleRec) bool) (time.Duration, error) {
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	for {
		raw, err := eval[string](b, `JSON.stringify(window.__pp)`)
		if err == nil {
			var recs []peopleRec
			if err := json.Unmarshal([]byte(raw), &recs); err != nil {
				return 0, err
			}
			for _, r := range recs {
				if r.T >= since && ok(r) {
					return time.Duration(max(0, r.T-t0)) * time.Millisecond, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("%s: the people panel did not show %s within %v", b.name, what, timeout)
		}
		<-tick.C
	}
}

// TestPeoplePanelFollowsState: the other page's people panel follows a
// participant's mute (from the click), screen share (from the server's
// accepting the screen track), speaking (from the server's
// active-speakers) and leave (from the click), each within 500 ms.
func TestPeoplePanelFollowsState(t *testing.T) {
	needBrowser(t)
	s := startServer(t)
	bs := launchBrowsers(t, "PP", 2)
	ids, err := joinAll(s.base, "people", bs)
	if err != nil {
		t.Fatal(err)
	}
	actor, observer := bs[0], bs[1]
	if _, err := observer.waitPlaying(othersOf(bs, ids, 1), true, 0.1); err != nil {
		t.Fatal(err)
	}
	if _, err := eval[bool](observer, fmt.Sprintf(peopleWatchJS, ids[0])); err != nil {
		t.Fatal(err)
	}
	if _, err := eval[bool](actor, `(window.__pub = [], window.switchyardExt.on('message', (m) => { if (m.type === 'published' && m.track.kind === 'video') window.__pub.push(Date.now()); }), true)`); err != nil {
		t.Fatal(err)
	}
	const bound = 500 * time.Millisecond
	check := func(what string, took time.Duration, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s shown after %v", what, took)
		if took > bound {
			t.Errorf("%s shown after %v, want at most %v", what, took, bound)
		}
	}

	for _, muted := range []string{"true", "false"} {
		t0, err := eval[int64](actor, `(() => { const t = Date.now(); document.getElementById('mute-mic').click(); return t; })()`)
		if err != nil {
			t.Fatal(err)
		}
		took, err := seenAfter(observer, t0, t0, 5*time.Second, "mic muted="+muted, func(r peopleRec) bool { return r.Present && r.Mic == muted })
		check("mic muted="+muted, took, err)
	}

	since, err := eval[int64](observer, `Date.now()`)
	if err != nil {
		t.Fatal(err)
	}
	if err := actor.click("#share-screen"); err != nil {
		t.Fatal(err)
	}
	if err := actor.waitJS(mediaTimeout, "the screen track published", `window.__pub.length >= 1`); err != nil {
		t.Fatal(err)
	}
	tPub, err := eval[int64](actor, `window.__pub[0]`)
	if err != nil {
		t.Fatal(err)
	}
	took, err := seenAfter(observer, since, tPub, 5*time.Second, "screen sharing", func(r peopleRec) bool { return r.Present && r.Screen == "true" })
	check("screen share (from the server's published)", took, err)
	t0, err := eval[int64](actor, `(() => { const t = Date.now(); document.getElementById('share-screen').click(); return t; })()`)
	if err != nil {
		t.Fatal(err)
	}
	took, err = seenAfter(observer, t0, t0, 5*time.Second, "screen share stopped", func(r peopleRec) bool { return r.Present && r.Screen == "false" })
	check("screen share stopped (from the click)", took, err)

	// The quality indicator reads getStats: the actor's tile and entry get a grade.
	if err := observer.waitJS(10*time.Second, "a quality grade on the actor's tile and entry", fmt.Sprintf(`(() => {
		const tile = document.querySelector('.tile[data-participant-id=%[1]q]');
		const li = document.querySelector('#people-list li[data-participant-id=%[1]q]');
		return !!tile && ['good', 'fair', 'poor'].includes(tile.dataset.quality) && tile.querySelector('.quality').textContent.includes('fps') && !!li && li.dataset.quality === tile.dataset.quality;
	})()`, ids[0])); err != nil {
		got, _ := eval[string](observer, fmt.Sprintf(`(() => { const tile = document.querySelector('.tile[data-participant-id=%[1]q]'); const q = tile && tile.querySelector('.quality'); const li = document.querySelector('#people-list li[data-participant-id=%[1]q]'); return JSON.stringify({ tile: tile && tile.dataset.quality, text: q && q.textContent, li: li && li.dataset.quality }); })()`, ids[0]))
		t.Errorf("%v: %s", err, got)
	}

	// A loud tone instead of the fake microphone's short beeps: the server
	// hears a speaker for sure.
	if _, err := evalAwait[bool](actor, `(async () => {
		const ctx = new AudioContext();
		const osc = ctx.createOscillator();
		const dst = ctx.createMediaStreamDestination();
		osc.connect(dst);
		osc.start();
		const tr = window.switchyardExt.session().pub.getTransceivers().find((t) => t.sender.track && t.sender.track.kind === 'audio');
		await tr.sender.replaceTrack(dst.stream.getAudioTracks()[0]);
		return true;
	})()`); err != nil {
		t.Fatal(err)
	}
	if err := observer.waitJS(20*time.Second, "active-speakers naming the actor", `window.__spk > 0`); err != nil {
		t.Fatal(err)
	}
	tSpk, err := eval[int64](observer, `window.__spk`)
	if err != nil {
		t.Fatal(err)
	}
	took, err = seenAfter(observer, 0, tSpk, 5*time.Second, "speaking", func(r peopleRec) bool { return r.Present && r.Speak == "true" })
	check("speaking (from active-speakers)", took, err)

	t0, err = eval[int64](actor, `(() => { const t = Date.now(); document.getElementById('leave').click(); return t; })()`)
	if err != nil {
		t.Fatal(err)
	}
	took, err = seenAfter(observer, t0, t0, 5*time.Second, "the actor gone", func(r peopleRec) bool { return !r.Present })
	check("leave (from the click)", took, err)
}
