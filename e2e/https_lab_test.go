package e2e

import (
	"context"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/tlscert"
)

// The HTTPS lab: the server listens on a veth address (not loopback), as
// it would on a LAN, with its own self-signed certificate. Browsers treat
// http://127.0.0.1 as secure but http://10.x.y.z not, so this is where
// the server's own HTTPS must give the page its camera. Both veth ends
// stay in the test's private namespace; names and subnet are this test's.
const (
	httpsVethA = "sy18ha"
	httpsVethB = "sy18hb"
	httpsLabIP = "10.121.8.1"
)

func setupHTTPSLab(t *testing.T) {
	t.Helper()
	// No IPv6 link-local addresses: one appearing a second or two later
	// (after DAD) is a network change to the browsers in this namespace,
	// and a page loading then fails with ERR_NETWORK_CHANGED (seen once,
	// in the wrong-pin control of a clean-clone CI run).
	ipLab(t, [][]string{{"link", "del", httpsVethA}}, [][]string{
		{"link", "add", httpsVethA, "type", "veth", "peer", "name", httpsVethB},
		{"link", "set", httpsVethA, "addrgenmode", "none"},
		{"link", "set", httpsVethB, "addrgenmode", "none"},
		{"addr", "add", httpsLabIP + "/24", "dev", httpsVethA},
		{"link", "set", httpsVethA, "up"},
		{"link", "set", httpsVethB, "up"},
	})
}

// httpsProbeJS reports what a page needs for a call: a secure context, a
// camera and microphone, and the signaling socket of its own origin
// (wss:, whose Origin the server must accept).
const httpsProbeJS = `(async () => {
  const out = {href: location.href, secure: window.isSecureContext, tracks: [], gum: '', socket: ''};
  try {
    const s = await navigator.mediaDevices.getUserMedia({video: true, audio: true});
    out.tracks = s.getTracks().map((t) => t.kind + ':' + t.readyState);
    s.getTracks().forEach((t) => t.stop());
  } catch (e) { out.gum = String(e); }
  if (location.protocol === 'https:') {
    out.socket = await new Promise((resolve) => {
      const ws = new WebSocket('wss://' + location.host + '/v1/rtc');
      const timer = setTimeout(() => resolve('timeout'), 4000);
      ws.onopen = () => ws.send(JSON.stringify({type: 'join', room: 'lan', name: 'colleague'}));
      ws.onmessage = (m) => { clearTimeout(timer); resolve(JSON.parse(m.data).type); ws.close(); };
      ws.onerror = () => { clearTimeout(timer); resolve('error'); };
    });
  }
  return out;
})()`

type httpsProbe struct {
	Href   string   `json:"href"`
	Secure bool     `json:"secure"`
	Tracks []string `json:"tracks"`
	GUM    string   `json:"gum"`
	Socket string   `json:"socket"`
}

// TestHTTPSOnLANAddressGivesTheCamera: Chromium opens the page at the lab
// (non-loopback) address over the server's own HTTPS, trusting only the
// server's self-signed certificate by its public key, with no
// insecure-origin flag, and gets camera and microphone. Controls: the
// same address over plain http is not a secure context (so the check can
// fail), and the plain listener sends the browser to HTTPS.
func TestHTTPSOnLANAddressGivesTheCamera(t *testing.T) {
	needBrowser(t)
	setupHTTPSLab(t)
	tlsDir := filepath.Join(t.TempDir(), "tls")
	s := startServerWith(t, func(c *config.Config) {
		c.Listen = httpsLabIP + ":0"
		c.TLS.Listen = httpsLabIP + ":0"
		c.TLS.Dir = tlsDir
	})
	ss, err := tlscert.LoadOrCreateSelfSigned(tlsDir, nil, nil, time.Now()) // the pair the server made
	if err != nil {
		t.Fatal(err)
	}
	if ss.Created {
		t.Fatal("the server made no self-signed certificate in tls.dir")
	}
	if err := ss.Leaf.VerifyHostname(httpsLabIP); err != nil {
		t.Fatalf("the self-signed certificate does not cover the LAN address: %v", err)
	}
	secureURL := "https://" + s.srv.TLSAddr().String() + "/"
	plainBase := "http://" + s.srv.Addr().String()

	b, err := launchBrowserFlags(t, "lan", []string{
		"--ignore-certificate-errors-spki-list=" + tlscert.SPKIHash(ss.Leaf),
		// Replaces chromiumFlags' rule (the last one wins): the lab address resolves too.
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE " + httpsLabIP,
	})
	if err != nil {
		t.Fatal(err)
	}
	probe := func(u string) httpsProbe {
		t.Helper()
		ctx, cancel := context.WithTimeout(b.page, joinTimeout)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(u)); err != nil {
			t.Fatalf("navigate %s: %v\n%s", u, err, b.stderr)
		}
		p, err := evalAwait[httpsProbe](b, httpsProbeJS)
		if err != nil {
			t.Fatalf("probe %s: %v", u, err)
		}
		t.Logf("%s → %+v", u, p)
		return p
	}

	got := probe(secureURL)
	if !got.Secure || got.GUM != "" || strings.Join(got.Tracks, ",") != "video:live,audio:live" && strings.Join(got.Tracks, ",") != "audio:live,video:live" {
		t.Errorf("https page at %s: secure %v, tracks %q, getUserMedia error %q; want a secure context with camera and microphone",
			secureURL, got.Secure, got.Tracks, got.GUM)
	}
	if got.Socket != "joined" {
		t.Errorf("the page's wss:// socket got %q, want joined", got.Socket)
	}

	// The plain listener redirects a browser to the same path over HTTPS.
	got = probe(plainBase + "/?room=lan")
	if want := secureURL + "?room=lan"; got.Href != want || !got.Secure {
		t.Errorf("http://…/?room=lan ended at %s (secure %v), want %s", got.Href, got.Secure, want)
	}

	// Control: the same address over plain http (the probes are not
	// redirected) is no secure context, and there is no camera.
	got = probe(plainBase + "/healthz")
	if u, _ := url.Parse(got.Href); u == nil || u.Scheme != "http" || got.Secure || len(got.Tracks) > 0 {
		t.Errorf("control: plain http page %s: secure %v, tracks %q; want an insecure context without camera", got.Href, got.Secure, got.Tracks)
	}
	if _, _, err := net.SplitHostPort(s.srv.Addr().String()); err != nil || !strings.HasPrefix(s.srv.Addr().String(), httpsLabIP) {
		t.Errorf("server listens on %s, want the lab address", s.srv.Addr())
	}

	// Control: a browser pinning another key refuses the page, so the
	// trust above came from the pin and nothing else.
	other, err := tlscert.LoadOrCreateSelfSigned(filepath.Join(t.TempDir(), "other"), nil, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := launchBrowserFlags(t, "wrong-pin", []string{
		"--ignore-certificate-errors-spki-list=" + tlscert.SPKIHash(other.Leaf),
		"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE " + httpsLabIP,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(wrong.page, joinTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(secureURL)); err == nil || !strings.Contains(err.Error(), "ERR_CERT") {
		t.Errorf("a browser pinning another key opened %s: %v", secureURL, err)
	}
}
