package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sessionlog"
)

// Two nodes claim the same rooms at the same moment: every room ends up
// with one owner, which is the only node that hosts it; the other is
// redirected to that owner.
func TestPlacementRaceOneWins(t *testing.T) {
	ns := startNATS(t, t.TempDir(), 0)
	a := startNode(t, ns.ClientURL(), "a", nil)
	b := startNode(t, ns.ClientURL(), "b", nil)
	waitSee(t, a, b)
	for i := range 40 {
		name := fmt.Sprintf("race-%d", i)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for j, n := range []*Node{a, b} {
			wg.Go(func() { errs[j] = n.Acquire(name) })
		}
		wg.Wait()
		e, err := a.rooms.Get(context.Background(), roomKey(name))
		if err != nil {
			t.Fatalf("%s: no claim: %v", name, err)
		}
		owner := string(e.Value())
		if !strings.Contains(owner, `"node":"a"`) && !strings.Contains(owner, `"node":"b"`) {
			t.Fatalf("%s: claim %s names neither node", name, owner)
		}
		hosts := 0
		for j, n := range []*Node{a, b} {
			var rd *room.Redirect
			switch {
			case errs[j] == nil:
				hosts++
				if _, ok := n.held[name]; !ok {
					t.Errorf("%s: %s accepted but holds nothing", name, n.ID())
				}
			case errors.As(errs[j], &rd):
				if rd.URL != "ws://"+rd.Node+".test/v1/rtc" || rd.Node == n.ID() {
					t.Errorf("%s: %s redirected to %+v", name, n.ID(), rd)
				}
			default:
				t.Fatalf("%s: %s: %v", name, n.ID(), errs[j])
			}
		}
		if hosts > 1 {
			t.Fatalf("%s: both nodes host it; claim %s", name, owner)
		}
		for _, n := range []*Node{a, b} {
			if errs[slices.Index([]*Node{a, b}, n)] == nil {
				n.Release(name)
			}
		}
	}
}

// A lost node's claims are void: its rooms are taken over by CAS, and a
// draining node gets no new room.
func TestPlacementAfterLossAndDrain(t *testing.T) {
	ns := startNATS(t, t.TempDir(), 0)
	a := startNode(t, ns.ClientURL(), "a", nil)
	b := startNode(t, ns.ClientURL(), "b", nil)
	waitSee(t, a, b)
	hostHere(t, b, "r")
	var rd *room.Redirect
	if err := a.Acquire("r"); !errors.As(err, &rd) || rd.Node != "b" {
		t.Fatalf("a.Acquire(r) = %v, want a redirect to b", err)
	}
	kill(b)
	eventually(t, 5*time.Second, "b's room freed or taken over", func() bool { return a.Acquire("r") == nil })
	a.Release("r")
}

// A node SIGKILLed with open sessions: of two survivors racing, exactly
// one closes each session, with reason node-lost, dated at the node's
// last heartbeat; the dead node's room claims are freed.
func TestReaperClosesEachSessionOnce(t *testing.T) {
	ns := startNATS(t, t.TempDir(), 0)
	a := startNode(t, ns.ClientURL(), "a", nil)
	b := startNode(t, ns.ClientURL(), "b", nil)
	x := startNode(t, ns.ClientURL(), "x", nil)
	waitSee(t, a, b, x)
	hostHere(t, x, "xr")
	var joins []room.JoinEvent
	for i := range 12 {
		joins = append(joins, join(x, "xr", fmt.Sprintf("p_%02d", i)))
	}
	leave(x, joins[0], room.ReasonLeave)
	inc := x.incarnation()
	kill(x)
	killedAt := time.Now() // kill waits for a heartbeat in flight
	eventually(t, 5*time.Second, "x reaped", func() bool {
		_, err := a.nodes.Get(context.Background(), "x")
		return errors.Is(err, jetstream.ErrKeyNotFound)
	})
	if got := a.Stats().Reaps + b.Stats().Reaps; got != 1 {
		t.Errorf("reaps = %d, want 1 winner", got)
	}
	// Both race to close the same incarnation again: nothing more is written.
	var wg sync.WaitGroup
	for _, n := range []*Node{a, b} {
		wg.Go(func() {
			if _, err := n.closeSessions(context.Background(), "x", inc, time.Now()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	recs := readLog(t, ns.ClientURL())
	leaves := map[string][]sessionlog.Record{}
	for _, r := range recs {
		if r.Event == sessionlog.EventLeave {
			leaves[r.ParticipantID] = append(leaves[r.ParticipantID], r)
		}
	}
	for i, j := range joins {
		ls := leaves[j.ParticipantID]
		if len(ls) != 1 {
			t.Fatalf("%s has %d leaves, want 1", j.ParticipantID, len(ls))
		}
		want := string(room.ReasonNodeLost)
		if i == 0 {
			want = string(room.ReasonLeave)
		}
		if ls[0].Reason != want {
			t.Errorf("%s left with %q, want %q", j.ParticipantID, ls[0].Reason, want)
		}
		if i > 0 && (ls[0].Time.After(killedAt) || ls[0].Time.Before(killedAt.Add(-testLost))) {
			t.Errorf("%s node-lost leave dated %s, want the last heartbeat before the kill at %s", j.ParticipantID, ls[0].Time, killedAt)
		}
	}
	if _, err := a.rooms.Get(context.Background(), roomKey("xr")); !errors.Is(err, jetstream.ErrKeyNotFound) {
		t.Errorf("x's room still claimed: %v", err)
	}
}

// The stream stores a retried join or leave once.
func TestStreamDedup(t *testing.T) {
	ns := startNATS(t, t.TempDir(), 0)
	a := startNode(t, ns.ClientURL(), "a", nil)
	j := join(a, "r", "p_dup")
	ev := event{subject: a.out.subjects["p_dup"], pid: "p_dup", data: []byte(`{"event":"join"}`)}
	a.out.mu.Lock()
	err := a.publish(context.Background(), ev) // the same join again, as a retry would
	a.out.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	leave(a, j, room.ReasonLeave)
	a.out.mu.Lock()
	a.out.seqs["p_dup"] = 1 // a retried leave that expects the join: already written
	err = a.publish(context.Background(), event{subject: ev.subject, pid: "p_dup", leave: true, data: []byte(`{}`)})
	a.out.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if recs := readLog(t, ns.ClientURL()); len(recs) != 2 {
		t.Fatalf("log has %d records, want join and leave once: %+v", len(recs), recs)
	}
	if s := a.Stats(); s.Duplicates != 2 && s.Duplicates+s.Superseded < 2 {
		t.Errorf("stats = %+v, want both retries recognised", s)
	}
}

// A node declared lost while it was alive (frozen, partitioned) fences
// as soon as it notices: closes its sessions (cluster-lost), refuses
// joins, and comes back with a new incarnation; its stale leaves are not
// accepted over the reaper's.
func TestFencingAfterTakeover(t *testing.T) {
	ns := startNATS(t, t.TempDir(), 0)
	a := startNode(t, ns.ClientURL(), "a", nil)
	host := &fakeHost{}
	x := startNode(t, ns.ClientURL(), "x", host)
	waitSee(t, a, x)
	j := join(x, "r", "p_stale")
	host.onLeave = func(reason room.Reason) int { leave(x, j, reason); return 1 }
	old := x.incarnation()
	// a reaps x as if x had gone silent.
	eventually(t, 5*time.Second, "a wins the CAS on x's record", func() bool {
		e, err := a.nodes.Get(context.Background(), "x")
		if err != nil {
			return false
		}
		var rec Record
		_ = json.Unmarshal(e.Value(), &rec)
		a.reap(peer{rec: rec, rev: e.Revision(), created: e.Created()})
		return a.Stats().Reaps == 1
	})
	eventually(t, 5*time.Second, "x fenced", func() bool { return host.fences() == 1 })
	eventually(t, 5*time.Second, "x re-registered", func() bool { inc := x.incarnation(); return inc != 0 && inc != old })
	var rd *room.Redirect
	if err := x.Acquire("r2"); err != nil && !errors.As(err, &rd) {
		t.Fatalf("after re-registering, Acquire = %v", err)
	}
	var leaves []sessionlog.Record
	for _, r := range readLog(t, ns.ClientURL()) {
		if r.Event == sessionlog.EventLeave {
			leaves = append(leaves, r)
		}
	}
	if len(leaves) != 1 || leaves[0].Reason != string(room.ReasonNodeLost) {
		t.Fatalf("leaves = %+v, want the reaper's node-lost only", leaves)
	}
}

// NATS gone for longer than the lease: the node fences (joins refused,
// sessions closed with cluster-lost), and when NATS is back it writes the
// leaves it queued and re-registers.
func TestFencingOnNATSLoss(t *testing.T) {
	dir := t.TempDir()
	ns := startNATS(t, dir, 0)
	url := ns.ClientURL()
	host := &fakeHost{}
	x := startNode(t, url, "x", host)
	j := join(x, "r", "p_cut")
	host.onLeave = func(reason room.Reason) int { leave(x, j, reason); return 1 }
	old := x.incarnation()
	tcpPort := ns.Addr().(*net.TCPAddr).Port
	ns.Shutdown()
	ns.WaitForShutdown()
	eventually(t, 5*time.Second, "x fenced", func() bool { return host.fences() == 1 })
	if err := x.Acquire("r"); !errors.Is(err, room.ErrClusterLost) {
		t.Fatalf("fenced Acquire = %v, want ErrClusterLost", err)
	}
	startNATS(t, dir, tcpPort)
	// Close x before this second NATS stops (cleanups run last first):
	// closing with NATS gone waits out two JetStream timeouts, 10 s.
	t.Cleanup(func() { _ = x.Close(context.Background()) })
	eventually(t, 10*time.Second, "x re-registered", func() bool { inc := x.incarnation(); return inc != 0 && inc != old })
	recs := readLog(t, url)
	if len(recs) != 2 || recs[1].Reason != string(room.ReasonClusterLost) {
		t.Fatalf("log = %+v, want the join and its cluster-lost leave", recs)
	}
}

// Random joins and leaves on three nodes at once, then one node dies:
// the cluster summary equals the ground truth.
func TestClusterConcurrencySweep(t *testing.T) {
	ns := startNATS(t, t.TempDir(), 0)
	nodes := []*Node{
		startNode(t, ns.ClientURL(), "a", nil), startNode(t, ns.ClientURL(), "b", nil), startNode(t, ns.ClientURL(), "c", nil),
	}
	waitSee(t, nodes...)
	type ev struct {
		at   time.Time
		join bool
	}
	var mu sync.Mutex
	var truth []ev
	openOn := make([]int, 3)
	leaves := 0
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Go(func() {
			n := nodes[w%3]
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var open []room.JoinEvent
			for i := range 40 {
				if len(open) > 0 && rng.IntN(3) == 0 {
					k := rng.IntN(len(open))
					mu.Lock()
					leave(n, open[k], room.ReasonLeave)
					truth = append(truth, ev{at: time.Now(), join: false})
					leaves++
					mu.Unlock()
					open = slices.Delete(open, k, k+1)
					continue
				}
				mu.Lock()
				open = append(open, join(n, fmt.Sprintf("room-%d", i%5), fmt.Sprintf("p_w%di%d", w, i)))
				truth = append(truth, ev{at: open[len(open)-1].Time, join: true})
				mu.Unlock()
			}
			mu.Lock()
			openOn[w%3] += len(open)
			mu.Unlock()
		})
	}
	wg.Wait()
	peak, cur := 0, 0
	slices.SortStableFunc(truth, func(a, b ev) int { return a.at.Compare(b.at) })
	for _, e := range truth {
		if e.join {
			cur++
		} else {
			cur--
		}
		peak = max(peak, cur)
	}
	// Kill c after its next heartbeat, so its last proof of life follows
	// every event above.
	c := nodes[2]
	c.mu.Lock()
	rev := c.rev
	c.mu.Unlock()
	eventually(t, 5*time.Second, "c heartbeats", func() bool { c.mu.Lock(); defer c.mu.Unlock(); return c.rev != rev })
	kill(c)
	eventually(t, 5*time.Second, "c reaped", func() bool {
		_, err := nodes[0].nodes.Get(context.Background(), "c")
		return errors.Is(err, jetstream.ErrKeyNotFound)
	})
	for _, n := range nodes[:2] {
		eventually(t, 5*time.Second, n.ID()+"'s log events stored", func() bool { return n.out.len() == 0 })
		if f := n.Stats().Fences; f != 0 {
			t.Fatalf("%s fenced %d times: the machine is too slow for the test's lease", n.ID(), f)
		}
	}
	s := sessionlog.Summarize(readLog(t, ns.ClientURL()), sessionlog.SummaryOptions{})
	joins := len(truth) - leaves
	if s.Joins != joins || s.Leaves != leaves+openOn[2] || s.Current != openOn[0]+openOn[1] || s.Peak != peak ||
		s.LeavesByReason["leave"] != leaves || s.LeavesByReason["node-lost"] != openOn[2] || s.OrphanLeaves != 0 || s.DuplicateJoins != 0 {
		t.Fatalf("summary joins=%d leaves=%d current=%d peak=%d by reason %v orphans=%d dups=%d;\n"+
			"want joins=%d leaves=%d current=%d peak=%d leave=%d node-lost=%d",
			s.Joins, s.Leaves, s.Current, s.Peak, s.LeavesByReason, s.OrphanLeaves, s.DuplicateJoins,
			joins, leaves+openOn[2], openOn[0]+openOn[1], peak, leaves, openOn[2])
	}
}
