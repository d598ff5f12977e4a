package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/sessionlog"
	"github.com/switchyard-sfu/switchyard/signal"
)

// 300 randomized joins and leaves across three nodes, with the busiest
// node SIGKILLed half-way: the cluster summary (switchyard sessions
// --cluster) equals the test's own ground truth.
func TestRandomChurnWithNodeKilled(t *testing.T) {
	nats, obs, nodes := startCluster(t, "a", "b", "c")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	api := newAPI(t)
	rng := rand.New(rand.NewPCG(14, 300))
	live := slices.Clone(nodes)
	type session struct {
		m    member
		node string // the ws URL that serves it
	}
	var open []session
	joins, leaves, cur, peak, lost := 0, 0, 0, 0, 0
	step := func() {
		if len(open) > 0 && (rng.IntN(100) < 35 || len(open) >= 30) {
			k := rng.IntN(len(open))
			s := open[k]
			from := len(s.m.c.Messages())
			if err := s.m.c.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.m.c.WaitType(ctx, from, signal.TypeLeft); err != nil {
				t.Fatalf("leave: %v", err)
			}
			s.m.c.Close()
			open = slices.Delete(open, k, k+1)
			leaves++
			cur--
			return
		}
		via := live[rng.IntN(len(live))]
		m := joinVia(ctx, t, api, via.ws, fmt.Sprintf("room-%d", rng.IntN(6)), fmt.Sprintf("p%d", joins))
		open = append(open, session{m: m, node: m.url})
		joins++
		cur++
		peak = max(peak, cur)
	}
	for range 150 {
		step()
	}
	// Kill the node serving the most sessions, after its next heartbeat,
	// so its last proof of life follows every event so far.
	count := map[string]int{}
	for _, s := range open {
		count[s.node]++
	}
	victim := slices.MaxFunc(live, func(x, y *node) int { return count[x.ws] - count[y.ws] })
	before, _ := obs.node(t, victim.id)
	eventually(t, 5*time.Second, victim.id+" heartbeats", func() bool { r, _ := obs.node(t, victim.id); return r.At.After(before.At) })
	victim.kill()
	live = slices.DeleteFunc(live, func(n *node) bool { return n == victim })
	var dead []string
	open = slices.DeleteFunc(open, func(s session) bool {
		if s.node == victim.ws {
			dead = append(dead, s.m.joined.ParticipantID)
			s.m.c.Close()
			return true
		}
		return false
	})
	lost, cur = len(dead), cur-len(dead)
	eventually(t, 10*time.Second, "the victim's sessions closed", func() bool {
		recs := obs.records(t)
		for _, id := range dead {
			if len(leavesOf(recs, id)) != 1 {
				return false
			}
		}
		return true
	})
	for joins+leaves < 300 {
		step()
	}

	out, err := exec.CommandContext(ctx, switchyardBin, "sessions", "--cluster", nats.url).Output()
	if err != nil {
		t.Fatalf("switchyard sessions --cluster: %v", err)
	}
	var s sessionlog.Summary
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if s.Joins != joins || s.Leaves != leaves+lost || s.LeavesByReason["leave"] != leaves || s.LeavesByReason["node-lost"] != lost ||
		s.Current != cur || s.Peak != peak || s.OrphanLeaves != 0 || s.DuplicateJoins != 0 {
		t.Fatalf("cluster summary joins=%d leaves=%d by reason %v current=%d peak=%d orphans=%d dups=%d;\n"+
			"ground truth joins=%d leaves=%d (leave %d, node-lost %d) current=%d peak=%d",
			s.Joins, s.Leaves, s.LeavesByReason, s.Current, s.Peak, s.OrphanLeaves, s.DuplicateJoins,
			joins, leaves+lost, leaves, lost, cur, peak)
	}
	// No ghosts: the live nodes list exactly the open sessions.
	want := []string{}
	for _, s := range open {
		want = append(want, s.m.joined.ParticipantID)
	}
	got := []string{}
	for _, n := range live {
		for _, ids := range n.rooms(t) {
			got = append(got, ids...)
		}
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("live nodes list %d participants, want the %d open sessions", len(got), len(want))
	}
	t.Logf("%d joins, %d leaves, %d node-lost (%s), peak %d, %d open at the end", joins, leaves, lost, victim.id, peak, cur)
}
