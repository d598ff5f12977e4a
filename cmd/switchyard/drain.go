package main

import (
	"context"
	"os"
	"time"

	"github.com/switchyard-sfu/switchyard/server"
	"go.uber.org/zap"
)

// drain gives participants up to timeout to leave on their own before the
// shutdown closes their sessions; a signal on stop ends it at once. A
// zero timeout skips it, keeping the stop within a few seconds.
func drain(stop <-chan os.Signal, srv *server.Server, timeout time.Duration, log *zap.Logger) {
	if timeout <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	interrupted := make(chan struct{})
	go func() {
		defer close(interrupted)
		select {
		case sig := <-stop:
			log.Warn("second signal: stopping now", zap.Stringer("signal", sig))
			cancel()
		case <-ctx.Done():
		}
	}()
	_ = srv.Drain(ctx) // its outcome is logged; the shutdown follows either way
	cancel()
	<-interrupted
}
