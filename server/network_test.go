package server

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
	"go.uber.org/zap/zaptest"
)

// networkWait bounds the network tests, which set up dozens of peer
// connections on a shared machine.
const networkWait = 3 * time.Minute

// participant is one joined, publishing test client.
type participant struct {
	c  *testclient.Client
	id string
}

// joinAndPublish joins roomName with api and starts sending media every
// interval until the test ends; before, if not nil, runs between the two.
func (h *harness) joinAndPublish(ctx context.Context, api *webrtc.API, roomName, name string, interval time.Duration, before func(*testclient.Client)) participant {
	h.t.Helper()
	p := h.joinWith(ctx, api, roomName, name)
	if before != nil {
		before(p.c)
	}
	tracks, err := p.c.Publish(ctx, p.id)
	if err != nil {
		h.t.Fatal(err)
	}
	h.send(p, tracks, interval)
	return p
}

func (h *harness) joinWith(ctx context.Context, api *webrtc.API, roomName, name string) participant {
	h.t.Helper()
	c, err := testclient.Dial(ctx, api, h.url)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(c.Close)
	j, err := c.Join(ctx, roomName, name)
	if err != nil {
		h.t.Fatal(err)
	}
	return participant{c: c, id: j.ParticipantID}
}

// send writes numbered audio and video packets every interval until the
// test ends.
func (h *harness) send(p participant, tracks testclient.Tracks, interval time.Duration) {
	sendCtx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	sendMediaEvery(sendCtx, &wg, p.id, tracks, interval)
	h.t.Cleanup(func() { stop(); wg.Wait() })
}

// serverCandidates returns the candidates the server sent c, as
// "protocol address port typ".
func serverCandidates(t *testing.T, c *testclient.Client) []string {
	t.Helper()
	var out []string
	for _, m := range c.Messages() {
		if m.Type != signal.TypeCandidate {
			continue
		}
		var msg signal.Candidate
		if err := m.Decode(&msg); err != nil {
			t.Fatal(err)
		}
		if msg.Candidate == nil {
			continue
		}
		// candidate:<foundation> <component> <protocol> <priority> <address> <port> typ <type> ...
		f := strings.Fields(msg.Candidate.Candidate)
		if len(f) < 8 {
			t.Fatalf("malformed candidate %q", msg.Candidate.Candidate)
		}
		out = append(out, strings.ToLower(f[2])+" "+f[4]+" "+f[5]+" "+f[7])
	}
	return out
}

func portOf(t *testing.T, addr net.Addr) int {
	t.Helper()
	_, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(port)
	return n
}

// waitSelected waits until c has a selected pair on both its peer
// connections; a pair is chosen before media flows, so after media has
// been received this returns at once.
func waitSelected(ctx context.Context, t *testing.T, name string, c *testclient.Client) []*webrtc.ICECandidatePair {
	t.Helper()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if pairs := c.SelectedPairs(); len(pairs) == 2 {
			return pairs
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: no selected candidate pair on both peer connections", name)
		case <-tick.C:
		}
	}
}

// TestTwentyParticipantsShareOneUDPPort runs 20 participants (40 server
// peer connections) on the one UDP port. Under -race the same process
// cannot keep 80 peer connections fed on a shared CI machine, so the race
// build checks the same with 6; .ci/run also runs this test without -race.
func TestTwentyParticipantsShareOneUDPPort(t *testing.T) {
	n := 20
	if raceDetector {
		n = 6
	}
	cfg := testConfig()
	// 40 peer connections on each side share this process; under the race
	// detector on a busy machine a pong can take seconds. This test is
	// about the media path, not about noticing silent clients.
	cfg.Signaling.PingInterval, cfg.Signaling.PingTimeout = 5*time.Second, time.Minute
	h := startServerWith(t, cfg, Options{Log: zaptest.NewLogger(t), iceTimeout: 30 * time.Second})
	addrs := h.srv.Engine().UDPAddrs()
	if len(addrs) != 1 {
		t.Fatalf("UDP mux listens on %v, want one address", addrs)
	}
	muxPort := portOf(t, addrs[0])
	ctx, cancel := context.WithTimeout(context.Background(), networkWait)
	defer cancel()

	var ps []participant
	var ids []string
	for i := range n {
		p := h.joinWith(ctx, h.api, "big", fmt.Sprintf("p%02d", i))
		ps = append(ps, p)
		ids = append(ids, p.id)
	}
	// Everyone publishes at once, as a meeting starting does; the server
	// folds the track changes into few subscribe offers.
	tracks := make([]testclient.Tracks, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tracks[i], errs[i] = p.c.Publish(ctx, p.id)
		}()
	}
	wg.Wait()
	for i, p := range ps {
		if errs[i] != nil {
			t.Fatalf("%s publish: %v", p.id, errs[i])
		}
		// 10 packets per second per track keeps 20×19 streams light
		// enough for a loaded CI machine.
		h.send(p, tracks[i], 100*time.Millisecond)
	}
	for _, p := range ps {
		var others []string
		for _, id := range ids {
			if id != p.id {
				others = append(others, id)
			}
		}
		collect(ctx, t, p.id, p.c, atLeast(3, others...))
	}
	want := fmt.Sprintf("udp 127.0.0.1 %d host", muxPort)
	for _, p := range ps {
		cands := serverCandidates(t, p.c)
		if len(cands) == 0 {
			t.Fatalf("%s: the server sent no candidates", p.id)
		}
		for _, c := range cands {
			if c != want {
				t.Fatalf("%s: server candidate %q, want every one to be %q", p.id, c, want)
			}
		}
		for _, pair := range waitSelected(ctx, t, p.id, p.c) {
			if pair.Remote.Port != uint16(muxPort) || pair.Remote.Protocol != webrtc.ICEProtocolUDP {
				t.Fatalf("%s: selected pair uses server %s:%d/%s, want UDP port %d", p.id, pair.Remote.Address, pair.Remote.Port, pair.Remote.Protocol, muxPort)
			}
		}
	}
}

func TestClientWithoutUDPGetsMediaOverICETCP(t *testing.T) {
	cfg := testConfig()
	cfg.ICE.TCPListen = "127.0.0.1:0"
	h := startServer(t, cfg)
	tcpPort := portOf(t, h.srv.Engine().TCPAddr())
	ctx, cancel := context.WithTimeout(context.Background(), networkWait)
	defer cancel()
	tcpOnly, err := testclient.NewAPIFor(webrtc.NetworkTypeTCP4)
	if err != nil {
		t.Fatal(err)
	}

	a := h.joinAndPublish(ctx, h.api, "main", "udp", 10*time.Millisecond, nil)
	b := h.joinAndPublish(ctx, tcpOnly, "main", "tcp", 10*time.Millisecond, nil)
	collect(ctx, t, b.id, b.c, atLeast(20, a.id))
	collect(ctx, t, a.id, a.c, atLeast(20, b.id))

	for _, pair := range waitSelected(ctx, t, "tcp client", b.c) {
		if pair.Local.Protocol != webrtc.ICEProtocolTCP || pair.Remote.Protocol != webrtc.ICEProtocolTCP || pair.Remote.Port != uint16(tcpPort) {
			t.Fatalf("TCP-only client's selected pair %s → %s, want TCP to server port %d", pair.Local, pair.Remote, tcpPort)
		}
	}
	for _, c := range serverCandidates(t, b.c) {
		if !strings.HasPrefix(c, "udp ") && c != fmt.Sprintf("tcp 127.0.0.1 %d host", tcpPort) {
			t.Fatalf("server candidate %q: TCP candidates must all be on port %d", c, tcpPort)
		}
	}
}

func TestRelayOnlyClientGetsMediaThroughEmbeddedTURN(t *testing.T) {
	cfg := testConfig()
	cfg.TURN.Enabled = true
	cfg.TURN.UDPListen = "127.0.0.1:0"
	cfg.TURN.TCPListen = "127.0.0.1:0"
	cfg.TURN.CredentialTTL = time.Hour
	h := startServer(t, cfg)
	turnUDP := h.srv.TURN().Addrs()[0].String()
	ctx, cancel := context.WithTimeout(context.Background(), networkWait)
	defer cancel()

	a := h.joinAndPublish(ctx, h.api, "main", "direct", 10*time.Millisecond, nil)
	// Relay-only from before the join: the server offers a's tracks at
	// once, and the client may build that subscribe connection before
	// Join returns (it did, 2 runs in 22, with a host pair).
	bc, err := testclient.Dial(ctx, h.api, h.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bc.Close)
	bc.RelayOnly()
	j, err := bc.Join(ctx, "main", "relayed")
	if err != nil {
		t.Fatal(err)
	}
	b := participant{c: bc, id: j.ParticipantID}
	var joined signal.Joined
	m, _, err := bc.WaitType(ctx, 0, signal.TypeJoined)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Decode(&joined); err != nil {
		t.Fatal(err)
	}
	tracks, err := bc.Publish(ctx, b.id)
	if err != nil {
		t.Fatal(err)
	}
	h.send(b, tracks, 10*time.Millisecond)

	// joined carried per-participant credentials for this relay.
	if len(joined.ICEServers) != 1 {
		t.Fatalf("joined ice_servers = %+v, want the TURN server", joined.ICEServers)
	}
	srv := joined.ICEServers[0]
	if want := "turn:" + turnUDP + "?transport=udp"; srv.URLs[0] != want {
		t.Errorf("TURN URL %q, want %q", srv.URLs[0], want)
	}
	expiry, id, _ := strings.Cut(srv.Username, ":")
	if id != b.id {
		t.Errorf("TURN username %q does not name participant %s", srv.Username, b.id)
	}
	if sec, err := strconv.ParseInt(expiry, 10, 64); err != nil || time.Until(time.Unix(sec, 0)) < 59*time.Minute || time.Until(time.Unix(sec, 0)) > time.Hour {
		t.Errorf("TURN username %q: expiry should be about an hour away", srv.Username)
	}
	if srv.Credential == "" {
		t.Error("no TURN credential")
	}

	collect(ctx, t, b.id, b.c, atLeast(20, a.id))
	collect(ctx, t, a.id, a.c, atLeast(20, b.id))
	for _, pair := range waitSelected(ctx, t, "relayed client", b.c) {
		if pair.Local.Typ != webrtc.ICECandidateTypeRelay {
			t.Fatalf("relay-only client's selected pair %s → %s is not relayed", pair.Local, pair.Remote)
		}
	}
}

// With auth on, the TURN credentials in joined expire with the join token,
// not after turn.credential_ttl.
func TestTURNCredentialsExpireWithTheJoinToken(t *testing.T) {
	cfg := authConfig()
	cfg.TURN.Enabled = true
	cfg.TURN.UDPListen = "127.0.0.1:0"
	cfg.TURN.TCPListen = ""
	cfg.TURN.CredentialTTL = 12 * time.Hour
	h := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), networkWait)
	defer cancel()
	token := mint(t, testSecret, "r", "ann", everything, 10*time.Minute)
	exp := time.Now().Add(10 * time.Minute)
	c := h.dial(ctx)
	j, err := c.JoinToken(ctx, "r", "", token)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.ICEServers) != 1 {
		t.Fatalf("joined ice_servers = %+v, want the TURN server", j.ICEServers)
	}
	expiry, _, _ := strings.Cut(j.ICEServers[0].Username, ":")
	sec, err := strconv.ParseInt(expiry, 10, 64)
	if err != nil {
		t.Fatalf("TURN username %q: %v", j.ICEServers[0].Username, err)
	}
	if d := time.Unix(sec, 0).Sub(exp); d < -5*time.Second || d > 5*time.Second {
		t.Fatalf("TURN credentials expire at %v, %v from the token's expiry", time.Unix(sec, 0), d)
	}
}
