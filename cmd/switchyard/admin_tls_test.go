package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/server"
	"go.uber.org/zap/zaptest"
)

// With HTTPS on, the admin CLI goes to tls.listen (the plain listener only
// redirects) and trusts the server's own self-signed certificate.
func TestAdminCLIOverHTTPS(t *testing.T) {
	cfg := config.Default()
	cfg.Listen = "127.0.0.1:0"
	cfg.ICE.Interfaces = []string{"lo"}
	cfg.ICE.UDPListen, cfg.ICE.TCPListen = "127.0.0.1:0", ""
	cfg.ICE.UDP4Only = true
	cfg.SessionLog.Path = ""
	cfg.Auth.Secret = cliSecret
	cfg.TLS.Listen = "127.0.0.1:0"
	cfg.TLS.Dir = filepath.Join(t.TempDir(), "tls")
	srv, err := server.New(cfg, server.Options{Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	flags := []string{"--auth.secret", cliSecret, "--listen", srv.Addr().String(), "--tls.listen", srv.TLSAddr().String(), "--tls.dir", cfg.TLS.Dir}
	code, out, errOut := runCLI(append([]string{"admin", "rooms"}, flags...)...)
	if code != 0 || !strings.Contains(out, "rooms") {
		t.Fatalf("admin rooms over https: exit %d\n%s\n%s", code, out, errOut)
	}
	// Another tls.dir holds no certificate of this server: a clear error.
	code, _, errOut = runCLI("admin", "rooms", "--auth.secret", cliSecret, "--tls.listen", srv.TLSAddr().String(), "--tls.dir", t.TempDir())
	if code != 1 || !strings.Contains(errOut, "trusting the server's certificate") {
		t.Fatalf("without the certificate: exit %d, %q", code, errOut)
	}
}
