package room

import (
	"context"
	"errors"
	"testing"
	"time"
)

// While draining, joins are refused and those in rooms carry on.
func TestRefuseJoinsRefusesJoinsAndKeepsSessions(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	f.m.RefuseJoins()
	if _, err := f.m.Join("r", "bob", newRecorder()); !errors.Is(err, ErrDraining) {
		t.Fatalf("join while draining: %v, want ErrDraining", err)
	}
	if err := f.m.JoinsRefused(); !errors.Is(err, ErrDraining) {
		t.Fatalf("JoinsRefused = %v, want ErrDraining", err)
	}
	if err := ann.SendChat("still here"); err != nil {
		t.Fatalf("a member's chat while draining: %v", err)
	}
	if _, people := f.m.Counts(); people != 1 {
		t.Fatalf("%d participants while draining, want 1", people)
	}
}

// Drain waits for the leavers' peer connections to close, and no longer.
func TestDrainWaitsForClosingPeerConnections(t *testing.T) {
	f := newFixture(t, Options{})
	ann := f.join("r", "ann")
	gate := make(chan struct{})
	ann.pubFake().mu.Lock()
	ann.pubFake().closeGate = gate
	ann.pubFake().mu.Unlock()
	ann.Leave(ReasonLeave)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := f.m.WaitPeersClosed(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Drain with a PC still closing: %v, want the deadline", err)
	}
	close(gate)
	f.drained()
	if !ann.pubFake().isClosed() {
		t.Fatal("Drain returned before the PC closed")
	}
}

// Shutdown makes everyone leave with server-shutdown, closes every PC and
// refuses joins from then on.
func TestShutdownLeavesEveryoneAndRefusesJoins(t *testing.T) {
	f := newFixture(t, Options{})
	members := []member{f.join("a", "ann"), f.join("a", "bob"), f.join("b", "cat")}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := f.m.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	for _, m := range members {
		m.heard.waitFor(t, 0, "left server-shutdown")
		if !m.pubFake().isClosed() || !m.subFake().isClosed() {
			t.Fatalf("%s's PCs are open after Shutdown", m.name)
		}
	}
	if _, err := f.m.Join("a", "dan", newRecorder()); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("join after Shutdown: %v, want ErrShuttingDown", err)
	}
	if rooms, people := f.m.Counts(); rooms != 0 || people != 0 {
		t.Fatalf("Counts after Shutdown = %d, %d", rooms, people)
	}
}
