package cluster

import (
	"context"
	"github.com/switchyard-sfu/switchyard/internal/waitfor"
	"sync"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"go.uber.org/zap/zaptest"
)

// Test timings: short, so a lost node is declared within half a second.
const (
	testHeartbeat = 100 * time.Millisecond
	testLost      = time.Second
)

// startNATS runs an embedded JetStream server on a loopback port, with
// its store in dir (so a restart keeps the stream and buckets).
func startNATS(t *testing.T, dir string, port int) *natsserver.Server {
	t.Helper()
	return startNATSOn(t, dir, port)
}

func startNATSB(b *testing.B) *natsserver.Server { return startNATSOn(b, b.TempDir(), 0) }

func startNATSOn(t testing.TB, dir string, port int) *natsserver.Server {
	t.Helper()
	opts := &natsserver.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoLog: true, NoSigs: true}
	if port == 0 {
		opts.Port = -1
	}
	s, err := natsserver.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats-server not ready")
	}
	t.Cleanup(s.Shutdown)
	return s
}

// fakeHost records what the cluster asks of its room manager.
type fakeHost struct {
	mu        sync.Mutex
	leaveAlls []room.Reason
	onLeave   func(room.Reason) int
}

func (h *fakeHost) LeaveAll(reason room.Reason) int {
	h.mu.Lock()
	h.leaveAlls = append(h.leaveAlls, reason)
	fn := h.onLeave
	h.mu.Unlock()
	if fn != nil {
		return fn(reason)
	}
	return 0
}
func (h *fakeHost) Rooms() []room.Info                      { return []room.Info{} }
func (h *fakeHost) Kick(string, string) ([]string, error)   { return nil, room.ErrNoSuchParticipant }
func (h *fakeHost) CloseRoom(string) (int, error)           { return 0, room.ErrNoSuchRoom }
func (h *fakeHost) Mute(string, string, string, bool) error { return room.ErrNoSuchParticipant }
func (h *fakeHost) fences() int                             { h.mu.Lock(); defer h.mu.Unlock(); return len(h.leaveAlls) }

func startNode(t *testing.T, url, id string, host Host) *Node {
	t.Helper()
	n, err := New(Options{URL: url, NodeID: id, AdvertiseURL: "ws://" + id + ".test/v1/rtc",
		Heartbeat: testHeartbeat, LostTimeout: testLost, Log: zaptest.NewLogger(t).Named(id)})
	if err != nil {
		t.Fatal(err)
	}
	if host == nil {
		host = &fakeHost{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Start(ctx, host); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	return n
}

// kill stops n as SIGKILL would: no leaves written, no record withdrawn.
func kill(n *Node) {
	close(n.stop)
	n.wg.Wait()
	n.nc.Close()
}

// waitSee waits until every node sees all the others.
func waitSee(t *testing.T, nodes ...*Node) {
	t.Helper()
	for _, n := range nodes {
		eventually(t, 5*time.Second, n.ID()+" sees every node", func() bool { return len(n.Peers()) == len(nodes) })
	}
}

// eventually polls cond until it holds, failing the test after within.
// The state it waits on lives in NATS, which sends no event for it.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	if err := waitfor.Poll(within, 5*time.Millisecond, what, cond); err != nil {
		t.Fatal(err)
	}
}

func readLog(t *testing.T, url string) []sessionlog.Record {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	recs, err := ReadLog(ctx, js)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func join(n *Node, roomName, pid string) room.JoinEvent {
	e := room.JoinEvent{Time: time.Now().UTC(), Room: roomName, ParticipantID: pid, Name: pid}
	n.Joined(e)
	return e
}

func leave(n *Node, j room.JoinEvent, reason room.Reason) {
	now := time.Now().UTC()
	n.Left(room.LeaveEvent{JoinEvent: room.JoinEvent{Time: now, Room: j.Room, ParticipantID: j.ParticipantID, Name: j.Name},
		Reason: reason, Duration: now.Sub(j.Time)})
}

// hostHere claims roomName for n itself, whatever the loads say.
func hostHere(t *testing.T, n *Node, roomName string) {
	t.Helper()
	c := claim{Node: n.ID(), Incarnation: n.incarnation(), URL: n.AdvertiseURL(), At: time.Now()}
	rev, err := n.rooms.Create(context.Background(), roomKey(roomName), encode(c))
	if err != nil {
		t.Fatal(err)
	}
	n.placeMu.Lock()
	n.held[roomName] = &held{refs: 1, rev: rev}
	n.placeMu.Unlock()
}
