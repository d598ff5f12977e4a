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
