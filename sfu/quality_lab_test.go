package sfu

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pion/transport/v2/vnet"
	"github.com/pion/webrtc/v3"
)

// The pion quality lab: a simulcast publisher (the fake 80/320/800 kbit/s
// layers of simulcast_test.go) and a subscriber with pion's default
// interceptors (its TWCC feedback drives the server's real gcc) on a
// virtual network whose downlink to the subscriber is rate-limited with
// vnet's token bucket. It runs a limit and its lifting, and reports when
// the subscriber went down, every upswitch tried under the limit, and
// when it was back on the top layer, with probing on and off. It takes
// about two minutes, so it runs only with SWITCHYARD_QUALITY_LAB=1.

// qualityRun is what one run of the lab measured.
type qualityRun struct {
	down       time.Duration // limit set → layer 0 forwarded
	upsUnder   int           // upswitches while limited
	recover    time.Duration // limit lifted → layer 2 forwarded
	probes     uint64
	probePkts  uint64
	switchesUp uint64
}

func TestQualityLabPion(t *testing.T) {
	if os.Getenv("SWITCHYARD_QUALITY_LAB") == "" {
		t.Skip("SWITCHYARD_QUALITY_LAB=1 runs the pion quality lab (about 2 minutes)")
	}
	for _, probing := range []bool{true, false} {
		r := runQualityLab(t, probing)
		t.Logf("probing %-5v: down in %v; %d upswitches under 250 kbit/s; back on the top layer %v after the lift; %d probes, %d padding packets, %d switches up in all",
			probing, r.down.Round(10*time.Millisecond), r.upsUnder, r.recover.Round(10*time.Millisecond), r.probes, r.probePkts, r.switchesUp)
		if r.down > 3*time.Second {
			t.Errorf("probing %v: down after %v, want within 3 s", probing, r.down)
		}
		// gcc grows its estimate by 8 %/s at most: 250 kbit/s to the 1 Mbit/s
		// the top layer needs takes it about 18 s, then the sustain time.
		if r.recover > 40*time.Second {
			t.Errorf("probing %v: back on the top layer %v after the lift, want within 40 s", probing, r.recover)
		}
		if r.upsUnder > 1 {
			t.Errorf("probing %v: %d upswitches under the limit, want at most 1", probing, r.upsUnder)
		}
	}
}

func runQualityLab(t *testing.T, probing bool) qualityRun {
	probingOff.Store(!probing)
	defer probingOff.Store(false)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	l := newLab(t, 10*time.Millisecond)

	// Publisher: three layers on one transceiver.
	pc := l.newClientWith(0, clientOptions{media: webrtc.ConfigureSimulcastExtensionHeaders})
	tracks, tr := addSimulcastTracks(t, pc.pc)
	started := make(chan *Track, 1)
	pub, err := l.engine.NewPublisher("p_pub", PublisherEvents{
		PeerEvents:   PeerEvents{Candidate: pc.addCandidate, Failed: func(webrtc.PeerConnectionState, time.Time) {}},
		TrackStarted: func(tr *Track) { started <- tr },
		TrackEnded:   func(*Track) {},
		Answer: func(sdp string) {
			pc.do(func() {
				_ = pc.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp})
			})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pc.pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			init := c.ToJSON()
			_ = pub.AddCandidate(&init)
		}
	})
	offer, err := pc.pc.CreateOffer(nil)
	if err == nil {
		err = pc.pc.SetLocalDescription(offer)
	}
	if err == nil {
		err = pub.HandleOffer(offer.SDP)
	}
	if err != nil {
		t.Fatal(err)
	}
	var senders sync.WaitGroup
	sendCtx, stopSending := context.WithCancel(ctx)
	senders.Add(1)
	go func() { defer senders.Done(); sendLayers(sendCtx, tracks, tr) }()
	defer senders.Wait()
	defer stopSending()
	var track *Track
	select {
	case track = <-started:
	case <-ctx.Done():
		t.Fatal("no track published")
	}

	// Subscriber, behind a token bucket on its downlink.
	var tbf *vnet.TokenBucketFilter
	sub := l.subscribeWith(0, true, clientOptions{nic: func(n *vnet.Net) (vnet.NIC, error) {
		var err error
		tbf, err = vnet.NewTokenBucketFilter(n, vnet.TBFRate(100*vnet.MBit), vnet.TBFMaxBurst(16*vnet.KBit), vnet.TBFQueueSizeInBytes(25_000))
		return tbf, err
	}})
	defer tbf.Close()
	if err := sub.server.AddTrack(track); err != nil {
		t.Fatal(err)
	}
	sub.server.mu.Lock()
	down := sub.server.downs[track.id]
	sub.server.mu.Unlock()
	stats := &l.engine.stats
	// waitLayer polls the layer the server forwards (an observation of
	// state over time; the allocator has no event to await).
	waitLayer := func(want int8, what string) time.Duration {
		start := time.Now()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for int8(down.selector.current.Load()) != want {
			select {
			case <-tick.C:
			case <-ctx.Done():
				t.Fatalf("probing %v: never %s (layer %d after %v)", probing, what, down.selector.current.Load(), time.Since(start))
			}
		}
		return time.Since(start)
	}
	var r qualityRun
	waitLayer(2, "reached the top layer before the limit")
	tbf.Set(vnet.TBFRate(250 * vnet.KBit))
	r.down = waitLayer(0, "went down under the limit")
	upsBefore := stats.layerSwitchesUp.Load()
	select {
	case <-time.After(20 * time.Second): // the limit's duration, not a wait for an event
	case <-ctx.Done():
	}
	r.upsUnder = int(stats.layerSwitchesUp.Load() - upsBefore)
	tbf.Set(vnet.TBFRate(100 * vnet.MBit))
	r.recover = waitLayer(2, "came back to the top layer after the lift")
	r.probes, r.probePkts, r.switchesUp = stats.probes.Load(), stats.probePackets.Load(), stats.layerSwitchesUp.Load()
	return r
}

// addSimulcastTracks adds a send-only video transceiver with the three
// layers' encodings to pc.
func addSimulcastTracks(t *testing.T, pc *webrtc.PeerConnection) ([maxLayers]*webrtc.TrackLocalStaticRTP, *webrtc.RTPTransceiver) {
	t.Helper()
	var tracks [maxLayers]*webrtc.TrackLocalStaticRTP
	var err error
	for l, rid := range simulcastRIDs {
		tracks[l], err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "pub", webrtc.WithRTPStreamID(rid))
		if err != nil {
			t.Fatal(err)
		}
	}
	tr, err := pc.AddTransceiverFromTrack(tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tracks[1:] {
		if err := tr.Sender().AddEncoding(tl); err != nil {
			t.Fatal(err)
		}
	}
	return tracks, tr
}
