package integration

import (
	"context"
	"fmt"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"
)

// TestMeasureDetection reports node-death detection times (kill → the
// node-lost leave stored in the cluster log) over many kills per cause,
// and join times with and without a redirect. It is a measurement, run
// on demand: SWITCHYARD_CLUSTER_MEASURE=12 (the number of kills per cause).
func TestMeasureDetection(t *testing.T) {
	kills := 0
	if v := os.Getenv("SWITCHYARD_CLUSTER_MEASURE"); v != "" {
		fmt.Sscan(v, &kills)
	}
	if kills < 1 {
		t.Skip("set SWITCHYARD_CLUSTER_MEASURE=N to measure N kills per cause")
	}
	nats, obs, nodes := startCluster(t, "a")
	a := nodes[0]
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	api := newAPI(t)
	var direct, redirected []time.Duration
	for _, cause := range []syscall.Signal{syscall.SIGKILL, syscall.SIGSTOP} {
		var took []time.Duration
		for i := range kills {
			id := fmt.Sprintf("v%d%d", cause, i)
			v := startNode(t, nats, id)
			eventually(t, 10*time.Second, id+" registered", func() bool { _, ok := obs.node(t, id); return ok })
			roomName := "m-" + id
			m := joinVia(ctx, t, api, v.ws, roomName, "victim")
			direct = append(direct, m.took)
			r := joinVia(ctx, t, api, a.ws, roomName, "other")
			if r.redirected {
				redirected = append(redirected, r.took)
			}
			v.signal(cause)
			start := time.Now()
			eventually(t, 10*time.Second, "node-lost leave", func() bool { return len(leavesOf(obs.records(t), m.joined.ParticipantID)) == 1 })
			took = append(took, time.Since(start))
			m.c.Close()
			r.c.Close()
			v.kill()
		}
		t.Logf("%s: detection p50 %s p99 %s max %s over %d kills", cause, pct(took, 50), pct(took, 99), slices.Max(took), len(took))
	}
	t.Logf("join: direct p50 %s p99 %s (n=%d); through a redirect p50 %s p99 %s (n=%d)",
		pct(direct, 50), pct(direct, 99), len(direct), pct(redirected, 50), pct(redirected, 99), len(redirected))
}

// pct is the nearest-rank percentile.
func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	k := (p*len(s) + 99) / 100
	return s[max(k, 1)-1].Round(time.Millisecond)
}
