package testclient

import (
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
)

// A pion-only reproduction, for upstream, of the flaw behind streams.go:
// pion v3.3.6 queues startRTP (peerconnection.go SetLocalDescription →
// ops.Enqueue → startRTPReceivers → runIfNewReceiver → startReceiver) with
// the description it was set for, and runs it against the transceivers as
// they are when the queue gets there. While the queue waits (here, behind
// startTransports, until ICE connects: every new subscribe PC of the
// server's does, and offers keep coming), a departed track's m-line is
// reused for a new track; the stale startRTP then calls startReceive on
// the new receiver with the old track's SSRC, which fails after marking
// the receiver received, and the new track is never started: no OnTrack,
// its packets dropped. (The same stale or concurrent start on a receiver
// the next offer stopped is the stream leak streams.go works around.) The
// test asserts what should happen, so it fails on v3.3.6: run it with
// SWITCHYARD_PION_REPROS=1.
func TestPionStartsTracksOnReusedMLinesNegotiatedBeforeConnecting(t *testing.T) {
	if os.Getenv("SWITCHYARD_PION_REPROS") == "" {
		t.Skip("an upstream pion flaw (fails on webrtc v3.3.6); SWITCHYARD_PION_REPROS=1 runs it")
	}
	offerer, answerer := newPCPair(t)
	var mu sync.Mutex
	started := map[string]bool{}
	answerer.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		mu.Lock()
		started[tr.ID()] = true
		mu.Unlock()
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
		}
	})
	// Candidates are held until the end, both ways: ICE cannot connect
	// before, so every startRTP waits in the queue.
	var heldMu sync.Mutex
	held := map[*webrtc.PeerConnection][]webrtc.ICECandidateInit{} // by the PC that is to get them
	for _, p := range [][2]*webrtc.PeerConnection{{offerer, answerer}, {answerer, offerer}} {
		to := p[1]
		p[0].OnICECandidate(func(c *webrtc.ICECandidate) {
			if c != nil {
				heldMu.Lock()
				held[to] = append(held[to], c.ToJSON())
				heldMu.Unlock()
			}
		})
	}
	negotiate := func() {
		t.Helper()
		offer, err := offerer.CreateOffer(nil)
		if err == nil {
			err = offerer.SetLocalDescription(offer)
		}
		if err == nil {
			offer.SDP = withoutCandidates(offer.SDP)
			err = answerer.SetRemoteDescription(offer)
		}
		var answer webrtc.SessionDescription
		if err == nil {
			answer, err = answerer.CreateAnswer(nil)
		}
		if err == nil {
			err = answerer.SetLocalDescription(answer)
		}
		if err == nil {
			answer.SDP = withoutCandidates(answer.SDP)
			err = offerer.SetRemoteDescription(answer)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	newTrack := func(id string) *webrtc.TrackLocalStaticRTP {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, id, "s")
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	// As the server's subscriber does: a new transceiver, or the idle one
	// a departed track left once its removal is negotiated.
	first := newTrack("first")
	x, err := offerer.AddTransceiverFromTrack(first, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	negotiate()
	if err := offerer.RemoveTrack(x.Sender()); err != nil {
		t.Fatal(err)
	}
	negotiate()
	second := newTrack("second")
	if _, err := offerer.AddTrack(second); err != nil {
		t.Fatal(err)
	}
	negotiate()
	if n := len(offerer.GetTransceivers()); n != 1 {
		t.Fatalf("offerer has %d transceivers: the m-line was not reused", n)
	}
	heldMu.Lock()
	for pc, cs := range held {
		for _, c := range cs {
			_ = pc.AddICECandidate(c)
		}
	}
	heldMu.Unlock()
	connected := make(chan struct{})
	var once sync.Once
	answerer.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(connected) })
		}
	})
	if answerer.ConnectionState() == webrtc.PeerConnectionStateConnected {
		once.Do(func() { close(connected) })
	}
	select {
	case <-connected:
	case <-time.After(20 * time.Second):
		t.Fatalf("never connected: %s", answerer.ConnectionState())
	}
	deadline := time.Now().Add(5 * time.Second)
	for seq := uint16(0); ; seq++ {
		_ = second.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: seq}, Payload: []byte{1}})
		mu.Lock()
		ok := started["second"]
		mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the track on the reused m-line never started, connected: pion's stale startRTP")
		}
		time.Sleep(20 * time.Millisecond) // the packet interval
	}
}

// newPCPair makes two PCs on this package's loopback API, closed at cleanup.
func newPCPair(t *testing.T) (a, b *webrtc.PeerConnection) {
	t.Helper()
	api, err := NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	for _, pc := range []**webrtc.PeerConnection{&a, &b} {
		if *pc, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
			t.Fatal(err)
		}
		p := *pc
		t.Cleanup(func() { _ = p.Close() })
	}
	return a, b
}

// withoutCandidates drops the candidates pion puts in descriptions once
// gathering is done, so none reach the other side before the test says.
func withoutCandidates(sdp string) string {
	var out []string
	for _, l := range strings.SplitAfter(sdp, "\n") {
		if !strings.HasPrefix(l, "a=candidate") && !strings.HasPrefix(l, "a=end-of-candidates") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
