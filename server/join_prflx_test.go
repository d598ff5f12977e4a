package server

import (
	"context"
	"net"
	"sync"
	"testing"

	"github.com/pion/stun"
	"github.com/pion/transport/v2"
	"github.com/pion/transport/v2/stdnet"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// checkLog records, in arrival order, the STUN binding requests a
// client's sockets receive: whether each one nominates (USE-CANDIDATE).
type checkLog struct {
	mu        sync.Mutex
	nominates []bool
}

func (l *checkLog) inspect(b []byte) {
	if !stun.IsMessage(b) {
		return
	}
	m := &stun.Message{Raw: append([]byte(nil), b...)}
	if m.Decode() != nil || m.Type != stun.BindingRequest {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.nominates = append(l.nominates, m.Contains(stun.AttrUseCandidate))
}

// plainBeforeNomination is how many ordinary checks came before the
// first nominating one, and whether one came at all.
func (l *checkLog) plainBeforeNomination() (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, nominates := range l.nominates {
		if nominates {
			return i, true
		}
	}
	return len(l.nominates), false
}

// maxPlainChecks bounds the ordinary checks a server that nominates a
// working pair at once sends before nominating: 1–4 were seen, and 6–7
// when it waits out pion's prflx delay; 5 leaves a margin either way.
const maxPlainChecks = 5

// watchedNet is the host network with every UDP socket's reads inspected.
type watchedNet struct {
	*stdnet.Net
	log *checkLog
}

func (n watchedNet) ListenUDP(network string, addr *net.UDPAddr) (transport.UDPConn, error) {
	conn, err := n.Net.ListenUDP(network, addr)
	if err != nil {
		return nil, err
	}
	return watchedConn{UDPConn: conn, log: n.log}, nil
}

type watchedConn struct {
	transport.UDPConn
	log *checkLog
}

func (c watchedConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n, addr, err := c.UDPConn.ReadFrom(p)
	if err == nil {
		c.log.inspect(p[:n])
	}
	return n, addr, err
}

// A subscriber whose connectivity checks reach the server before its
// trickled candidates (forced here by never sending them) is known to the
// server only as a peer-reflexive candidate. The server, controlling ICE
// on the subscribe PC, must nominate that working pair at once rather
// than keep checking it for pion's prflx wait (1 s, about five check
// rounds), which made such joins take over a second.
func TestServerNominatesPeerReflexivePairWithoutWaiting(t *testing.T) {
	t.Parallel()
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	pub, pj := h.joined(ctx, "prflx", "publisher")
	stop := publishMedia(ctx, t, pub, pj.ParticipantID)
	defer stop()

	base, err := stdnet.NewNet()
	if err != nil {
		t.Fatal(err)
	}
	checks := &checkLog{}
	api, err := testclient.NewAPIWithNet(watchedNet{Net: base, log: checks}, webrtc.NetworkTypeUDP4)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := testclient.Dial(ctx, api, h.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	sub.HoldCandidates(signal.PCSubscribe)
	if _, err := sub.Join(ctx, "prflx", "subscriber"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-sub.Packets:
	case <-ctx.Done():
		t.Fatal("no media reached the subscriber")
	}

	plain, nominated := checks.plainBeforeNomination()
	if !nominated {
		t.Fatalf("media flowed but no nominating check was seen (%d plain checks): the watch missed the server's socket reads", plain)
	}
	// A first burst of checks (up to four seen under -race) makes the pair
	// succeed and the next round nominates it. Waiting out pion's prflx
	// delay adds five rounds at its 200 ms check interval: six or seven.
	if plain > maxPlainChecks {
		t.Errorf("server sent %d ordinary checks before nominating the peer-reflexive pair; want at most %d", plain, maxPlainChecks)
	}
	t.Logf("%d ordinary checks before the nomination", plain)
}
