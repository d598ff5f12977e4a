// Package integration runs a real cluster: a nats-server process and
// three Switchyard processes on loopback, driven by real pion clients.
// It kills only the processes it started.
package integration

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/cluster"
	"github.com/switchyard-sfu/switchyard/internal/cpulock"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"github.com/switchyard-sfu/switchyard/signal"
)

func TestMain(m *testing.M) {
	// Build first: compiling measures nothing, and in a clean clone it
	// takes a minute that the other timing-sensitive packages would
	// spend waiting for the lock.
	bin, cleanup, err := buildSwitchyard()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Detection bounds are latencies: take turns with the other
	// timing-sensitive packages.
	release, err := cpulock.Acquire()
	if err != nil {
		cleanup()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	switchyardBin = bin
	code := m.Run()
	cleanup()
	release()
	os.Exit(code)
}

// member is a test client in the cluster and where it ended up.
type member struct {
	c          *testclient.Client
	joined     signal.Joined
	url        string // the node that serves it
	redirected bool
	took       time.Duration
}

// joinVia dials url and joins roomName, following redirects as the web
// client does (at most maxRedirects hops). A second hop is legitimate: the
// room's last participant may leave its owner between the redirect and
// the join arriving, and the owner then places the room anew on the
// least-loaded node (docs/cluster.md).
// maxRedirects is the web client's MAX_REDIRECTS (web/static/session.js).
const maxRedirects = 3

func joinVia(ctx context.Context, t *testing.T, api *webrtc.API, url, roomName, name string, token ...string) member {
	t.Helper()
	start := time.Now()
	m := member{url: url}
	for hop := 0; ; hop++ {
		c, err := testclient.Dial(ctx, api, m.url)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(signal.Join{Type: signal.TypeJoin, Room: roomName, Name: name, Token: strings.Join(token, "")}); err != nil {
			t.Fatal(err)
		}
		msg, _, err := c.WaitFor(ctx, 0, func(m testclient.Message) bool {
			return m.Type == signal.TypeJoined || m.Type == signal.TypeError || m.Type == signal.TypeRedirect
		})
		if err != nil {
			t.Fatalf("%s joining %s via %s: %v", name, roomName, m.url, err)
		}
		switch msg.Type {
		case signal.TypeJoined:
			m.c, m.took = c, time.Since(start)
			if err := msg.Decode(&m.joined); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(c.Close)
			return m
		case signal.TypeRedirect:
			var rd signal.Redirect
			_ = msg.Decode(&rd)
			c.Close()
			if hop >= maxRedirects || rd.URL == "" {
				t.Fatalf("%s: redirect %d (web client's limit %d): %s", name, hop+1, maxRedirects, msg.Raw)
			}
			m.url, m.redirected = rd.URL, true
		default:
			c.Close()
			t.Fatalf("%s joining %s via %s: %s", name, roomName, m.url, msg.Raw)
		}
	}
}

func newAPI(t *testing.T) *webrtc.API {
	t.Helper()
	api, err := testclient.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	return api
}

func startCluster(t *testing.T, ids ...string) (*natsProc, *observer, []*node) {
	t.Helper()
	nats := startNATS(t)
	var nodes []*node
	for _, id := range ids {
		nodes = append(nodes, startNode(t, nats, id))
	}
	obs := observe(t, nats.url)
	for _, id := range ids {
		eventually(t, 10*time.Second, id+" registered", func() bool { _, ok := obs.node(t, id); return ok })
	}
	return nats, obs, nodes
}

// A join through node A is served by the room's node B; SIGKILL B mid-call
// and each of its sessions gets one node-lost leave within 1.5 s, its
// clients rejoin on A or C, and no node shows a ghost.
func TestSIGKILLNodeMidCall(t *testing.T) {
	_, obs, nodes := startCluster(t, "a", "b", "c")
	a, b, c := nodes[0], nodes[1], nodes[2]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api := newAPI(t)

	first := joinVia(ctx, t, api, b.ws, "call", "first") // B hosts: a tie goes to the node asked
	if first.redirected {
		t.Fatalf("first join via b was redirected to %s", first.url)
	}
	second := joinVia(ctx, t, api, a.ws, "call", "second")
	if !second.redirected || second.url != b.ws {
		t.Fatalf("join via a ended at %s (redirected %v), want b %s", second.url, second.redirected, b.ws)
	}
	t.Logf("join time: direct %s, through a redirect %s", first.took, second.took)
	if _, err := first.c.Publish(ctx, first.joined.ParticipantID); err != nil {
		t.Fatal(err)
	}
	victims := []string{first.joined.ParticipantID, second.joined.ParticipantID}

	b.kill()
	killed := time.Now()
	eventually(t, 5*time.Second, "node-lost leaves for b's sessions", func() bool {
		recs := obs.records(t)
		for _, id := range victims {
			if len(leavesOf(recs, id)) == 0 {
				return false
			}
		}
		return true
	})
	if took := time.Since(killed); took > 1500*time.Millisecond {
		t.Errorf("b's sessions closed %s after SIGKILL, want within 1.5s", took)
	}
	recs := obs.records(t)
	for _, id := range victims {
		ls := leavesOf(recs, id)
		if len(ls) != 1 || ls[0].Reason != "node-lost" || ls[0].Time.After(killed) {
			t.Errorf("%s leaves %+v, want one node-lost dated before the kill", id, ls)
		}
	}
	first.c.Close()
	second.c.Close()

	again1 := joinVia(ctx, t, api, a.ws, "call", "first")
	again2 := joinVia(ctx, t, api, c.ws, "call", "second")
	if again1.url != a.ws || again2.url != a.ws {
		t.Errorf("rejoined at %s and %s, want both on a (the room was freed and placed again)", again1.url, again2.url)
	}
	want := []string{again1.joined.ParticipantID, again2.joined.ParticipantID}
	slices.Sort(want)
	eventually(t, 5*time.Second, "a lists exactly the rejoined participants", func() bool {
		got := a.rooms(t)["call"]
		slices.Sort(got)
		return slices.Equal(got, want)
	})
	if got := c.rooms(t); len(got) != 0 {
		t.Errorf("c lists rooms %v, want none", got)
	}
	s := sessionlog.Summarize(obs.records(t), sessionlog.SummaryOptions{})
	if s.Joins != 4 || s.Leaves != 2 || s.LeavesByReason["node-lost"] != 2 || s.Current != 2 || s.Peak != 2 || s.OrphanLeaves != 0 {
		t.Errorf("cluster summary joins=%d leaves=%d by reason %v current=%d peak=%d orphans=%d; want 4, 2, node-lost 2, 2, 2, 0",
			s.Joins, s.Leaves, s.LeavesByReason, s.Current, s.Peak, s.OrphanLeaves)
	}
}

// SIGSTOP B: it is declared lost within 2.5 s; resumed, it fences itself
// and none of its stale sessions reappear.
func TestSIGSTOPNodeFencesOnResume(t *testing.T) {
	_, obs, nodes := startCluster(t, "a", "b")
	a, b := nodes[0], nodes[1]
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	api := newAPI(t)
	m := joinVia(ctx, t, api, b.ws, "frozen", "x")
	id := m.joined.ParticipantID
	before, _ := obs.node(t, "b")

	b.signal(syscall.SIGSTOP)
	stopped := time.Now()
	eventually(t, 5*time.Second, "b's session closed as node-lost", func() bool { return len(leavesOf(obs.records(t), id)) == 1 })
	if took := time.Since(stopped); took > 2500*time.Millisecond {
		t.Errorf("frozen b declared lost %s after SIGSTOP, want within 2.5s", took)
	}
	b.signal(syscall.SIGCONT)
	eventually(t, 10*time.Second, "b re-registered with a new incarnation", func() bool {
		r, ok := obs.node(t, "b")
		return ok && r.Incarnation != before.Incarnation && r.State == cluster.StateServing
	})
	// b fenced: its own client was told, and b keeps no room.
	if _, _, err := m.c.WaitFor(ctx, 0, func(msg testclient.Message) bool { return msg.Type == signal.TypeLeft }); err != nil {
		t.Errorf("b's client was not told it left: %v", err)
	}
	eventually(t, 5*time.Second, "b lists no room", func() bool { return len(b.rooms(t)) == 0 })
	recs := obs.records(t)
	if ls := leavesOf(recs, id); len(ls) != 1 || ls[0].Reason != "node-lost" {
		t.Errorf("stale session leaves %+v, want exactly the reaper's node-lost", ls)
	}
	// The room is usable again, from either node.
	again := joinVia(ctx, t, api, a.ws, "frozen", "x")
	if again.joined.ParticipantID == id {
		t.Fatal("the stale session came back")
	}
}

// NATS stopped for longer than the lease: every node fences (sessions
// closed with cluster-lost, joins refused) and all recover when NATS
// returns; each session is closed exactly once in the log.
func TestNATSOutageFencesEveryNode(t *testing.T) {
	nats, obs, nodes := startCluster(t, "a", "b", "c")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	api := newAPI(t)
	var ids []string
	for i, n := range nodes {
		m := joinVia(ctx, t, api, n.ws, fmt.Sprintf("room-%d", i), "p")
		ids = append(ids, m.joined.ParticipantID)
		defer func() {
			if _, _, err := m.c.WaitFor(ctx, 0, func(msg testclient.Message) bool { return msg.Type == signal.TypeLeft }); err != nil {
				t.Errorf("client on %s never told it left: %v", n.id, err)
			}
		}()
	}
	nats.kill()
	down := time.Now()
	for _, n := range nodes {
		eventually(t, 5*time.Second, n.id+" fenced: its rooms emptied", func() bool { return len(n.rooms(t)) == 0 })
	}
	if time.Since(down) < lease {
		t.Errorf("nodes fenced %s after NATS went, before their %s lease ran out", time.Since(down), lease)
	}
	for _, n := range nodes {
		eventually(t, 5*time.Second, n.id+" refuses joins", func() bool {
			msg, err := tryJoin(ctx, api, n.ws, "during-outage")
			return err == nil && msg.Type == signal.TypeError && errorCode(msg) == signal.CodeClusterLost
		})
	}
	nats.restart(t)
	for _, n := range nodes {
		eventually(t, 15*time.Second, n.id+" takes joins again", func() bool {
			msg, err := tryJoin(ctx, api, n.ws, "after-"+n.id)
			return err == nil && msg.Type != signal.TypeError
		})
	}
	recs := obs.records(t)
	for _, id := range ids {
		ls := leavesOf(recs, id)
		if len(ls) != 1 || (ls[0].Reason != "cluster-lost" && ls[0].Reason != "node-lost") {
			t.Errorf("%s leaves %+v, want exactly one cluster-lost (or node-lost)", id, ls)
		}
	}
}

func errorCode(m testclient.Message) string {
	var e struct {
		Code string `json:"code"`
	}
	_ = m.Decode(&e)
	return e.Code
}

// tryJoin sends one join to url and returns the answer (joined, error or
// redirect), closing the connection again.
func tryJoin(ctx context.Context, api *webrtc.API, url, roomName string) (testclient.Message, error) {
	c, err := testclient.Dial(ctx, api, url)
	if err != nil {
		return testclient.Message{}, err
	}
	defer c.Close()
	if err := c.Send(signal.Join{Type: signal.TypeJoin, Room: roomName, Name: "q"}); err != nil {
		return testclient.Message{}, err
	}
	msg, _, err := c.WaitFor(ctx, 0, func(m testclient.Message) bool {
		return m.Type == signal.TypeJoined || m.Type == signal.TypeError || m.Type == signal.TypeRedirect
	})
	return msg, err
}
