package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"github.com/switchyard-sfu/switchyard/signal"
)

// toldEvent is one join or leave some client was told of.
type toldEvent struct {
	event, participant, reason string
}

// TestKill9DuringChurnLosesNothingAnyoneWasTold kills the real server
// binary with SIGKILL at random moments while clients join and leave in
// several rooms at once, restarts it on the same log each time, and then
// checks the promise: every join and leave any client was told of (its
// own joined/left, or another's participant-joined/participant-left) is
// in the session log, with the reason it was told.
func TestKill9DuringChurnLosesNothingAnyoneWasTold(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts the server several times; skipped with -short")
	}
	bin := binary(t)
	logPath := filepath.Join(t.TempDir(), "sessions.jsonl")
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 12))

	const rounds = 6
	var all []*testclient.Client
	for round := range rounds {
		p := start(t, bin, logPath)
		clients := churn(t, p, rng.Uint64(), time.Duration(300+rng.IntN(900))*time.Millisecond)
		all = append(all, clients...)
		t.Logf("round %d: killed after churn by %d clients", round, len(clients))
	}
	// Recovery on the last kill's log, then a clean stop.
	last := start(t, bin, logPath)
	_ = last.cmd.Process.Signal(syscall.SIGTERM)
	<-last.exit

	records, skipped, err := sessionlog.ReadFile(logPath)
	if err != nil || skipped != 0 {
		t.Fatalf("read log: %v (skipped %d)", err, skipped)
	}
	logged := map[toldEvent]bool{}
	for _, r := range records {
		reason := r.Reason
		if r.Event == sessionlog.EventJoin {
			reason = ""
		}
		logged[toldEvent{r.Event, r.ParticipantID, reason}] = true
	}
	told := map[toldEvent]bool{}
	for _, c := range all {
		for e := range toldBy(t, c) {
			told[e] = true
		}
	}
	leaves := 0
	for e := range told {
		if e.event == sessionlog.EventLeave {
			leaves++
		}
		if !logged[e] {
			t.Errorf("told of %s of %s (%s), but the log after the crash does not have it", e.event, e.participant, e.reason)
		}
	}
	if len(told) < 50 || leaves < 10 {
		t.Fatalf("only %d events told (%d leaves): too little churn to prove anything", len(told), leaves)
	}
	t.Logf("%d told events (%d leaves); the log holds %d records", len(told), leaves, len(records))
}

// churn has a few clients at a time join random rooms and leave, by
// message or by closing the socket, until it kills p with SIGKILL after
// killAfter. It returns every client it made.
func churn(t *testing.T, p *process, seed uint64, killAfter time.Duration) []*testclient.Client {
	t.Helper()
	api, err := testclient.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var (
		mu      sync.Mutex
		clients []*testclient.Client
		wg      sync.WaitGroup
	)
	const workers = 6
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(w)))
			for ctx.Err() == nil {
				c, err := testclient.Dial(ctx, api, "ws://"+p.addr+"/v1/rtc")
				if err != nil {
					return // the server is gone
				}
				mu.Lock()
				clients = append(clients, c)
				mu.Unlock()
				opCtx, opCancel := context.WithTimeout(ctx, 5*time.Second)
				_, err = c.Join(opCtx, fmt.Sprintf("room-%d", rng.IntN(3)), fmt.Sprintf("w%d", w))
				if err == nil {
					// Stay a moment (the workload, not a wait for anything),
					// so others hear of the join.
					select {
					case <-time.After(time.Duration(10+rng.IntN(150)) * time.Millisecond):
					case <-ctx.Done():
					}
					if rng.IntN(2) == 0 {
						// The server may be killed at any moment: a failed
						// leave is part of the workload, not an error.
						if c.Send(signal.Leave{Type: signal.TypeLeave}) == nil {
							_, _, _ = c.WaitType(opCtx, 0, signal.TypeLeft)
						}
					}
				}
				opCancel()
				c.Close() // a socket close, unless it left already
			}
		}()
	}
	select {
	case <-time.After(killAfter):
	case err := <-p.exit:
		t.Fatalf("the server exited during churn: %v", err)
	}
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-p.exit
	cancel()
	wg.Wait()
	return clients
}

// toldBy lists the joins and leaves c was told of.
func toldBy(t *testing.T, c *testclient.Client) map[toldEvent]bool {
	t.Helper()
	out := map[toldEvent]bool{}
	self := ""
	for _, m := range c.Messages() {
		var err error
		switch m.Type {
		case signal.TypeJoined:
			var msg signal.Joined
			err = m.Decode(&msg)
			self = msg.ParticipantID
			out[toldEvent{sessionlog.EventJoin, self, ""}] = true
		case signal.TypeLeft:
			var msg signal.Left
			err = m.Decode(&msg)
			out[toldEvent{sessionlog.EventLeave, self, msg.Reason}] = true
		case signal.TypeParticipantJoined:
			var msg signal.ParticipantJoined
			err = m.Decode(&msg)
			out[toldEvent{sessionlog.EventJoin, msg.Participant.ID, ""}] = true
		case signal.TypeParticipantLeft:
			var msg signal.ParticipantLeft
			err = m.Decode(&msg)
			out[toldEvent{sessionlog.EventLeave, msg.ParticipantID, msg.Reason}] = true
		}
		if err != nil {
			t.Fatalf("%s: %v", m.Raw, err)
		}
	}
	return out
}
