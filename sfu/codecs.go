package sfu

import (
	"fmt"

	"github.com/pion/webrtc/v3"
)

// registerCodecs offers pion's usual codecs (Opus, G.722, PCMU/PCMA, VP8,
// VP9, H.264, AV1) with the same payload types, but without RTX.
//
// Without RTX a publisher retransmits on the media SSRC itself, where
// pion's NACK generator sees the repair and stops asking. pion v3
// unwraps an RTX repair stream into the track without telling the
// generator, which then NACKs every repaired packet again each 100 ms and
// browsers resend it each time. Toward subscribers pion v3 cannot send RTX
// at all (no RTX SSRC on a local track), and plain retransmission on the
// original SSRC (RFC 4585) is what every browser accepts. And with
// simulcast, pion v3.3.6 sets up a layer's RTX stream on one goroutine
// while TrackRemote.Read looks for it on another, unsynchronised (fixed
// only in pion v4, pion/webrtc#3332). Leaving RTX out of the table keeps
// it out of every answer and offer, which is the one place RTX is refused.
func registerCodecs(media *webrtc.MediaEngine) error {
	audio := []webrtc.RTPCodecParameters{
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1"}, PayloadType: 111},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeG722, ClockRate: 8000}, PayloadType: 9},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMU, ClockRate: 8000}, PayloadType: 0},
		{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypePCMA, ClockRate: 8000}, PayloadType: 8},
	}
	for _, c := range audio {
		if err := media.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			return fmt.Errorf("register %s: %w", c.MimeType, err)
		}
	}

	feedback := []webrtc.RTCPFeedback{{Type: "goog-remb"}, {Type: "ccm", Parameter: "fir"}, {Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	h264 := func(mode, profile string) string {
		return "level-asymmetry-allowed=1;packetization-mode=" + mode + ";profile-level-id=" + profile
	}
	video := []struct {
		mime string
		fmtp string
		pt   webrtc.PayloadType
	}{
		{webrtc.MimeTypeVP8, "", 96},
		{webrtc.MimeTypeH264, h264("1", "42001f"), 102},
		{webrtc.MimeTypeH264, h264("0", "42001f"), 104},
		{webrtc.MimeTypeH264, h264("1", "42e01f"), 106},
		{webrtc.MimeTypeH264, h264("0", "42e01f"), 108},
		{webrtc.MimeTypeH264, h264("1", "4d001f"), 127},
		{webrtc.MimeTypeH264, h264("0", "4d001f"), 39},
		{webrtc.MimeTypeAV1, "", 45},
		{webrtc.MimeTypeVP9, "profile-id=0", 98},
		{webrtc.MimeTypeVP9, "profile-id=2", 100},
		{webrtc.MimeTypeH264, h264("1", "64001f"), 112},
	}
	for _, v := range video {
		c := webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: v.mime, ClockRate: 90000, SDPFmtpLine: v.fmtp, RTCPFeedback: feedback},
			PayloadType:        v.pt,
		}
		if err := media.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return fmt.Errorf("register %s: %w", v.mime, err)
		}
	}
	return nil
}
