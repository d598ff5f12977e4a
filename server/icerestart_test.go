package server

import (
	"context"
	"net"
	"regexp"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/transport/v2"
	"github.com/pion/transport/v2/stdnet"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/signal"
	"go.uber.org/zap/zaptest"
)

// cutNet is the host network whose UDP sockets can be cut: while cut,
// every datagram sent is dropped and every one received is discarded, as
// when a laptop's Wi-Fi goes away. TCP (the WebSocket) is untouched.
type cutNet struct {
	*stdnet.Net
	cut *atomic.Bool
}

func (n cutNet) ListenUDP(network string, addr *net.UDPAddr) (transport.UDPConn, error) {
	conn, err := n.Net.ListenUDP(network, addr)
	if err != nil {
		return nil, err
	}
	return cutConn{UDPConn: conn, cut: n.cut}, nil
}

type cutConn struct {
	transport.UDPConn
	cut *atomic.Bool
}

func (c cutConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if c.cut.Load() {
		return len(p), nil
	}
	return c.UDPConn.WriteTo(p, addr)
}

func (c cutConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.UDPConn.ReadFrom(p)
		if err != nil || !c.cut.Load() {
			return n, addr, err
		}
	}
}

// dialCuttable opens a client whose media path the test can cut.
func (h *harness) dialCuttable(ctx context.Context, cut *atomic.Bool) *testclient.Client {
	h.t.Helper()
	base, err := stdnet.NewNet()
	if err != nil {
		h.t.Fatal(err)
	}
	api, err := testclient.NewAPIWithNet(cutNet{Net: base, cut: cut}, webrtc.NetworkTypeUDP4)
	if err != nil {
		h.t.Fatal(err)
	}
	c, err := testclient.Dial(ctx, api, h.url)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(c.Close)
	return c
}

var ufragLine = regexp.MustCompile(`a=ice-ufrag:(\S+)`)

// isRestartOffer matches a subscribe offer whose ICE credentials differ from old.
func isRestartOffer(old string) func(testclient.Message) bool {
	return func(m testclient.Message) bool {
		var msg signal.SDP
		if m.Type != signal.TypeOffer || m.Decode(&msg) != nil {
			return false
		}
		u := ufragLine.FindStringSubmatch(msg.SDP)
		return u != nil && u[1] != old
	}
}

func drain(c *testclient.Client) {
	for {
		select {
		case <-c.Packets:
		default:
			return
		}
	}
}

// A participant whose media path dies while its WebSocket lives gets ICE
// restarted on both PCs: same session, nobody told of a leave, nothing in
// the log, and media flows both ways again once the path is back.
func TestICERestartOnLiveSocketKeepsTheSession(t *testing.T) {
	t.Parallel()
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()

	var cut atomic.Bool
	a := h.dialCuttable(ctx, &cut)
	ja, err := a.Join(ctx, "restart", "Ann")
	if err != nil {
		t.Fatal(err)
	}
	b, jb := h.joined(ctx, "restart", "Bob")
	defer publishMedia(ctx, t, a, ja.ParticipantID)()
	defer publishMedia(ctx, t, b, jb.ParticipantID)()
	collect(ctx, t, ja.ParticipantID, a, atLeast(5, jb.ParticipantID))
	collect(ctx, t, jb.ParticipantID, b, atLeast(5, ja.ParticipantID))

	oldUfrag := ufragLine.FindStringSubmatch(a.SubscribeSDP())
	if oldUfrag == nil {
		t.Fatal("A's subscribe PC has no remote ICE ufrag")
	}
	fromA, fromB := len(a.Messages()), len(b.Messages())
	cutAt := time.Now()
	cut.Store(true)

	// The server notices the silence (ICE failed) and restarts both PCs:
	// it asks A to re-offer the publish PC and offers the subscribe PC
	// with new credentials. The path stays cut until both are under way.
	_, _, err = a.WaitFor(ctx, fromA, func(m testclient.Message) bool {
		var msg signal.ICERestart
		return m.Type == signal.TypeICERestart && m.Decode(&msg) == nil && msg.PC == signal.PCPublish
	})
	if err != nil {
		t.Fatalf("no ice-restart for the publish PC: %v", err)
	}
	asked := time.Since(cutAt)
	if _, _, err := a.WaitFor(ctx, fromA, isRestartOffer(oldUfrag[1])); err != nil {
		t.Fatalf("no restart offer for the subscribe PC: %v", err)
	}
	drain(a)
	drain(b)
	restoredAt := time.Now()
	cut.Store(false)

	collect(ctx, t, ja.ParticipantID, a, atLeast(5, jb.ParticipantID))
	collect(ctx, t, jb.ParticipantID, b, atLeast(5, ja.ParticipantID))
	back := time.Since(restoredAt)
	t.Logf("ICE restart: path cut → restart asked %v; path back → media both ways %v", asked.Round(time.Millisecond), back.Round(time.Millisecond))

	for _, m := range a.Messages()[fromA:] {
		switch m.Type {
		case signal.TypeLeft, signal.TypeJoined, "socket-closed", "client-error":
			t.Errorf("A got %s during the restart: %s", m.Type, m.Raw)
		}
	}
	for _, m := range b.Messages()[fromB:] {
		if m.Type == signal.TypeParticipantLeft || m.Type == signal.TypeParticipantJoined {
			t.Errorf("B was told %s during A's ICE restart: %s", m.Type, m.Raw)
		}
	}
	if a.ICERestarts.Load() == 0 {
		t.Error("A never re-offered its publish PC")
	}
	for _, l := range h.recorder.Leaves() {
		t.Errorf("the log holds a leave during the restart: %+v", l)
	}
}

// A path that never comes back is given up after the restart limit: the
// participant leaves with pc-failed, as without restarts, and restarts
// were tried first.
func TestICERestartThatCannotRecoverLeavesWithPCFailed(t *testing.T) {
	t.Parallel()
	const limit = 2 * time.Second
	h := startServerWith(t, testConfig(), Options{Log: zaptest.NewLogger(t), iceRestartLimit: limit})
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	var cut atomic.Bool
	a := h.dialCuttable(ctx, &cut)
	ja, err := a.Join(ctx, "restart", "Ann")
	if err != nil {
		t.Fatal(err)
	}
	b, jb := h.joined(ctx, "restart", "Bob")
	defer publishMedia(ctx, t, a, ja.ParticipantID)()
	collect(ctx, t, jb.ParticipantID, b, atLeast(5, ja.ParticipantID))

	fromA, fromB := len(a.Messages()), len(b.Messages())
	cutAt := time.Now()
	cut.Store(true)
	left, _, err := b.WaitType(ctx, fromB, signal.TypeParticipantLeft)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(cutAt)
	var msg signal.ParticipantLeft
	if err := left.Decode(&msg); err != nil || msg.ParticipantID != ja.ParticipantID || msg.Reason != string(room.ReasonPCFailed) {
		t.Fatalf("participant-left = %s, want %s with reason %s", left.Raw, ja.ParticipantID, room.ReasonPCFailed)
	}
	restarts := 0
	for _, m := range a.Messages()[fromA:] {
		if m.Type == signal.TypeICERestart {
			restarts++
		}
	}
	if restarts == 0 {
		t.Error("A left without a restart being tried")
	}
	t.Logf("unrecoverable path: left as pc-failed %v after the cut (%d restart requests, limit %v)", took.Round(time.Millisecond), restarts, limit)
}
