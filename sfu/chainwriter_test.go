package sfu

import (
	"encoding/binary"
	"testing"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v3"
)

// fakeTrackContext is what pion hands Bind, with a counting writer.
type fakeTrackContext struct {
	id     string
	ssrc   webrtc.SSRC
	writer *countingTrackWriter
}

func (c fakeTrackContext) CodecParameters() []webrtc.RTPCodecParameters { return nil }
func (c fakeTrackContext) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter {
	return nil
}
func (c fakeTrackContext) SSRC() webrtc.SSRC                             { return c.ssrc }
func (c fakeTrackContext) WriteStream() webrtc.TrackLocalWriter          { return c.writer }
func (c fakeTrackContext) ID() string                                    { return c.id }
func (c fakeTrackContext) RTCPReader() interceptor.RTCPReader            { return nil }
func (c fakeTrackContext) String() string                                { return c.id }
func (w *countingTrackWriter) Write(b []byte) (int, error)               { return len(b), nil }
func (w *countingTrackWriter) WriteRTP(*rtp.Header, []byte) (int, error) { w.n++; return 0, nil }

type countingTrackWriter struct{ n int }

// serverChain is one peer connection's interceptor chain as the engine
// builds it, with a TWCC-negotiating stream bound onto bottom.
func serverChain(t testing.TB) interceptor.Interceptor {
	t.Helper()
	media := &webrtc.MediaEngine{}
	if err := registerCodecs(media); err != nil {
		t.Fatal(err)
	}
	registry := &interceptor.Registry{}
	if err := registerInterceptors(media, registry, &bweHandoff{}); err != nil {
		t.Fatal(err)
	}
	chain, err := registry.Build("pc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = chain.Close() })
	return chain
}

func twccStream(id string, ssrc uint32) *interceptor.StreamInfo {
	return &interceptor.StreamInfo{
		ID: id, SSRC: ssrc, ClockRate: 90000, MimeType: "video/VP8",
		RTPHeaderExtensions: []interceptor.RTPHeaderExtension{{URI: sdp.TransportCCURI, ID: 5}},
	}
}

// Before pion binds the stream, writes go to pion's writer (which drops
// them); after, into the chain, stamped with transport-wide sequence
// numbers shared by the connection's streams; after unbinding the stream
// leaves the table.
func TestChainWriterWritesIntoTheBoundChain(t *testing.T) {
	chain := serverChain(t)
	var seqs []uint16
	bottom := interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
		var ext rtp.TransportCCExtension
		if err := ext.Unmarshal(h.GetExtension(5)); err != nil {
			t.Fatalf("no TWCC extension: %v", err)
		}
		seqs = append(seqs, ext.TransportSequence)
		return len(payload), nil
	})
	ctxA := fakeTrackContext{id: "sender-a", ssrc: 11, writer: &countingTrackWriter{}}
	ctxB := fakeTrackContext{id: "sender-b", ssrc: 22, writer: &countingTrackWriter{}}
	a, b := newChainWriter(ctxA), newChainWriter(ctxB)
	h := rtp.Header{Version: 2}
	payload := make([]byte, 100)
	if n, _ := a.WriteRTP(&h, payload); n != 0 || ctxA.writer.n != 1 {
		t.Fatalf("before binding: wrote %d, pion's writer saw %d", n, ctxA.writer.n)
	}
	infoA, infoB := twccStream("sender-a", 11), twccStream("sender-b", 22)
	chain.BindLocalStream(infoA, bottom)
	chain.BindLocalStream(infoB, bottom)
	for i, w := range []*chainWriter{a, b, a, a, b} {
		h.Extensions = h.Extensions[:0]
		h.SSRC, h.SequenceNumber = uint32(w.key.(chainKey).ssrc), uint16(i)
		if n, err := w.WriteRTP(&h, payload); n != len(payload) || err != nil {
			t.Fatalf("wrote %d, %v", n, err)
		}
	}
	for i, s := range seqs {
		if s != uint16(i) {
			t.Fatalf("transport-wide sequence numbers %v, want 0, 1, 2, …", seqs)
		}
	}
	if ctxA.writer.n != 1 || ctxB.writer.n != 0 {
		t.Fatalf("pion's writers used after binding: %d, %d", ctxA.writer.n, ctxB.writer.n)
	}
	chain.UnbindLocalStream(infoA)
	chain.UnbindLocalStream(infoB)
	if _, ok := boundChains.Load(chainKey{"sender-a", 11}); ok {
		t.Fatal("unbound stream still in the table")
	}
}

// The forwarding write through the engine's real chain (TWCC stamp,
// congestion controller's history, SRTP stand-in): pion's own entry, which
// makes an attributes map per packet, against chainWriter.
func BenchmarkChainWrite(b *testing.B) {
	for _, mode := range []string{"pion", "chainWriter"} {
		b.Run(mode, func(b *testing.B) {
			chain := serverChain(b)
			bottom := interceptor.RTPWriterFunc(func(_ *rtp.Header, payload []byte, _ interceptor.Attributes) (int, error) {
				return len(payload), nil
			})
			info := twccStream("bench-"+mode, 33)
			w := chain.BindLocalStream(info, bottom)
			defer chain.UnbindLocalStream(info)
			cw := newChainWriter(fakeTrackContext{id: info.ID, ssrc: 33, writer: &countingTrackWriter{}})
			h := rtp.Header{Version: 2, SSRC: 33, PayloadType: 96}
			payload := make([]byte, 1100)
			b.ReportAllocs()
			for i := range b.N {
				h.SequenceNumber = uint16(i)
				h.Extensions = h.Extensions[:0]
				var err error
				if mode == "pion" {
					_, err = w.Write(&h, payload, interceptor.Attributes{})
				} else {
					_, err = cw.WriteRTP(&h, payload)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			binary.BigEndian.PutUint16(payload, 0) // keep payload live
		})
	}
}
