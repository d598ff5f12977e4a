package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"github.com/switchyard-sfu/switchyard/signal"
)

// truth is the test's own account of who is present, kept in step with
// the server by waiting for each join and leave to complete.
type truth struct {
	current, peak int
	rooms         map[string]int
	roomPeaks     map[string]int
	joins         int
	leaves        map[string]int
}

type present struct {
	client *testclient.Client
	id     string
	room   string
}

// TestRandomJoinsAndLeavesMatchTheSessionLogAndMetricsExactly performs
// 1000 joins and random leaves (explicit, socket closed, silent client)
// across several rooms, then checks the session log report and /metrics
// against the test's ground truth, to the participant.
func TestRandomJoinsAndLeavesMatchTheSessionLogAndMetricsExactly(t *testing.T) {
	if testing.Short() {
		t.Skip("1000 sessions; skipped with -short")
	}
	cfg := testConfig()
	cfg.Signaling.PingInterval = 500 * time.Millisecond
	// The production default: a tighter timeout on a loaded 2-core CI machine
	// under -race can stall a healthy client past it and spoil the truth.
	cfg.Signaling.PingTimeout = 3 * time.Second
	cfg.SessionLog.Path = filepath.Join(t.TempDir(), "sessions.jsonl")
	h := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	roomNames := []string{"r0", "r1", "r2", "r3", "r4"}
	causes := []room.Reason{room.ReasonLeave, room.ReasonSocketClosed, room.ReasonPingTimeout}
	want := truth{rooms: map[string]int{}, roomPeaks: map[string]int{}, leaves: map[string]int{}}
	var here []present
	batches := 0

	const totalJoins, maxPresent = 1000, 100
	for want.joins < totalJoins {
		for range rng.IntN(60) + 1 {
			if want.joins == totalJoins || len(here) == maxPresent {
				break
			}
			c := h.dial(ctx)
			name := roomNames[rng.IntN(len(roomNames))]
			j, err := c.Join(ctx, name, fmt.Sprintf("guest-%d", want.joins))
			if err != nil {
				t.Fatal(err)
			}
			here = append(here, present{c, j.ParticipantID, name})
			want.joins++
			want.current++
			want.rooms[name]++
			want.peak = max(want.peak, want.current)
			want.roomPeaks[name] = max(want.roomPeaks[name], want.rooms[name])
		}
		// Leave in a batch: counts only fall, so the peak stays exact
		// whatever order the server sees them in.
		rng.Shuffle(len(here), func(i, j int) { here[i], here[j] = here[j], here[i] })
		leaving := here[:max(1, len(here)*(30+rng.IntN(41))/100)]
		if want.joins == totalJoins {
			leaving = here[:len(here)/2] // keep some present to check "current"
		}
		// A batch with a ping-timeout leave waits out the ping timeout
		// (about 3 s) before the next can start; that wait was nearly all
		// of this test's time. So only every eighth batch (the first one
		// included) uses it, still mixed with the other two causes but
		// drawn twice as often as each: about 70 ping-timeout leaves to
		// count instead of 300, in 4–5 waits.
		batchCauses := causes[:2]
		if batches%8 == 0 {
			batchCauses = append(slices.Clone(causes), room.ReasonPingTimeout)
		}
		batches++
		for _, p := range leaving {
			cause := batchCauses[rng.IntN(len(batchCauses))]
			var err error
			switch cause {
			case room.ReasonLeave:
				err = p.client.Send(signal.Leave{Type: signal.TypeLeave})
			case room.ReasonSocketClosed:
				err = p.client.DropSocket()
			case room.ReasonPingTimeout:
				p.client.Freeze()
			}
			if err != nil {
				t.Fatalf("%s (%s) leaving by %s: %v", p.id, p.room, cause, err)
			}
			want.leaves[string(cause)]++
			want.current--
			want.rooms[p.room]--
		}
		for _, p := range leaving {
			if _, err := h.recorder.waitLeft(ctx, p.id); err != nil {
				t.Fatal(err)
			}
		}
		here = append([]present(nil), here[len(leaving):]...)
	}

	// The session log, read the way `switchyard sessions --json` reads it.
	var out, errOut bytes.Buffer
	if code := sessionlog.RunCLI([]string{"--log", cfg.SessionLog.Path, "--json"}, &out, &errOut); code != 0 {
		t.Fatalf("switchyard sessions: exit %d: %s", code, errOut.String())
	}
	var got sessionlog.Summary
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got.Current != want.current || got.Peak != want.peak || got.Joins != want.joins || got.SkippedLines != 0 {
		t.Errorf("sessions report: current %d peak %d joins %d skipped %d; truth: current %d peak %d joins %d",
			got.Current, got.Peak, got.Joins, got.SkippedLines, want.current, want.peak, want.joins)
	}
	for reason, n := range want.leaves {
		if got.LeavesByReason[reason] != n {
			t.Errorf("sessions report: %d leaves %s, truth %d", got.LeavesByReason[reason], reason, n)
		}
	}
	if len(got.LeavesByReason) != len(want.leaves) {
		t.Errorf("sessions report has reasons %v, truth %v", got.LeavesByReason, want.leaves)
	}
	for name, peak := range want.roomPeaks {
		if r := got.Rooms[name]; r.Peak != peak || r.Current != want.rooms[name] {
			t.Errorf("room %s: report peak %d current %d, truth %d and %d", name, r.Peak, r.Current, peak, want.rooms[name])
		}
	}

	// And /metrics tells the same story.
	metrics := get(t, "http://"+h.srv.Addr().String()+"/metrics")
	lines := []string{
		fmt.Sprintf("switchyard_participants %d", want.current),
		fmt.Sprintf("switchyard_participants_peak %d", want.peak),
		fmt.Sprintf("switchyard_joins_total %d", want.joins),
	}
	for reason, n := range want.leaves {
		lines = append(lines, fmt.Sprintf(`switchyard_leaves_total{reason=%q} %d`, reason, n))
	}
	for _, line := range lines {
		if !strings.Contains(metrics, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	t.Logf("truth: %d joins, peak %d, %d present at the end, leaves %v", want.joins, want.peak, want.current, want.leaves)
}
