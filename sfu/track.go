package sfu

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
)

// Track is one track received from a publisher. Its read loop (one per
// simulcast layer) fans every packet out to the subscribers in an
// immutable snapshot.
type Track struct {
	id       string
	streamID string
	kind     webrtc.RTPCodecType
	codec    webrtc.RTPCodecParameters
	remote   *webrtc.TrackRemote
	ssrc     uint32
	// writeRTCP sends feedback to the publisher's peer connection.
	writeRTCP func([]rtcp.Packet) error

	mu    sync.Mutex // serialises copy-on-write updates of downs
	downs atomic.Pointer[[]*DownTrack]

	// Per layer (index 0 for a track without simulcast), video only: the
	// history answers subscribers' NACKs, and PLIs go out aggregated per
	// layer, since each layer is its own encoder and SSRC. See
	// layerfeedback.go.
	history   [maxLayers]*packetHistory
	keyframes [maxLayers]*keyframeRequester
	ended     atomic.Bool // set by a BYE; the read loops stop
	stats     *counters

	state trackState // mid, audio level, mute: trackstate.go

	// pool is the engine's fan-out helpers (nil: the read loop writes to
	// every subscriber); spread is this track's offset into them.
	pool   *fanPool
	spread uint32

	// sim is set for a simulcast track (nil otherwise); remote is then
	// its first layer to arrive, firstLayer that layer's index.
	sim        *simulcastLayers
	firstLayer int8
}

func newTrack(id, streamID string, remote *webrtc.TrackRemote, writeRTCP func([]rtcp.Packet) error, stats *counters) *Track {
	codec := remote.Codec()
	codec.MimeType = canonicalMimeType(codec.MimeType)
	t := &Track{
		id:        id,
		streamID:  streamID,
		kind:      remote.Kind(),
		codec:     codec,
		remote:    remote,
		ssrc:      uint32(remote.SSRC()),
		writeRTCP: writeRTCP,
		stats:     stats,
	}
	if t.kind == webrtc.RTPCodecTypeVideo {
		t.addLayerFeedback(0)
	}
	t.downs.Store(&[]*DownTrack{})
	return t
}

// ID is the server-assigned track id, unique on this server.
func (t *Track) ID() string { return t.id }

// StreamID is the publisher's participant id.
func (t *Track) StreamID() string { return t.streamID }

// Kind is audio or video.
func (t *Track) Kind() webrtc.RTPCodecType { return t.kind }

// subscriberCodec is the codec offered to subscribers: the publisher's,
// with every RTCP feedback the server itself answers. pion keeps only the
// feedback both the preference and the media engine list, so passing the
// publisher's own list on meant a publisher that offered no transport-cc
// (GStreamer, WHIP tools) left every subscriber without the feedback our
// congestion control runs on.
func (t *Track) subscriberCodec() webrtc.RTPCodecParameters {
	c := t.codec
	c.RTCPFeedback = []webrtc.RTCPFeedback{
		{Type: webrtc.TypeRTCPFBTransportCC},
		{Type: webrtc.TypeRTCPFBNACK}, {Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
		{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"}, {Type: webrtc.TypeRTCPFBGoogREMB},
	}
	return c
}

// MimeType names the codec, e.g. "video/VP8".
func (t *Track) MimeType() string { return t.codec.MimeType }

func (t *Track) addDownTrack(d *DownTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	next := append(slices.Clone(*t.downs.Load()), d)
	t.downs.Store(&next)
}

func (t *Track) removeDownTrack(d *DownTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	next := slices.DeleteFunc(slices.Clone(*t.downs.Load()), func(x *DownTrack) bool { return x == d })
	t.downs.Store(&next)
}

// readLoop forwards packets until the publisher's stream ends. It is the
// hot path: one pooled buffer per packet, shared by reference with every
// subscriber; no allocations, no logging, and no locks but each down
// track's uncontended write lock (DownTrack.deliver).
func (t *Track) readLoop(onEnded func(*Track)) {
	t.stats.tracksPublished.Add(1)
	defer func() {
		t.stopLayerFeedback()
		t.stats.tracksPublished.Add(-1)
		onEnded(t)
	}()
	t.readPackets(t.remote, t.firstLayer)
}

// readPackets reads one stream (a simulcast layer, or the whole track)
// until it ends.
func (t *Track) readPackets(remote *webrtc.TrackRemote, layer int8) {
	for {
		p := getPacket()
		n, _, err := remote.Read(p.buf[:])
		if err != nil || t.ended.Load() {
			packetPool.Put(p)
			return
		}
		p.n = n
		p.layer = layer
		t.stats.packetsReceived.Add(1)
		if !t.forwardable(p.data()) {
			packetPool.Put(p)
			continue
		}
		if t.sim != nil {
			t.sim.noteLayerPacket(layer, p.data())
		}
		t.fanOut(p)
	}
}

// fanOut hands p to the history and every subscriber and releases the
// caller's reference. Subscribers whose connection cannot block are
// written here, on the read loop, or for a large fan-out partly by the
// engine's helpers (fanpool.go); the others queue for their connection's
// writer, and a full queue drops the packet for that subscriber only.
func (t *Track) fanOut(p *packet) {
	downs := *t.downs.Load()
	p.refs.Store(int32(len(downs)) + 2)
	t.history[p.layer].put(p)
	if t.pool != nil && len(downs) > inlineFanOut {
		downs = t.pool.share(t, downs, p)
	}
	t.deliverAll(downs, p, time.Now().UnixNano())
	p.release()
}

// deliverAll delivers p to downs, each holding one of p's references,
// starting at now (unix ns).
func (t *Track) deliverAll(downs []*DownTrack, p *packet, now int64) {
	for _, d := range downs {
		if d.selector != nil && !d.selector.accepts(p.layer) {
			p.release() // another simulcast layer than this subscriber's
			continue
		}
		var dropped bool
		if now, dropped = d.deliver(p, now); dropped {
			t.stats.packetsDropped.Add(1)
		}
	}
}
