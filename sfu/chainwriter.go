package sfu

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v3"
)

// Forwarded packets enter pion's interceptor chain through chainWriter
// rather than the TrackLocalWriter pion hands to Bind: that one makes a
// new interceptor.Attributes map for every packet (pion/webrtc v3.3.6,
// interceptorToTrackLocalWriter.WriteRTP) and pion's TWCC interceptor a
// new 2-byte slice for the sequence number — allocations per packet per
// subscriber. chainWriter passes a pooled map instead, which also carries
// the scratch bytes twccStamper writes the sequence number into.
//
// Safe only because nothing in the chain keeps the attributes past the
// call: the congestion controller's pacer is gcc.NoOpPacer (bwe.go),
// which writes through at once.

// chainKey names one bound local stream: pion gives the RTPSender's id to
// both Bind (TrackLocalContext.ID) and BindLocalStream (StreamInfo.ID).
type chainKey struct {
	sender string
	ssrc   uint32
}

// boundChains holds, for every local stream pion has bound, the chain's
// writer, from BindLocalStream to UnbindLocalStream. Sender ids are
// random and unique, so one table serves every engine.
var boundChains sync.Map // chainKey → interceptor.RTPWriter

// chainCapture is the last interceptor of every connection's chain, so
// the writer its BindLocalStream gets is the whole chain.
type chainCapture struct{ interceptor.NoOp }

type chainCaptureFactory struct{}

func (chainCaptureFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &chainCapture{}, nil
}

func (*chainCapture) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	boundChains.Store(chainKey{info.ID, info.SSRC}, w)
	return w
}

func (*chainCapture) UnbindLocalStream(info *interceptor.StreamInfo) {
	boundChains.Delete(chainKey{info.ID, info.SSRC})
}

// writeAttrs are one call's attributes and the TWCC scratch they carry.
type writeAttrs struct {
	m    interceptor.Attributes
	twcc [2]byte
}

// twccScratchKey's value in the attributes is a *[2]byte the TWCC
// sequence number may be written into, valid for the call.
type twccScratchKey struct{}

var attrsPool = sync.Pool{New: func() any { return &writeAttrs{m: interceptor.Attributes{}} }}

// chainWriter writes into the stream's interceptor chain once pion has
// bound it, and through pion's own writer before (which then drops the
// packet, as the transport is not up).
type chainWriter struct {
	pion  webrtc.TrackLocalWriter
	key   any // a chainKey, boxed once
	chain atomic.Pointer[interceptor.RTPWriter]
}

// chainContext is pion's TrackLocalContext with a chainWriter for its
// WriteStream.
type chainContext struct{ webrtc.TrackLocalContext }

func (c chainContext) WriteStream() webrtc.TrackLocalWriter {
	return newChainWriter(c.TrackLocalContext)
}

func newChainWriter(ctx webrtc.TrackLocalContext) *chainWriter {
	return &chainWriter{pion: ctx.WriteStream(), key: chainKey{ctx.ID(), uint32(ctx.SSRC())}}
}

func (w *chainWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	out := w.chain.Load()
	if out == nil {
		v, ok := boundChains.Load(w.key)
		if !ok {
			return w.pion.WriteRTP(h, payload)
		}
		c := v.(interceptor.RTPWriter)
		out = &c
		w.chain.Store(out)
	}
	a := attrsPool.Get().(*writeAttrs)
	a.m[twccScratchKey{}] = &a.twcc
	n, err := (*out).Write(h, payload, a.m)
	clear(a.m)
	attrsPool.Put(a)
	return n, err
}

// Write is pion's: nothing forwards raw packets.
func (w *chainWriter) Write(b []byte) (int, error) { return w.pion.Write(b) }

// twccStamper writes the transport-wide sequence number, one counter per
// peer connection, as pion's twcc.HeaderExtensionInterceptor does, but
// into the call's scratch bytes rather than a new slice. It must run
// before the congestion controller, which reads the number back.
type twccStamper struct {
	interceptor.NoOp
	next atomic.Uint32
}

type twccStamperFactory struct{}

func (twccStamperFactory) NewInterceptor(string) (interceptor.Interceptor, error) {
	return &twccStamper{}, nil
}

func (t *twccStamper) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	var id uint8
	for _, e := range info.RTPHeaderExtensions {
		if e.URI == sdp.TransportCCURI {
			id = uint8(e.ID)
			break
		}
	}
	if id == 0 { // not negotiated
		return w
	}
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		seq := uint16(t.next.Add(1) - 1)
		buf, _ := a.Get(twccScratchKey{}).(*[2]byte)
		if buf == nil { // a writer without scratch (none of ours)
			buf = new([2]byte)
		}
		binary.BigEndian.PutUint16(buf[:], seq)
		if err := h.SetExtension(id, buf[:]); err != nil {
			return 0, err
		}
		return w.Write(h, payload, a)
	})
}

// configureTWCCStamper negotiates the transport-wide CC header extension
// for audio and video, as webrtc.ConfigureTWCCHeaderExtensionSender does,
// and adds twccStamper in its place.
func configureTWCCStamper(media *webrtc.MediaEngine, registry *interceptor.Registry) error {
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		if err := media.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}, kind); err != nil {
			return err
		}
	}
	registry.Add(twccStamperFactory{})
	return nil
}
