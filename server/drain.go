package server

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/switchyard-sfu/switchyard/room"
	"go.uber.org/zap"
)

// drainState is the server's graceful-stop phase: unready, refusing
// joins, waiting for rooms to empty.
type drainState struct {
	active atomic.Bool
	// departures gets a (coalesced) tick after every leave, so the drain
	// wait can recount without polling.
	departures chan struct{}
}

// departureSignal is an Observer that ticks departures on every leave. It
// never blocks: one pending tick is enough to make the waiter recount.
type departureSignal chan struct{}

func (departureSignal) Joined(room.JoinEvent) {}
func (d departureSignal) Left(room.LeaveEvent) {
	select {
	case d <- struct{}{}:
	default:
	}
}

// Drain starts the graceful stop: /readyz turns 503, joins are refused
// with code draining, every connection is sent server-draining with
// ctx's deadline, and Drain waits until no participant is left (nil) or
// ctx ends (its error). Shutdown then closes whoever is still there.
func (s *Server) Drain(ctx context.Context) error {
	s.drain.active.Store(true)
	s.rooms.RefuseJoins()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now()
	}
	s.signal.AnnounceDrain(deadline)
	_, waiting := s.rooms.Counts()
	s.log.Info("draining: refusing joins, waiting for rooms to empty",
		zap.Time("deadline", deadline), zap.Int("participants", waiting))
	for {
		if _, n := s.rooms.Counts(); n == 0 {
			s.log.Info("drained: every room is empty")
			return nil
		}
		select {
		case <-s.drain.departures:
		case <-ctx.Done():
			_, n := s.rooms.Counts()
			s.log.Info("drain ended before rooms emptied", zap.Int("participants", n), zap.Error(ctx.Err()))
			return ctx.Err()
		}
	}
}

// Draining reports whether Drain has begun.
func (s *Server) Draining() bool { return s.drain.active.Load() }

// handleReady is for load balancers: 200 while taking joins, 503 once
// draining, so traffic moves elsewhere before the server stops.
func (s *Server) handleReady(w http.ResponseWriter, _ *http.Request) {
	if s.Draining() {
		writeJSONStatus(w, s.log, http.StatusServiceUnavailable, map[string]any{"status": "draining"})
		return
	}
	writeJSON(w, s.log, map[string]any{"status": "ready"})
}
