package abuse

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/pion/stun"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// bait is a set of loopback sockets that count what the server sends
// them: TCP connections accepted, STUN binding requests received.
type bait struct {
	tcp     []net.Listener
	udp     []*net.UDPConn
	dials   atomic.Int64
	stunReq []atomic.Int64 // per UDP socket
	wg      sync.WaitGroup
}

func newBait(t *testing.T, n int) *bait {
	t.Helper()
	b := &bait{stunReq: make([]atomic.Int64, n)}
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		b.tcp = append(b.tcp, ln)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				b.dials.Add(1)
				_ = c.Close()
			}
		}()
		u, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		b.udp = append(b.udp, u)
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			buf := make([]byte, 1500)
			for {
				n, _, err := u.ReadFrom(buf)
				if err != nil {
					return
				}
				if stun.IsMessage(buf[:n]) {
					b.stunReq[i].Add(1)
				}
			}
		}()
	}
	t.Cleanup(func() {
		for _, ln := range b.tcp {
			_ = ln.Close()
		}
		for _, u := range b.udp {
			_ = u.Close()
		}
		b.wg.Wait()
	})
	return b
}

func port(a net.Addr) int {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.Port
	case *net.UDPAddr:
		return a.Port
	}
	return 0
}

func tcpPassive(i, p int) string {
	return fmt.Sprintf("candidate:%d 1 tcp 1518280447 127.0.0.1 %d typ host tcptype passive", 9000+i, p)
}

func udpHost(i, p int) string {
	return fmt.Sprintf("candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host", 7000+i, p)
}

func sendCandidates(t *testing.T, c *testclient.Client, pc string, lines []string) {
	t.Helper()
	zero := uint16(0)
	mid := "0"
	for _, l := range lines {
		if err := c.Send(signal.Candidate{Type: signal.TypeCandidate, PC: pc, Candidate: &signal.ICECandidate{Candidate: l, SDPMid: &mid, SDPMLineIndex: &zero}}); err != nil {
			t.Fatal(err)
		}
	}
}

// The candidate floods: passive TCP candidates (each would make an
// active-ICE-TCP server dial the port it names) and UDP candidates (each
// would draw STUN checks), trickled before and after the remote
// description and carried in the SDP. The server dials nothing, accepts
// limits.max_remote_candidates per connection, refuses the rest with
// bad-candidate, and never checks a candidate beyond the cap.
func TestCandidateFloodsDialNothingAndAreCapped(t *testing.T) {
	h := start(t, func(c *config.Config) { c.ICE.TCPListen = "127.0.0.1:0" }) // ICE-TCP on: the dial-out path exists
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main")
	limit := h.cfg.Limits.MaxRemoteCandidates
	b := newBait(t, 4)
	const flood = 500

	// Lines: passive TCP aimed at the bait's TCP ports, then UDP; the
	// bait's UDP ports come after the cap except the first, within it.
	var tcpLines, udpLines []string
	for i := range flood {
		tcpLines = append(tcpLines, tcpPassive(i, port(b.tcp[i%len(b.tcp)].Addr())))
	}
	udpLines = append(udpLines, udpHost(0, port(b.udp[0].LocalAddr())))
	for i := 1; i < flood; i++ {
		p := 20000 + i // closed ports
		if i >= limit+10 && i < limit+10+len(b.udp)-1 {
			p = port(b.udp[i-limit-9].LocalAddr())
		}
		udpLines = append(udpLines, udpHost(i, p))
	}

	var before, after *testclient.Client
	var fromBefore, fromAfter int
	ctl.attack("candidate floods (TCP+UDP, before/after remote description)", func() {
		before = h.joined(ctx, "main", "flood-before")
		fromBefore = len(before.Messages())
		sendCandidates(t, before, signal.PCPublish, tcpLines[:flood/2])
		sendCandidates(t, before, signal.PCPublish, udpLines)
		flush(ctx, t, before) // the refusals come before the answer is awaited
		if _, err := before.Publish(ctx, "flood-before"); err != nil {
			t.Fatal(err)
		}
		after = h.joined(ctx, "main", "flood-after")
		if _, err := after.Publish(ctx, "flood-after"); err != nil {
			t.Fatal(err)
		}
		fromAfter = len(after.Messages())
		sendCandidates(t, after, signal.PCPublish, tcpLines)
		sendCandidates(t, after, signal.PCPublish, udpLines)
		sendCandidates(t, after, signal.PCSubscribe, udpLines)
		flush(ctx, t, before)
		flush(ctx, t, after)
		// Give ICE two seconds of checks (100 control packets) to show
		// any dial or check beyond the cap.
		ctl.waitSamples(ctx, window{media: ctl.mark().media + 100})
		before.Close() // their leave is part of what must return to baseline
		after.Close()
	})
	if n := b.dials.Load(); n != 0 {
		t.Errorf("the server opened %d TCP connections to addresses a client named", n)
	}
	inCap := b.stunReq[0].Load()
	var beyond int64
	for i := 1; i < len(b.udp); i++ {
		beyond += b.stunReq[i].Load()
	}
	t.Logf("STUN requests: %d to the in-cap candidate, %d to candidates beyond the cap; bad-candidate replies: before %d, after %d",
		inCap, beyond, errorCodes(before, fromBefore)[signal.CodeBadCandidate], errorCodes(after, fromAfter)[signal.CodeBadCandidate])
	if beyond != 0 {
		t.Errorf("%d STUN checks went to candidates beyond the cap", beyond)
	}
	if inCap > 2*7 { // pion's maxBindingRequests per pair, both PCs
		t.Errorf("%d STUN checks to one candidate, want at most %d", inCap, 2*7)
	}
	// TCP passive candidates are dropped silently (a browser sends them);
	// UDP ones beyond the cap are refused, the replies within their own
	// rate (the STUN counts above prove the cap itself).
	if errorCodes(before, fromBefore)[signal.CodeBadCandidate] == 0 || errorCodes(after, fromAfter)[signal.CodeBadCandidate] == 0 {
		t.Error("no bad-candidate reply beyond the cap")
	}
}

// An offer carrying more candidates than the cap is refused as a whole;
// one carrying passive TCP candidates is accepted without them.
func TestCandidatesInTheSDPAreCappedAndNeverDialled(t *testing.T) {
	h := start(t, func(c *config.Config) { c.ICE.TCPListen = "127.0.0.1:0" })
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main")
	b := newBait(t, 2)
	offerWith := func(lines []string) string {
		pc, err := h.api.NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = pc.Close() }()
		if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			t.Fatal(err)
		}
		offer, err := pc.CreateOffer(nil)
		if err != nil {
			t.Fatal(err)
		}
		var extra strings.Builder
		for _, l := range lines {
			extra.WriteString("a=" + l + "\r\n")
		}
		return offer.SDP + extra.String()
	}
	var tooMany, passive []string
	for i := range h.cfg.Limits.MaxRemoteCandidates + 1 {
		tooMany = append(tooMany, udpHost(i, port(b.udp[0].LocalAddr())))
	}
	for i := range 200 {
		passive = append(passive, tcpPassive(i, port(b.tcp[i%2].Addr())))
	}
	attacker := h.joined(ctx, "main", "sdp-flood")
	from := len(attacker.Messages())
	ctl.attack("candidates in the SDP", func() {
		if err := attacker.Send(signal.SDP{Type: signal.TypeOffer, PC: signal.PCPublish, SDP: offerWith(tooMany)}); err != nil {
			t.Fatal(err)
		}
		if err := attacker.Send(signal.SDP{Type: signal.TypeOffer, PC: signal.PCPublish, SDP: offerWith(passive)}); err != nil {
			t.Fatal(err)
		}
		flush(ctx, t, attacker)
		ctl.waitSamples(ctx, window{media: ctl.mark().media + 100})
		attacker.Close() // its leave is part of what must return to baseline
	})
	codes := errorCodes(attacker, from)
	if codes[signal.CodeBadSDP] != 1 || countType(attacker, from, signal.TypeAnswer) != 1 {
		t.Errorf("want one bad-sdp (too many candidates) and one answer (passive dropped); got %v and %d answers", codes, countType(attacker, from, signal.TypeAnswer))
	}
	if n := b.dials.Load(); n != 0 {
		t.Errorf("the server opened %d TCP connections to addresses in an SDP", n)
	}
}
