package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// corsDo sends a request as a browser page of origin would.
func corsDo(ctx context.Context, t *testing.T, method, url, origin string, hdr map[string]string, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp
}

// A WHIP/WHEP player on another site (listed in signaling.allowed_origins)
// gets the CORS headers a browser needs for the preflight, the POST and
// the DELETE; a page of an unlisted site is refused with 403 before
// anything joins, preflight or not.
func TestWHIPCORSFollowsTheOriginRule(t *testing.T) {
	// The WHIP session it creates never connects ICE (the offer is never
	// answered), so the server's shutdown waits out its ICE failure time
	// (sfu.ICEGuard), 4 s on no CPU: it can wait beside the other parallel
	// tests.
	t.Parallel()
	const player, evil = "https://player.example", "https://evil.example"
	cfg := testConfig()
	cfg.Signaling.AllowedOrigins = []string{player}
	h := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	url := h.httpURL("/v1/whip/main")

	pre := corsDo(ctx, t, http.MethodOptions, url, player, map[string]string{
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type"}, "")
	if pre.StatusCode != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != player ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Authorization") ||
		!strings.Contains(pre.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight from %s: %d %v", player, pre.StatusCode, pre.Header)
	}
	post := corsDo(ctx, t, http.MethodPost, url, player, map[string]string{"Content-Type": "application/sdp"}, validOffer(t, h))
	if post.StatusCode != http.StatusCreated || post.Header.Get("Access-Control-Allow-Origin") != player ||
		!strings.Contains(post.Header.Get("Access-Control-Expose-Headers"), "Location") {
		t.Fatalf("POST from %s: %d %v", player, post.StatusCode, post.Header)
	}
	del := corsDo(ctx, t, http.MethodDelete, "http://"+h.srv.Addr().String()+post.Header.Get("Location"), player, nil, "")
	if del.StatusCode != http.StatusOK || del.Header.Get("Access-Control-Allow-Origin") != player {
		t.Fatalf("DELETE from %s: %d %v", player, del.StatusCode, del.Header)
	}

	for _, method := range []string{http.MethodOptions, http.MethodPost} {
		r := corsDo(ctx, t, method, url, evil, map[string]string{"Content-Type": "application/sdp", "Access-Control-Request-Method": "POST"}, validOffer(t, h))
		if r.StatusCode != http.StatusForbidden || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("%s from %s: %d %v, want 403 and no CORS headers", method, evil, r.StatusCode, r.Header)
		}
	}
	if n := h.srv.whip.Sessions(); n != 0 {
		t.Fatalf("%d WHIP sessions after the refusals, want 0", n)
	}
}
