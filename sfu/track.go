package sfu

import (
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
)

// Track is one track received from a publisher. Its read loop fans every
// packet out to the subscriber queues in an immutable snapshot.
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

	history   *packetHistory     // video only: answers subscribers' NACKs
	keyframes *keyframeRequester // video only
	ended     atomic.Bool        // set by a BYE; the read loop stops
	stats     *counters
}

func newTrack(id, streamID string, remote *webrtc.TrackRemote, writeRTCP func([]rtcp.Packet) error, stats *counters) *Track {
	t := &Track{
		id:        id,
		streamID:  streamID,
		kind:      remote.Kind(),
		codec:     remote.Codec(),
		remote:    remote,
		ssrc:      uint32(remote.SSRC()),
		writeRTCP: writeRTCP,
		stats:     stats,
	}
	if t.kind == webrtc.RTPCodecTypeVideo {
		t.history = newPacketHistory(videoHistoryLength)
		t.keyframes = newKeyframeRequester(keyframeInterval, t.sendPLI)
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

// MimeType names the codec, e.g. "video/VP8".
func (t *Track) MimeType() string { return t.codec.MimeType }

// RequestKeyframe asks the publisher for a keyframe: a new subscriber, a
// subscriber's PLI/FIR, or a layer switch. Requests are aggregated (see
// keyframeRequester), so callers need not throttle. Audio tracks ignore it.
func (t *Track) RequestKeyframe() {
	if t.keyframes != nil {
		t.keyframes.request()
	}
}

func (t *Track) sendPLI() {
	// A failed write means the publisher is gone; its read loop ends too.
	if t.writeRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: t.ssrc}}) == nil {
		t.stats.keyframeRequests.Add(1)
	}
}

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
// subscriber queue; no locks, no allocations, no logging.
func (t *Track) readLoop(onEnded func(*Track)) {
	t.stats.tracksPublished.Add(1)
	defer func() {
		t.keyframes.stop()
		t.history.clear()
		t.stats.tracksPublished.Add(-1)
		onEnded(t)
	}()
	for {
		p := getPacket()
		n, _, err := t.remote.Read(p.buf[:])
		if err != nil || t.ended.Load() {
			packetPool.Put(p)
			return
		}
		p.n = n
		t.stats.packetsReceived.Add(1)
		t.fanOut(p)
	}
}

// fanOut hands p to the history and every subscriber queue and releases
// the caller's reference. A full queue drops the packet for that
// subscriber only.
func (t *Track) fanOut(p *packet) {
	downs := *t.downs.Load()
	p.refs.Store(int32(len(downs)) + 2)
	t.history.put(p)
	for _, d := range downs {
		if !d.queue.push(p) {
			t.stats.packetsDropped.Add(1)
			p.release()
		}
	}
	p.release()
}
