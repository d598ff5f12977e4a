package servertest

import (
	"context"
	"net"
	"testing"
	"time"
)

// Server is what Start needs of a *server.Server (named by interface so
// package server's own tests can use this one).
type Server interface {
	Start() error
	Shutdown(ctx context.Context) error
	Addr() net.Addr
}

// Start starts srv and shuts it down when the test ends, within
// shutdownLimit; it returns the server's host:port.
func Start(t testing.TB, srv Server, shutdownLimit time.Duration) string {
	t.Helper()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), shutdownLimit)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
	})
	return srv.Addr().String()
}
