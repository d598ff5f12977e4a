package sfu

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v2"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v3"
)

// fakeEstimate stands in for a subscriber's gcc estimate so the test can
// cut it; the production path (checked below) uses gcc.
type fakeEstimate struct{ bps atomic.Int64 }

func (f *fakeEstimate) GetTargetBitrate() int { return int(f.bps.Load()) }

// loopbackAPI is a pion API for test peers: loopback only, and able to
// send simulcast (rid header extensions).
func loopbackAPI(t *testing.T) *webrtc.API {
	t.Helper()
	media := &webrtc.MediaEngine{}
	if err := media.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if err := webrtc.ConfigureSimulcastExtensionHeaders(media); err != nil {
		t.Fatal(err)
	}
	// Received only, so the server's packets carry their transport-wide
	// seqs (the test reads them; it sends no feedback).
	if err := media.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverDirectionRecvonly); err != nil {
		t.Fatal(err)
	}
	var s webrtc.SettingEngine
	s.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	s.SetIncludeLoopbackCandidate(true)
	s.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	s.SetInterfaceFilter(func(name string) bool { return name == "lo" })
	return webrtc.NewAPI(webrtc.WithMediaEngine(media), webrtc.WithSettingEngine(s))
}

func testEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := NewEngine(EngineConfig{Loopback: true, UDP4Only: true, Interfaces: []string{"lo"}})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Fake layer streams: per 40 ms frame, layer l sends packetsPerLayer[l]
// packets of bytesPerLayer[l] bytes (80, 320 and 800 kbit/s), with a
// keyframe every 10 frames. The byte after the VP8 header names the layer.
var (
	packetsPerLayer = [maxLayers]int{1, 2, 4}
	bytesPerLayer   = [maxLayers]int{400, 800, 1000}
)

const layerMarkerAt = 11

// paddingMark is received.layer for a padding-only (probe) packet.
const paddingMark = 0xff

// sendLayers sends the fake layers until ctx ends. pion does not tag
// simulcast packets itself, so the mid and rid extensions are set here,
// as a browser would.
func sendLayers(ctx context.Context, tracks [maxLayers]*webrtc.TrackLocalStaticRTP, tr *webrtc.RTPTransceiver) {
	var midID, ridID uint8
	for _, ext := range tr.Sender().GetParameters().HeaderExtensions {
		switch ext.URI {
		case sdp.SDESMidURI:
			midID = uint8(ext.ID)
		case sdp.SDESRTPStreamIDURI:
			ridID = uint8(ext.ID)
		}
	}
	tick := time.NewTicker(40 * time.Millisecond)
	defer tick.Stop()
	var seq [maxLayers]uint16
	var ts [maxLayers]uint32
	for l := range maxLayers {
		seq[l], ts[l] = uint16(1000*l*17), uint32(123456789*l)
	}
	for frame := 0; ; frame++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for l := range maxLayers {
			key := (frame+3*l)%10 == 0
			for k := range packetsPerLayer[l] {
				payload := vp8Payload(k == 0, key && k == 0, 320<<l, 180<<l, bytesPerLayer[l])
				payload[layerMarkerAt] = byte(l)
				p := rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: seq[l], Timestamp: ts[l], Marker: k == packetsPerLayer[l]-1}, Payload: payload}
				_ = p.Header.SetExtension(midID, []byte(tr.Mid()))
				_ = p.Header.SetExtension(ridID, []byte(simulcastRIDs[l]))
				seq[l]++
				_ = tracks[l].WriteRTP(&p)
			}
			ts[l] += 3600
		}
	}
}

type received struct {
	twcc  bool // a padding packet carries a transport-wide seq
	seq   uint16
	ts    uint32
	layer byte
	key   bool
}

// TestSimulcastSubscriberFollowsEstimate publishes three layers from a
// pion peer, subscribes a pion peer, and cuts and restores the
// subscriber's estimate: it moves from the top layer to the lowest and
// back, and sees continuous seqs and monotonic timestamps throughout.
func TestSimulcastSubscriberFollowsEstimate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	eng := testEngine(t)
	api := loopbackAPI(t)

	// Publisher: one video transceiver with three encodings.
	pubPC, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pubPC.Close()
	var tracks [maxLayers]*webrtc.TrackLocalStaticRTP
	for l, rid := range simulcastRIDs {
		tracks[l], err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "pub", webrtc.WithRTPStreamID(rid))
		if err != nil {
			t.Fatal(err)
		}
	}
	tr, err := pubPC.AddTransceiverFromTrack(tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		t.Fatal(err)
	}
	for _, tl := range tracks[1:] {
		if err := tr.Sender().AddEncoding(tl); err != nil {
			t.Fatal(err)
		}
	}
	started := make(chan *Track, 4)
	pub, err := eng.NewPublisher("p_pub", PublisherEvents{
		PeerEvents: PeerEvents{
			Candidate: func(c *webrtc.ICECandidateInit) {
				if c != nil {
					_ = pubPC.AddICECandidate(*c)
				}
			},
			Failed: func(webrtc.PeerConnectionState, time.Time) {},
		},
		Answer: func(sdp string) {
			if err := pubPC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: sdp}); err != nil {
				t.Error(err)
			}
		},
		TrackStarted: func(tr *Track) { started <- tr },
		TrackEnded:   func(*Track) {},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pubPC.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			init := c.ToJSON()
			_ = pub.AddCandidate(&init)
		}
	})
	offer, err := pubPC.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pubPC.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	if err := pub.HandleOffer(offer.SDP); err != nil {
		t.Fatal(err)
	}
	if answer := pubPC.RemoteDescription(); answer == nil || strings.Contains(answer.SDP, "rtx/90000") {
		t.Fatal("the publish answer is missing or accepts RTX for video")
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
	if !track.Simulcast() {
		t.Fatal("track is not simulcast")
	}
	// All three rids are known from the offer though one layer arrived.
	if got := strings.Join(track.Layers(), ","); got != "q,h,f" {
		t.Fatalf("track layers %q, want q,h,f", got)
	}

	// Subscriber.
	subPC, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer subPC.Close()
	var sub *Subscriber
	sub, err = eng.NewSubscriber(SubscriberEvents{
		PeerEvents: PeerEvents{
			Candidate: func(c *webrtc.ICECandidateInit) {
				if c != nil {
					_ = subPC.AddICECandidate(*c)
				}
			},
			Failed: func(webrtc.PeerConnectionState, time.Time) {},
		},
		Offer: func(sdp string) {
			if err := subPC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: sdp}); err != nil {
				t.Error(err)
				return
			}
			answer, err := subPC.CreateAnswer(nil)
			if err == nil {
				err = subPC.SetLocalDescription(answer)
			}
			if err == nil {
				err = sub.HandleAnswer(answer.SDP)
			}
			if err != nil {
				t.Error(err)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	// The production path estimates with gcc; the test then takes over.
	if sub.alloc.budget() != bweInitialBitrate {
		t.Fatalf("subscriber estimate %d, want gcc's initial %d", sub.alloc.budget(), bweInitialBitrate)
	}
	estimate := &fakeEstimate{}
	estimate.bps.Store(10_000_000)
	sub.alloc.setEstimator(estimate)
	subPC.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c != nil {
			init := c.ToJSON()
			_ = sub.AddCandidate(&init)
		}
	})
	packets := make(chan received, 4096)
	var readers sync.WaitGroup
	defer readers.Wait()
	subPC.OnTrack(func(remote *webrtc.TrackRemote, receiver *webrtc.RTPReceiver) {
		readers.Add(1)
		defer readers.Done()
		var twccID uint8
		for _, ext := range receiver.GetParameters().HeaderExtensions {
			if ext.URI == sdp.TransportCCURI {
				twccID = uint8(ext.ID)
			}
		}
		for {
			p, _, err := remote.ReadRTP()
			if err != nil {
				return
			}
			switch {
			case len(p.Payload) > layerMarkerAt:
				packets <- received{seq: p.SequenceNumber, ts: p.Timestamp, layer: p.Payload[layerMarkerAt], key: isKeyframeStart(codecVP8, p.Payload)}
			case p.Padding && len(p.Payload) == 0:
				// A probe: part of the seq space, of no layer.
				packets <- received{seq: p.SequenceNumber, ts: p.Timestamp, layer: paddingMark, twcc: twccID != 0 && p.GetExtension(twccID) != nil}
			}
		}
	})
	if err := sub.AddTrack(track); err != nil {
		t.Fatal(err)
	}

	var got []received
	waitLayer := func(layer byte) {
		t.Helper()
		for {
			select {
			case p := <-packets:
				got = append(got, p)
				if p.layer == layer {
					return
				}
			case <-ctx.Done():
				t.Fatalf("never received layer %d; got %d packets", layer, len(got))
			}
		}
	}
	waitLayer(2)
	estimate.bps.Store(250_000) // below the middle layer's 320 kbit/s
	waitLayer(0)
	// Held below the middle layer, it is probed: padding between frames.
	for p := (received{}); p.layer != paddingMark; {
		select {
		case p = <-packets:
			got = append(got, p)
		case <-ctx.Done():
			t.Fatal("no probe padding while the estimate held the subscriber on the lowest layer")
		}
	}
	estimate.bps.Store(10_000_000)
	waitLayer(2)
	// A few more of the top layer, to see the stream go on after the switch.
	for range 20 {
		waitLayer(2)
	}
	stopSending()
	_ = subPC.Close()

	switches, probes := 0, 0
	media := got[0] // the last packet of a layer
	for i := 1; i < len(got); i++ {
		p, prev := got[i], got[i-1]
		if p.seq != prev.seq+1 {
			t.Errorf("packet %d: seq %d after %d", i, p.seq, prev.seq)
		}
		if int32(p.ts-prev.ts) < 0 {
			t.Errorf("packet %d: timestamp %d after %d goes back", i, p.ts, prev.ts)
		}
		if p.layer == paddingMark {
			probes++
			if !p.twcc {
				t.Errorf("padding packet %d has no transport-wide seq: gcc would not count it", i)
			}
			continue
		}
		prev, media = media, p
		if p.layer != prev.layer {
			switches++
			if !p.key {
				t.Errorf("packet %d: switch to layer %d not on a keyframe", i, p.layer)
			}
		}
	}
	if switches < 2 {
		t.Errorf("%d layer switches, want at least 2 (down and up)", switches)
	}
	t.Logf("%d packets, %d switches, %d padding", len(got), switches, probes)
}
