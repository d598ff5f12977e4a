package server

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/signal"
	"github.com/switchyard-sfu/switchyard/tlscert"
	"go.uber.org/zap"
)

func tlsTestConfig(t *testing.T) config.Config {
	cfg := testConfig()
	cfg.TLS.Listen = "127.0.0.1:0"
	cfg.TLS.Dir = filepath.Join(t.TempDir(), "tls")
	return cfg
}

// trusting is an HTTP client that trusts only the server's self-signed
// certificate and does not follow redirects.
func trusting(t *testing.T, dir string) (*http.Client, *tls.Config) {
	t.Helper()
	pemBytes, err := os.ReadFile(filepath.Join(dir, tlscert.SelfSignedCertFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no certificate in the self-signed file")
	}
	conf := &tls.Config{RootCAs: roots}
	return &http.Client{
		Transport:     &http.Transport{TLSClientConfig: conf},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, conf
}

func TestHTTPSSelfSignedServesThePageAndSignaling(t *testing.T) {
	cfg := tlsTestConfig(t)
	h := startServer(t, cfg)
	client, conf := trusting(t, cfg.TLS.Dir)
	base := "https://" + h.srv.TLSAddr().String()

	resp, err := client.Get(base + "/?room=a")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<html") {
		t.Fatalf("GET / over https = %d %.80q", resp.StatusCode, body)
	}

	// The page's own WebSocket: wss:, Origin the https page.
	dialer := websocket.Dialer{TLSClientConfig: conf}
	ws, _, err := dialer.Dial("wss://"+h.srv.TLSAddr().String()+"/v1/rtc", http.Header{"Origin": {base}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteJSON(signal.Join{Type: signal.TypeJoin, Room: "a", Name: "ann"}); err != nil {
		t.Fatal(err)
	}
	var m struct {
		Type string `json:"type"`
	}
	if err := ws.ReadJSON(&m); err != nil || m.Type != signal.TypeJoined {
		t.Fatalf("first message over wss = %+v, %v; want joined", m, err)
	}
}

func TestPlainListenerRedirectsToHTTPS(t *testing.T) {
	cfg := tlsTestConfig(t)
	h := startServer(t, cfg)
	_, tlsPort, _ := net.SplitHostPort(h.srv.TLSAddr().String())
	plain := "http://" + h.srv.Addr().String()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	for _, tc := range []struct {
		method, path string
		code         int
		location     string
	}{
		{"GET", "/?room=standup", http.StatusTemporaryRedirect, "https://127.0.0.1:" + tlsPort + "/?room=standup"},
		{"GET", "/v1/rtc", http.StatusTemporaryRedirect, "https://127.0.0.1:" + tlsPort + "/v1/rtc"},
		{"POST", "/v1/whip/standup", http.StatusTemporaryRedirect, "https://127.0.0.1:" + tlsPort + "/v1/whip/standup"},
		{"POST", "/v1/leave", http.StatusTemporaryRedirect, "https://127.0.0.1:" + tlsPort + "/v1/leave"},
		{"GET", "/healthz", http.StatusOK, ""}, // probes need no certificate
		{"GET", "/readyz", http.StatusOK, ""},
	} {
		req, _ := http.NewRequest(tc.method, plain+tc.path, strings.NewReader("{}"))
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.code || resp.Header.Get("Location") != tc.location {
			t.Errorf("%s %s = %d Location %q, want %d %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Location"), tc.code, tc.location)
		}
	}
}

func TestRedirectTarget(t *testing.T) {
	for _, tc := range []struct{ host, port, want string }{
		{"192.168.1.20:7880", "7443", "https://192.168.1.20:7443/x?y=1"},
		{"meet.example.com", "443", "https://meet.example.com/x?y=1"},
		{"meet.example.com:80", "443", "https://meet.example.com/x?y=1"},
		{"[fd00::5]:7880", "7443", "https://[fd00::5]:7443/x?y=1"},
		{"[fd00::5]:80", "443", "https://[fd00::5]/x?y=1"},
		{"", "7443", ""},
	} {
		req := httptest.NewRequest("GET", "/x?y=1", nil)
		req.Host = tc.host
		rec := httptest.NewRecorder()
		redirectToHTTPS(tc.port).ServeHTTP(rec, req)
		if got := rec.Header().Get("Location"); got != tc.want {
			t.Errorf("Host %q: Location %q, want %q", tc.host, got, tc.want)
		}
		if tc.want == "" && rec.Code != http.StatusBadRequest {
			t.Errorf("no Host: %d, want 400", rec.Code)
		}
	}
}

func TestSelfSignedIsKeptAcrossRestarts(t *testing.T) {
	cfg := tlsTestConfig(t)
	var fingerprints []string
	for range 2 {
		srv, err := New(cfg, Options{Log: zap.NewNop()})
		if err != nil {
			t.Fatal(err)
		}
		fingerprints = append(fingerprints, tlscert.Fingerprint(srv.https.conf.Certificates[0].Leaf))
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if fingerprints[0] != fingerprints[1] {
		t.Errorf("restart changed the certificate: %q", fingerprints)
	}
}

// Bad TLS settings stop New with an error naming the key; nothing panics
// and nothing is left listening.
func TestBadTLSConfigIsAnErrorAtStart(t *testing.T) {
	dir := t.TempDir()
	notADir := filepath.Join(dir, "file")
	if err := os.WriteFile(notADir, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := tlsTestConfig(t)
	srv, err := New(other, Options{Log: zap.NewNop()}) // makes a pair to mismatch against
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Shutdown(context.Background())
	otherKey := filepath.Join(other.TLS.Dir, tlscert.SelfSignedKeyFile)
	third := tlsTestConfig(t)
	srv, err = New(third, Options{Log: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	_ = srv.Shutdown(context.Background())
	thirdCert := filepath.Join(third.TLS.Dir, tlscert.SelfSignedCertFile)

	for name, tc := range map[string]struct {
		set  func(*config.TLSConfig)
		want string
	}{
		"missing cert file": {func(c *config.TLSConfig) { c.CertFile, c.KeyFile = filepath.Join(dir, "nope.pem"), otherKey }, "tls.cert_file"},
		"key mismatch":      {func(c *config.TLSConfig) { c.CertFile, c.KeyFile = thirdCert, otherKey }, "does not match"},
		"dir is a file":     {func(c *config.TLSConfig) { c.Dir = notADir }, "tls.dir"},
		"acme dir is a file": {func(c *config.TLSConfig) {
			c.ACMEHosts, c.Dir = []string{"meet.example.com"}, notADir
		}, "tls.dir"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := tlsTestConfig(t)
			tc.set(&cfg.TLS)
			if err := cfg.Validate(); err != nil {
				t.Fatalf("config invalid before the files are read: %v", err)
			}
			srv, err := New(cfg, Options{Log: zap.NewNop()})
			if err == nil {
				_ = srv.Shutdown(context.Background())
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestTLSListenInUseIsAnErrorAtStart(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cfg := tlsTestConfig(t)
	cfg.TLS.Listen = busy.Addr().String()
	srv, err := New(cfg, Options{Log: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown(context.Background())
	if err := srv.Start(); err == nil || !strings.Contains(err.Error(), "tls.listen") {
		t.Fatalf("Start() = %v, want a tls.listen error", err)
	}
}

// With ACME, the plain listener answers the http-01 challenge path itself
// (never redirected) and the TLS listener refuses names not configured,
// before any contact with a CA.
func TestACMEChallengeOnPlainListenerAndHostPolicy(t *testing.T) {
	cfg := tlsTestConfig(t)
	cfg.TLS.ACMEHosts = []string{"meet.example.com"}
	h := startServer(t, cfg)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	plain := "http://" + h.srv.Addr().String()
	for _, tc := range []struct {
		host, path string
		want       int
	}{
		{"meet.example.com", "/.well-known/acme-challenge/no-such-token", http.StatusNotFound}, // autocert's own answer
		{"127.0.0.1", "/.well-known/acme-challenge/no-such-token", http.StatusForbidden},       // not a configured host
		{"meet.example.com", "/", http.StatusTemporaryRedirect},
	} {
		req, _ := http.NewRequest("GET", plain+tc.path, nil)
		req.Host = tc.host
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %s (Host %s) on the plain listener = %d, want %d", tc.path, tc.host, resp.StatusCode, tc.want)
		}
	}
	for _, name := range []string{"evil.example.com", ""} {
		conn, err := tls.Dial("tcp", h.srv.TLSAddr().String(), &tls.Config{ServerName: name, InsecureSkipVerify: true})
		if err == nil {
			conn.Close()
			t.Errorf("TLS handshake for %q succeeded; only meet.example.com is configured", name)
		}
	}
	if _, err := os.Stat(filepath.Join(cfg.TLS.Dir, tlscert.ACMEDir)); err != nil {
		t.Errorf("ACME cache dir: %v", err)
	}
}

func TestDefaultAdvertiseURL(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4zero, Port: 7443}
	if got := defaultAdvertiseURL("wss", addr); got != "wss://127.0.0.1:7443/v1/rtc" {
		t.Errorf("defaultAdvertiseURL(wss, %v) = %q", addr, got)
	}
}
