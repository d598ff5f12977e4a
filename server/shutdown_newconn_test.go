package server

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"
)

// Browsers open speculative connections that may never carry a request.
// http.Server.Shutdown waits up to 5 s for such a connection, longer than
// the binary allows for the whole stop, so one of them made SIGTERM end in
// "shutdown incomplete" and exit status 1.
func TestShutdownDoesNotWaitForConnectionsWithoutARequest(t *testing.T) {
	h := startServer(t, testConfig())
	addr := h.srv.Addr().String()
	silent, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// The listener accepts in order: once a later connection has been
	// served, the silent one has been accepted too.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	res, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	_ = silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Fatal("the silent connection is still open after Shutdown")
	}
}
