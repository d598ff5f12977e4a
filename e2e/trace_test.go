package e2e

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// traceJS runs before the page's own scripts and records, with wall-clock
// milliseconds, what the client does on the wire: socket messages by type,
// peer connection states, getUserMedia. It only observes (subclasses that
// call through), and the trace is printed when a test fails, to tell a
// slow camera from a slow ICE or DTLS from a server that never answered.
const traceJS = `(() => {
	const trace = [];
	window.__e2eTrace = trace;
	const log = (m) => { try { trace.length < 2000 && trace.push(Date.now() + ' ' + m); } catch (_) {} };
	const md = navigator.mediaDevices;
	if (md && md.getUserMedia) {
		const gum = md.getUserMedia.bind(md);
		md.getUserMedia = async (c) => {
			log('getUserMedia ' + JSON.stringify(c));
			try { const s = await gum(c); log('getUserMedia ok: ' + s.getTracks().map((t) => t.kind).join(',')); return s; }
			catch (e) { log('getUserMedia failed: ' + e.name); throw e; }
		};
	}
	let pcs = 0;
	window.RTCPeerConnection = class extends window.RTCPeerConnection {
		constructor(...a) {
			super(...a);
			const id = 'pc' + (++pcs);
			(window.__e2ePCs ||= []).push(this); // for settleICE
			log(id + ' created');
			this.addEventListener('connectionstatechange', () => log(id + ' connection ' + this.connectionState));
			this.addEventListener('iceconnectionstatechange', () => log(id + ' ice ' + this.iceConnectionState));
			this.addEventListener('track', (e) => log(id + ' track ' + e.track.kind + ' stream ' + (e.streams[0] ? e.streams[0].id : '-')));
		}
	};
	const kind = (d) => { try { const m = JSON.parse(d); return m.type + (m.pc ? ' ' + m.pc : '') + (m.reason ? ' ' + m.reason : '') + (m.participant_id ? ' ' + m.participant_id : ''); } catch (_) { return 'non-json'; } };
	window.WebSocket = class extends window.WebSocket {
		constructor(...a) {
			super(...a);
			log('ws connecting');
			this.addEventListener('open', () => log('ws open'));
			this.addEventListener('message', (e) => log('ws < ' + kind(e.data)));
			this.addEventListener('close', (e) => log('ws closed ' + e.code + ' ' + e.reason));
		}
		send(d) { log('ws > ' + kind(d)); return super.send(d); }
	};
	addEventListener('pagehide', (e) => log('pagehide persisted=' + e.persisted));
})()`

func (b *browser) installTrace() error {
	ctx, cancel := context.WithTimeout(b.page, evalTimeout)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: traceJS}); err != nil {
		return fmt.Errorf("%s: install trace: %w", b.name, err)
	}
	return nil
}

// traceText is the page's trace, for a failure report; it says why when
// the page cannot be asked (frozen, killed, closed).
func (b *browser) traceText() string {
	if !b.alive() {
		return "(browser killed or frozen: no trace)"
	}
	lines, err := eval[[]string](b, `window.__e2eTrace || []`)
	if err != nil {
		return fmt.Sprintf("(no trace: %v)", err)
	}
	var sb strings.Builder
	for _, l := range lines {
		if ms, rest, ok := strings.Cut(l, " "); ok {
			var n int64
			if _, err := fmt.Sscan(ms, &n); err == nil {
				l = time.UnixMilli(n).Format("15:04:05.000") + " " + rest
			}
		}
		sb.WriteString("    " + l + "\n")
	}
	return sb.String()
}

// settleICEJS resolves (true) once no peer connection of the page that
// has sent or applied a description is still connecting ICE (the server
// starts its checks as soon as it has the page's offer or answer), or
// (false) after 2 s.
const settleICEJS = `new Promise((resolve) => {
	const busy = () => (window.__e2ePCs || []).some((pc) =>
		(pc.iceConnectionState === 'new' || pc.iceConnectionState === 'checking') &&
		(pc.localDescription || pc.remoteDescription));
	const end = Date.now() + 2000;
	const poll = () => (!busy() || Date.now() > end) ? resolve(!busy()) : setTimeout(poll, 20);
	poll();
})`

// settleICE lets the page's ICE checks end before the page is torn down.
// The server closes a peer connection whose ICE is still checking only
// once ICE has settled (sfu.ICEGuard, a pion race): a page killed
// mid-checks leaves it checking until its ICE failure time (4 s), and the
// test's server shutdown waits that long. It asserts nothing: it runs at
// teardown, after the test's own checks, and gives up after 2 s.
func (b *browser) settleICE() {
	if !b.alive() || b.page == nil || b.page.Err() != nil {
		return
	}
	if ok, err := evalAwait[bool](b, settleICEJS); err != nil || !ok {
		b.stderr.add(fmt.Sprintf("e2e: ICE still checking at teardown (%v)", err))
	}
}
