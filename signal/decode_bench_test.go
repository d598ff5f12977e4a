package signal

import (
	"encoding/json"
	"testing"

	"github.com/pion/webrtc/v3"
)

// decodeAs is the decoding half of dispatch: the envelope for the type,
// then the type's own struct through the same decode the handlers use.
func decodeAs(data []byte, v any) error {
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return err
	}
	return decode(data, v)
}

// realOffer is a publish offer as pion writes it (audio + video), about
// the size of a browser's.
func realOffer(b *testing.B) string {
	b.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
			b.Fatal(err)
		}
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		b.Fatal(err)
	}
	return offer.SDP
}

// BenchmarkDecode measures decoding each kind of incoming message.
func BenchmarkDecode(b *testing.B) {
	mid, line := "0", uint16(0)
	cases := []struct {
		name string
		msg  any
		into func() any
	}{
		{"join", Join{Type: TypeJoin, Room: "standup", Name: "Ann"}, func() any { return &Join{} }},
		{"candidate", Candidate{Type: TypeCandidate, PC: PCPublish, Candidate: &ICECandidate{
			Candidate: "candidate:1966762133 1 udp 2130706431 127.0.0.1 51123 typ host", SDPMid: &mid, SDPMLineIndex: &line,
		}}, func() any { return &Candidate{} }},
		{"offer", SDP{Type: TypeOffer, PC: PCPublish, SDP: realOffer(b)}, func() any { return &SDP{} }},
		{"leave", Leave{Type: TypeLeave}, func() any { return &Leave{} }},
	}
	for _, tc := range cases {
		data, err := json.Marshal(tc.msg)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for range b.N {
				if err := decodeAs(data, tc.into()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
