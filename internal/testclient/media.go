package testclient

import (
	"context"
	"fmt"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/sfu"
	"github.com/switchyard-sfu/switchyard/signal"
)

// Tracks are the local tracks a client publishes.
type Tracks struct {
	Audio *webrtc.TrackLocalStaticRTP
	Video *webrtc.TrackLocalStaticRTP
	// AudioLevelID is the negotiated id of the RFC 6464 audio-level
	// header extension; 0 when the server did not accept it.
	AudioLevelID uint8
}

// SetAudioLevel marks h, an audio packet's header, with level in -dBov
// (0 loudest, 127 silence), as a browser does.
func (t Tracks) SetAudioLevel(h *rtp.Header, level uint8) error {
	if t.AudioLevelID == 0 {
		return fmt.Errorf("audio level extension not negotiated")
	}
	return h.SetExtension(t.AudioLevelID, []byte{0x80 | level&0x7f})
}

// Publish creates the publish PC with an Opus and a VP8 track, offers it
// and waits for the server's answer.
func (c *Client) Publish(ctx context.Context, streamID string) (Tracks, error) {
	pc, err := c.newPC(signal.PCPublish)
	if err != nil {
		return Tracks{}, err
	}
	c.mu.Lock()
	c.pub = pc
	c.mu.Unlock()
	var tracks Tracks
	tracks.Audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", streamID)
	if err != nil {
		return Tracks{}, err
	}
	tracks.Video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", streamID)
	if err != nil {
		return Tracks{}, err
	}
	for _, t := range []webrtc.TrackLocal{tracks.Audio, tracks.Video} {
		if _, err := pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			return Tracks{}, err
		}
	}
	offer, err := c.offerPublish(pc)
	if err != nil {
		return Tracks{}, err
	}
	from := len(c.Messages())
	if err := c.Send(signal.SDP{Type: signal.TypeOffer, PC: signal.PCPublish, SDP: offer.SDP}); err != nil {
		return Tracks{}, err
	}
	// Only an error about the offer refuses it: a bad-candidate refusal
	// of one of this PC's own trickled candidates (sent while the offer is
	// in flight, e.g. once a flood has used the cap) is a separate event.
	m, _, err := c.WaitFor(ctx, from, func(m Message) bool { return m.Type == signal.TypeAnswer || isErrorFor(m, signal.TypeOffer) })
	if err != nil {
		return Tracks{}, err
	}
	if m.Type == signal.TypeError {
		return Tracks{}, fmt.Errorf("offer refused: %s", m.Raw)
	}
	for _, tr := range pc.GetTransceivers() {
		if tr.Kind() != webrtc.RTPCodecTypeAudio || tr.Sender() == nil {
			continue
		}
		for _, ext := range tr.Sender().GetParameters().HeaderExtensions {
			if ext.URI == sfu.AudioLevelURI {
				tracks.AudioLevelID = uint8(ext.ID)
			}
		}
	}
	return tracks, nil
}

func (c *Client) newPC(role string) (*webrtc.PeerConnection, error) {
	pc, tracker, err := newTrackedPC(c.api, c.pcConfig())
	if err != nil {
		return nil, err
	}
	guard := sfu.NewICEGuard(pc)
	c.mu.Lock()
	c.guards[pc] = guard
	if tracker != nil {
		c.trackers[pc] = tracker
	}
	c.mu.Unlock()
	held := c.holds(role)
	pc.OnICECandidate(func(cand *webrtc.ICECandidate) {
		if held {
			return
		}
		if role == signal.PCPublish {
			c.awaitRestartOffer()
		}
		msg := signal.Candidate{Type: signal.TypeCandidate, PC: role}
		if cand != nil {
			init := cand.ToJSON()
			msg.Candidate = &signal.ICECandidate{Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment}
		}
		_ = c.Send(msg)
	})
	return pc, nil
}

// offerPublish is Publish's SDP step, taking turns with ClosePeers.
func (c *Client) offerPublish(pc *webrtc.PeerConnection) (webrtc.SessionDescription, error) {
	c.sdpMu.Lock()
	defer c.sdpMu.Unlock()
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return webrtc.SessionDescription{}, errClosed
	}
	offer, err := pc.CreateOffer(nil)
	if err == nil {
		err = pc.SetLocalDescription(offer)
	}
	return offer, err
}

// answerSubscribe handles a server offer, creating the subscribe PC on
// the first one.
func (c *Client) answerSubscribe(m Message) error {
	var msg signal.SDP
	if err := m.Decode(&msg); err != nil {
		return err
	}
	answer, err := c.applySubscribeOffer(msg.SDP)
	if err != nil || answer == "" {
		return err
	}
	return c.Send(signal.SDP{Type: signal.TypeAnswer, PC: signal.PCSubscribe, SDP: answer})
}

// applySubscribeOffer is answerSubscribe's SDP step, taking turns with
// ClosePeers (sdpMu); "" without an error: the client is closed.
func (c *Client) applySubscribeOffer(sdp string) (string, error) {
	c.sdpMu.Lock()
	defer c.sdpMu.Unlock()
	c.mu.Lock()
	pc, closed := c.sub, c.closed
	c.mu.Unlock()
	if closed {
		return "", nil
	}
	if pc == nil {
		var err error
		if pc, err = c.newPC(signal.PCSubscribe); err != nil {
			return "", err
		}
		pc.OnTrack(c.receive)
		c.mu.Lock()
		closed = c.closed
		if !closed {
			c.sub = pc
		}
		guard := c.guards[pc]
		c.mu.Unlock()
		// Close may have run since the check above, seeing no subscribe
		// PC to close: this one would outlive the client.
		if closed {
			return "", guard.Close()
		}
	}
	c.mu.Lock()
	tracker := c.trackers[pc]
	c.mu.Unlock()
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: c.rewritten(sdp)}); err != nil {
		return "", err
	}
	if tracker != nil {
		tracker.remoteChanged(pc)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", err
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		return "", err
	}
	if tracker != nil {
		tracker.sweep(pc) // the receivers this offer stopped
	}
	return answer.SDP, nil
}

// RawHandler gets each received RTP packet, undecoded, on the track's own
// goroutine; pkt is reused after it returns.
type RawHandler func(track *webrtc.TrackRemote, pkt []byte)

// OnRawPacket routes received packets to h instead of Packets, skipping
// the per-packet decode and copy, so a load generator costs little per
// packet. Set it before joining.
func (c *Client) OnRawPacket(h RawHandler) { c.raw.Store(&h) }

// receive copies every packet of a remote track into Packets.
func (c *Client) receive(track *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	c.wg.Add(1)
	defer c.wg.Done()
	if h := c.raw.Load(); h != nil {
		buf := make([]byte, 1500)
		for {
			n, _, err := track.Read(buf)
			if err != nil {
				return
			}
			(*h)(track, buf[:n])
		}
	}
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		select {
		case c.Packets <- Packet{StreamID: track.StreamID(), Kind: track.Kind().String(), Payload: pkt.Payload}:
		default:
		}
	}
}

// SubscribeSDP returns the subscribe PC's current remote description.
func (c *Client) SubscribeSDP() string {
	c.mu.Lock()
	pc := c.sub
	c.mu.Unlock()
	if pc == nil || pc.CurrentRemoteDescription() == nil {
		return ""
	}
	return pc.CurrentRemoteDescription().SDP
}

// PublishSDP returns the publish PC's current local description (its offer).
func (c *Client) PublishSDP() string {
	c.mu.Lock()
	pc := c.pub
	c.mu.Unlock()
	if pc == nil || pc.CurrentLocalDescription() == nil {
		return ""
	}
	return pc.CurrentLocalDescription().SDP
}

// Unpublish ends the published track of kind the way a publisher that
// stops a source may: an RTCP BYE for its SSRC, which the server takes as
// the track's end.
func (c *Client) Unpublish(kind webrtc.RTPCodecType) error {
	pc := c.publishPC()
	if pc == nil {
		return fmt.Errorf("nothing published")
	}
	for _, tr := range pc.GetTransceivers() {
		if tr.Kind() != kind || tr.Sender() == nil {
			continue
		}
		if enc := tr.Sender().GetParameters().Encodings; len(enc) > 0 {
			return pc.WriteRTCP([]rtcp.Packet{&rtcp.Goodbye{Sources: []uint32{uint32(enc[0].SSRC)}}})
		}
	}
	return fmt.Errorf("no %s track published", kind)
}

// isErrorFor reports whether m is an error refusing a request of type ref.
func isErrorFor(m Message, ref string) bool {
	var e signal.Error
	return m.Type == signal.TypeError && m.Decode(&e) == nil && e.Ref == ref
}
