// Package whipclient is a WHIP (RFC 9725) publisher and WHEP player
// written from the RFC alone, on pion: one peer connection, one POST of a
// complete (non-trickle) offer, the 201's answer and Location, DELETE to
// end. Tests use it as an independent client of package whip.
package whipclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/sfu"
)

// Session is one WHIP or WHEP resource.
type Session struct {
	PC            *webrtc.PeerConnection
	Location      *url.URL // the resource URL from the 201
	ParticipantID string   // the Switchyard-Participant-Id header
	ETag          string
	Links         []string // Link headers: ICE servers
	Audio, Video  *webrtc.TrackLocalStaticRTP

	// Packets receives what a WHEP session plays; dropped when full.
	Packets chan Packet

	token  string
	guard  *sfu.ICEGuard
	closed sync.Once
}

// Packet is one RTP packet a WHEP session received.
type Packet struct {
	Kind     string
	StreamID string
	Payload  []byte
}

// StatusError is a non-201 answer to the POST.
type StatusError struct {
	Status int
	Body   string
}

func (e *StatusError) Error() string { return fmt.Sprintf("HTTP %d: %s", e.Status, e.Body) }

// Publish POSTs an offer with one Opus and one VP8 send-only track to the
// WHIP endpoint at endpoint; token may be "".
func Publish(ctx context.Context, api *webrtc.API, endpoint, token string) (*Session, error) {
	s, err := newSession(api, token)
	if err != nil {
		return nil, err
	}
	s.Audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "audio", "whip")
	if err == nil {
		s.Video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "video", "whip")
	}
	for _, t := range []webrtc.TrackLocal{s.Audio, s.Video} {
		if err != nil {
			break
		}
		_, err = s.PC.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	}
	if err == nil {
		err = s.negotiate(ctx, endpoint)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Play POSTs a receive-only audio+video offer to the WHEP endpoint.
func Play(ctx context.Context, api *webrtc.API, endpoint, token string) (*Session, error) {
	s, err := newSession(api, token)
	if err != nil {
		return nil, err
	}
	s.Packets = make(chan Packet, 4096)
	for _, k := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err = s.PC.AddTransceiverFromKind(k, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
			break
		}
	}
	s.PC.OnTrack(func(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			p, _, err := t.ReadRTP()
			if err != nil {
				return
			}
			select {
			case s.Packets <- Packet{Kind: t.Kind().String(), StreamID: t.StreamID(), Payload: p.Payload}:
			default:
			}
		}
	})
	if err == nil {
		err = s.negotiate(ctx, endpoint)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func newSession(api *webrtc.API, token string) (*Session, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	return &Session{PC: pc, token: token, guard: sfu.NewICEGuard(pc)}, nil
}

// offerGathered sets a new local offer and waits until it holds every
// local candidate.
func (s *Session) offerGathered(ctx context.Context, opts *webrtc.OfferOptions) error {
	offer, err := s.PC.CreateOffer(opts)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(s.PC)
	if err := s.PC.SetLocalDescription(offer); err != nil {
		return err
	}
	select {
	case <-gathered:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// negotiate sends the complete offer (RFC 9725 §4.2: the client waits for
// gathering rather than trickling) and applies the answer.
func (s *Session) negotiate(ctx context.Context, endpoint string) error {
	if err := s.offerGathered(ctx, nil); err != nil {
		return err
	}
	base, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	resp, body, err := s.do(ctx, http.MethodPost, base.String(), "application/sdp", s.PC.LocalDescription().SDP)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusCreated {
		return &StatusError{Status: resp.StatusCode, Body: body}
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/sdp" {
		return fmt.Errorf("201 with Content-Type %q, want application/sdp", ct)
	}
	loc, err := base.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return fmt.Errorf("201 without a usable Location: %q", resp.Header.Get("Location"))
	}
	s.Location, s.ETag, s.Links = loc, resp.Header.Get("ETag"), resp.Header.Values("Link")
	s.ParticipantID = resp.Header.Get("Switchyard-Participant-Id")
	return s.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: body})
}

// do sends one request; header holds extra name, value pairs.
func (s *Session) do(ctx context.Context, method, target, contentType, body string, header ...string) (*http.Response, string, error) {
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewBufferString(body))
	if err != nil {
		return nil, "", err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp, string(b), err
}

// Delete ends the session (RFC 9725 §4.3) and closes the peer connection.
func (s *Session) Delete(ctx context.Context) error {
	resp, body, err := s.do(ctx, http.MethodDelete, s.Location.String(), "", "")
	s.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &StatusError{Status: resp.StatusCode, Body: body}
	}
	return nil
}

// Patch sends a trickle-ice-sdpfrag body and returns the status and body.
func (s *Session) Patch(ctx context.Context, frag string) (int, string, error) {
	resp, body, err := s.do(ctx, http.MethodPatch, s.Location.String(), "application/trickle-ice-sdpfrag", frag)
	if err != nil {
		return 0, "", err
	}
	return resp.StatusCode, body, nil
}

// Close closes the peer connection without telling the server.
func (s *Session) Close() {
	s.closed.Do(func() { _ = s.guard.Close() })
}

// WaitConnected waits for the peer connection to connect.
func (s *Session) WaitConnected(ctx context.Context) error {
	done := make(chan struct{})
	var once sync.Once
	s.PC.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(done) })
		}
	})
	if s.PC.ConnectionState() == webrtc.PeerConnectionStateConnected {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.Join(errors.New("WHIP peer connection never connected"), ctx.Err())
	}
}

// RestartICE does an ICE restart the RFC 9725 §4.3.2 way: a new local
// offer with new credentials, its ufrag/pwd/candidates PATCHed to the
// session, and the server's fragment folded into the last answer.
func (s *Session) RestartICE(ctx context.Context) error {
	if err := s.offerGathered(ctx, &webrtc.OfferOptions{ICERestart: true}); err != nil {
		return err
	}
	var frag strings.Builder
	for _, line := range strings.Split(s.PC.LocalDescription().SDP, "\r\n") {
		if strings.HasPrefix(line, "a=ice-ufrag:") || strings.HasPrefix(line, "a=ice-pwd:") {
			if !strings.Contains(frag.String(), line) {
				frag.WriteString(line + "\r\n")
			}
		}
	}
	frag.WriteString("m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:0\r\n")
	for _, line := range strings.Split(s.PC.LocalDescription().SDP, "\r\n") {
		if strings.HasPrefix(line, "a=candidate:") && !strings.Contains(frag.String(), line) {
			frag.WriteString(line + "\r\n")
		}
	}
	resp, body, err := s.do(ctx, http.MethodPatch, s.Location.String(), "application/trickle-ice-sdpfrag", frag.String(), "If-Match", s.ETag)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &StatusError{Status: resp.StatusCode, Body: body}
	}
	s.ETag = resp.Header.Get("ETag")
	// The new answer: the old one with the server's new ICE session.
	var ufrag, pwd string
	var cands []string
	for _, line := range strings.Split(body, "\r\n") {
		switch {
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			ufrag = line
		case strings.HasPrefix(line, "a=ice-pwd:"):
			pwd = line
		case strings.HasPrefix(line, "a=candidate:"):
			cands = append(cands, line)
		}
	}
	var answer strings.Builder
	for _, line := range strings.Split(s.PC.RemoteDescription().SDP, "\r\n") {
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "a=ice-ufrag:"):
			line = ufrag
		case strings.HasPrefix(line, "a=ice-pwd:"):
			line = pwd
		case strings.HasPrefix(line, "a=candidate:"), line == "a=end-of-candidates":
			continue
		}
		answer.WriteString(line + "\r\n")
		if strings.HasPrefix(line, "a=mid:") {
			for _, c := range cands {
				answer.WriteString(c + "\r\n")
			}
		}
	}
	return s.PC.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer.String()})
}
