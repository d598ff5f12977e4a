package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIndex(t *testing.T) {
	h := Handler()
	for _, target := range []string{"/", "/?room=r1&name=Ann", "/index.html"} {
		res := get(t, h, http.MethodGet, target, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", target, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
			t.Errorf("GET %s: Content-Type %q", target, ct)
		}
		if got := res.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
			t.Errorf("GET %s: CSP %q", target, got)
		}
		for _, want := range []string{"default-src 'self'", "connect-src 'self' ws: wss:", "media-src 'self' blob: mediastream:", "img-src 'self' data:"} {
			if !strings.Contains(res.Header.Get("Content-Security-Policy"), want) {
				t.Errorf("GET %s: CSP lacks %q", target, want)
			}
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q", target, cc)
		}
		b := body(t, res)
		for _, want := range []string{"<!doctype html>", `src="/app.js"`, `id="join"`, `id="leave"`, `id="mute-mic"`, `id="toggle-camera"`, `id="room"`, `id="name"`, `id="state"`} {
			if !strings.Contains(b, want) {
				t.Errorf("GET %s: body lacks %q", target, want)
			}
		}
		// The CSP forbids inline script and style; the page must not need them.
		for _, bad := range []string{"<script>", "style=", "onclick=", "http://", "https://"} {
			if strings.Contains(b, bad) {
				t.Errorf("GET %s: body contains %q", target, bad)
			}
		}
	}
}

func TestAssets(t *testing.T) {
	h := Handler()
	for target, want := range map[string]string{
		"/app.js":    "text/javascript",
		"/style.css": "text/css",
	} {
		res := get(t, h, http.MethodGet, target, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d", target, res.StatusCode)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, want) {
			t.Errorf("GET %s: Content-Type %q, want %s", target, ct, want)
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no nosniff", target)
		}
		if len(body(t, res)) == 0 {
			t.Errorf("GET %s: empty body", target)
		}
	}
	if b := body(t, get(t, h, http.MethodGet, "/app.js", nil)); !strings.Contains(b, "window.switchyard") {
		t.Error("app.js does not define window.switchyard")
	}
}

func TestNotFound(t *testing.T) {
	h := Handler()
	for _, target := range []string{"/nope", "/static/app.js", "/app.js/", "/../embed.go", "/v1/rtc", "/favicon.ico"} {
		if res := get(t, h, http.MethodGet, target, nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", target, res.StatusCode)
		}
	}
}

func TestMethods(t *testing.T) {
	h := Handler()
	res := get(t, h, http.MethodHead, "/", nil)
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("HEAD /: status %d, CSP %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
	res = get(t, h, http.MethodPost, "/", nil)
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: status %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
	}
}

func TestETag(t *testing.T) {
	h := Handler()
	res := get(t, h, http.MethodGet, "/app.js", nil)
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	res = get(t, h, http.MethodGet, "/app.js", map[string]string{"If-None-Match": etag})
	if res.StatusCode != http.StatusNotModified {
		t.Errorf("conditional GET: status %d, want 304", res.StatusCode)
	}
}

// Through a real server too, as a browser would reach it.
func TestServer(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Security-Policy") != ContentSecurityPolicy {
		t.Errorf("GET /: status %d, CSP %q", res.StatusCode, res.Header.Get("Content-Security-Policy"))
	}
}
