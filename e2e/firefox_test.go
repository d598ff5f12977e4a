package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/room"
)

// TestFirefoxPresence: Firefox ESR (headless, WebDriver BiDi, in the veth
// lab) joins a room with a Chromium; each receives the other's media.
// Its Leave button, a navigation away and closing its tab each reach the
// server within 150 ms with the right reason: leave (or tab-closed, the
// beacon), never socket-closed.
func TestFirefoxPresence(t *testing.T) {
	needBrowser(t)
	if _, err := exec.LookPath("firefox-esr"); err != nil {
		if os.Getenv(envRequire) == "1" {
			t.Fatalf("browser tests required (%s=1) but firefox-esr is missing (apt-get install -y firefox-esr)", envRequire)
		}
		t.Skip("firefox-esr not installed (apt-get install -y firefox-esr)")
	}
	setupVeth(t)
	s := startServerWith(t, func(c *config.Config) {
		c.Listen = "0.0.0.0:0" // lo for Chromium, the veth for Firefox; nothing else exists here
		c.ICE.Interfaces = []string{"lo", ffVethSrv}
		c.ICE.UDPListen = "0.0.0.0:0"
	})
	_, port, err := net.SplitHostPort(s.srv.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s.base = "http://127.0.0.1:" + port
	ffBase := "http://" + ffSrvIP + ":" + port

	ff, err := launchFirefox(t, ffSrvIP)
	if err != nil {
		t.Fatal(err)
	}
	tab, err := ff.newTab()
	if err != nil {
		t.Fatal(err)
	}
	bs := launchBrowsers(t, "C", 1)
	chrome := bs[0]
	const roomName = "ff"
	chromeID, err := chrome.join(s.base, roomName)
	if err != nil {
		t.Fatal(err)
	}

	joinFF := func() string {
		t.Helper()
		if err := ff.navigate(tab, fmt.Sprintf("%s/?room=%s&name=F1", ffBase, roomName), "complete"); err != nil {
			t.Fatal(err)
		}
		st, err := ff.waitState(tab, joinTimeout, func(st pageState) string {
			if st.State != "joined" || st.ID == "" {
				return "not joined"
			}
			return ""
		})
		if err != nil {
			t.Fatal(err)
		}
		return st.ID
	}
	ffID := joinFF()

	// Media both ways: Chromium plays Firefox's audio and video, Firefox
	// plays Chromium's.
	if _, err := chrome.waitPlaying(map[string]string{ffID: "F1"}, true, 0.2); err != nil {
		t.Fatal(err)
	}
	var start float64
	if _, err := ff.waitState(tab, mediaTimeout, func(st pageState) string {
		if len(st.Tiles) != 1 || st.Tiles[0].ID != chromeID || !st.Tiles[0].AudioLive || st.Tiles[0].VideoWidth == 0 {
			return "Chromium's tile without live audio and video"
		}
		if start == 0 {
			start = st.Tiles[0].CurrentTime
		}
		if st.Tiles[0].CurrentTime < start+0.2 {
			return "Chromium's media not advancing"
		}
		return ""
	}); err != nil {
		var dbg any
		derr := ff.eval(tab, `(async () => {
			const v = document.querySelector('.tile video');
			const s = window.switchyardExt.session();
			const stats = [];
			if (s && s.sub) (await s.sub.getStats()).forEach((r) => { if (r.type === 'inbound-rtp') stats.push([r.kind, r.packetsReceived, r.framesDecoded]); });
			return {paused: v && v.paused, ready: v && v.readyState, err: v && v.error && v.error.message, tracks: v && v.srcObject && v.srcObject.getTracks().map((t) => t.kind + ':' + t.readyState + ':' + t.muted), stats, notice: document.getElementById('notice').textContent};
		})()`, &dbg)
		t.Fatal(err, dbg, derr)
	}

	// check waits for the server's leave of id and judges it; t0 is the
	// page's (or the test's) clock when the action began.
	check := func(what, id string, t0 time.Time, reasons ...room.Reason) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		ev, err := s.rec.waitLeft(ctx, id)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		d := ev.At.Sub(t0)
		t.Logf("firefox %-10s → server: %-11s %s", what, ev.Reason, ms(d))
		if !slices.Contains(reasons, ev.Reason) {
			t.Errorf("firefox %s logged as %q, want one of %v", what, ev.Reason, reasons)
		}
		if d > 150*time.Millisecond {
			t.Errorf("firefox %s reached the server after %v, limit 150 ms", what, ms(d))
		}
	}

	// Leave button.
	var clicked int64
	if err := ff.eval(tab, `(() => { const t = Date.now(); document.getElementById('leave').click(); return t; })()`, &clicked); err != nil {
		t.Fatal(err)
	}
	check("leave", ffID, time.UnixMilli(clicked), room.ReasonLeave)

	// rejoinFF joins again and waits for audio both ways, so that the
	// leave that follows finds no peer connection still connecting: the
	// server closes one only at its ICE failure time (sfu.ICEGuard), and
	// the test's shutdown would wait for it.
	rejoinFF := func() string {
		t.Helper()
		id := joinFF()
		if _, err := chrome.waitPlaying(map[string]string{id: "F1"}, false, 0.1); err != nil {
			t.Fatal(err)
		}
		if _, err := ff.waitState(tab, mediaTimeout, func(st pageState) string {
			if len(st.Tiles) != 1 || st.Tiles[0].ID != chromeID || !st.Tiles[0].AudioLive {
				return "Chromium's tile without live audio"
			}
			return ""
		}); err != nil {
			t.Fatal(err)
		}
		return id
	}

	// Navigation away.
	ffID = rejoinFF()
	if err := ff.eval(tab, fmt.Sprintf(`(() => { const t = Date.now(); location.href = %q; return t; })()`, ffBase+"/healthz"), &clicked); err != nil {
		t.Fatal(err)
	}
	check("navigation", ffID, time.UnixMilli(clicked), room.ReasonLeave, room.ReasonTabClosed)

	// Tab closed.
	ffID = rejoinFF()
	t0 := time.Now()
	if _, err := ff.call("browsingContext.close", map[string]any{"context": tab, "promptUnload": true}); err != nil {
		t.Fatal(err)
	}
	check("tab close", ffID, t0, room.ReasonLeave, room.ReasonTabClosed)
	if n := s.participants(); n != 1 {
		t.Errorf("server counts %d participants after Firefox left, want 1", n)
	}
}
