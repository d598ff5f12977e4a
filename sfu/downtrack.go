package sfu

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v3"
)

// Queue lengths per subscriber track: enough for a keyframe burst at
// typical resolutions, small enough that a stalled subscriber costs little.
const (
	videoQueueLength = 512
	audioQueueLength = 64
)

// binding is what a negotiated subscriber transceiver gives us to write to.
type binding struct {
	ssrc        uint32
	payloadType uint8
	writer      webrtc.TrackLocalWriter
}

// DownTrack forwards one Track to one subscriber. It implements
// webrtc.TrackLocal so pion negotiates it like any local track. The
// track's read loop writes to it directly (deliver) when its connection
// cannot block, else queues for the connection's writer (connwriter.go),
// so a slow subscriber stalls nobody else.
type DownTrack struct {
	track *Track
	queue *packetRing
	bound atomic.Pointer[binding]
	stats *counters
	out   *connWriter // the subscriber connection's writer

	sender *webrtc.RTPSender

	// writeMu is held by whoever writes: a read loop inline, or the
	// connection's writer draining the queue. What follows it is theirs.
	writeMu sync.Mutex
	header  rtp.Header // reused for every packet
	// delivering is set at the first packet that actually left: before
	// the subscriber's DTLS is up, pion drops writes.
	delivering bool
	closed     bool // set by close: a late read loop writes nothing
	sent       sendCounters
	nacks      nackResponder

	// selector picks and rewrites the simulcast layer; nil for other tracks.
	selector *layerSelector
	probe    prober // padding toward a simulcast subscriber: probe.go
	// enqueueMu makes the layers' read loops (one goroutine each) take
	// turns at the single-producer queue; simulcast only.
	enqueueMu sync.Mutex

	// onBound runs when pion binds the track (deliverable.go); nil: nothing.
	onBound func()

	// scheduled: d is on out's pending list (connWriter.schedule).
	scheduled atomic.Bool
}

func newDownTrack(t *Track, stats *counters, out *connWriter) *DownTrack {
	size := audioQueueLength
	if t.kind == webrtc.RTPCodecTypeVideo {
		size = videoQueueLength
	}
	d := &DownTrack{
		track: t,
		queue: newPacketRing(size),
		stats: stats,
		out:   out,
	}
	d.nacks = nackResponder{source: historySource{t.history[0]}, stats: stats, sent: &d.sent}
	if t.sim != nil {
		d.selector = newLayerSelector(t)
		d.nacks.source = d.selector // seqs are rewritten: map them back
	}
	return d
}

// ID implements webrtc.TrackLocal: the server's track id.
func (d *DownTrack) ID() string { return d.track.id }

// RID implements webrtc.TrackLocal: a subscriber receives one stream per
// track, whichever simulcast layer it is made from.
func (d *DownTrack) RID() string { return "" }

// StreamID implements webrtc.TrackLocal: the publisher's participant id,
// so a browser groups one participant's audio and video.
func (d *DownTrack) StreamID() string { return d.track.streamID }

// Kind implements webrtc.TrackLocal.
func (d *DownTrack) Kind() webrtc.RTPCodecType { return d.track.kind }

// Bind implements webrtc.TrackLocal. It picks the negotiated codec that
// matches what the publisher sends, preferring an exact fmtp match so
// H.264 profiles line up.
func (d *DownTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := matchCodec(d.track.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, ErrCodecNotNegotiated
	}
	ctx = chainContext{ctx} // its WriteStream skips pion's per-packet allocations: chainwriter.go
	d.bound.Store(&binding{ssrc: uint32(ctx.SSRC()), payloadType: uint8(codec.PayloadType), writer: ctx.WriteStream()})
	if d.onBound != nil {
		d.onBound()
	}
	return codec, nil
}

// Unbind implements webrtc.TrackLocal.
func (d *DownTrack) Unbind(webrtc.TrackLocalContext) error {
	d.bound.Store(nil)
	return nil
}

func matchCodec(want webrtc.RTPCodecParameters, offered []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	for _, c := range offered {
		if strings.EqualFold(c.MimeType, want.MimeType) && c.SDPFmtpLine == want.SDPFmtpLine {
			return c, true
		}
	}
	for _, c := range offered {
		if strings.EqualFold(c.MimeType, want.MimeType) {
			return c, true
		}
	}
	return webrtc.RTPCodecParameters{}, false
}

// deliver takes one reference to p, from a read loop at now (unix ns).
// It writes p at once when nothing can make that block: the connection
// is not queued, nothing waits in the ring before p, and no one else is
// writing. Otherwise p joins the ring for the connection's writer; a full
// ring drops p for this subscriber only. It reports the time after the
// write, for the caller's next subscriber, and whether p was dropped.
func (d *DownTrack) deliver(p *packet, now int64) (int64, bool) {
	if d.out.inline(now) && d.queue.empty() && d.writeMu.TryLock() {
		d.writeAt(p, now)
		d.writeMu.Unlock()
		p.release()
		end := time.Now().UnixNano()
		d.out.wroteSlowly(now, end)
		return end, false
	}
	if !d.enqueue(p) {
		p.release()
		return now, true
	}
	d.out.schedule(d)
	return now, false
}

// enqueue adds p to the ring and reports false when it is full. A
// simulcast subscriber accepts two layers while a switch waits for its
// keyframe, so two read loops may push at once; and with fan-out helpers
// (fanpool.go) a subscriber joining or leaving moves the parts' bounds,
// so the read loop and a helper still holding an older packet may too.
func (d *DownTrack) enqueue(p *packet) bool {
	if d.selector == nil && d.track.pool == nil {
		return d.queue.push(p) // one read loop: the queue's one producer
	}
	d.enqueueMu.Lock()
	defer d.enqueueMu.Unlock()
	return d.queue.push(p)
}

// drain writes what the ring holds; the connection's writer only. The
// write lock is held throughout, so a read loop meanwhile queues behind
// it, in order, instead of writing past it.
func (d *DownTrack) drain() {
	for {
		d.writeMu.Lock()
		for p := d.queue.pop(); p != nil; p = d.queue.pop() {
			d.write(p)
			p.release()
		}
		d.writeMu.Unlock()
		// Unlisted, then look again: a packet queued after the last pop
		// either finds d unlisted and lists it, or is seen here.
		d.scheduled.Store(false)
		if d.queue.empty() || !d.scheduled.CompareAndSwap(false, true) {
			return
		}
	}
}

// write rewrites what differs per subscriber — SSRC and payload type, and
// for simulcast the layer's seq and timestamp (layerSelector.forward) —
// and drops the publisher's header extensions, whose ids were negotiated
// on another peer connection and would mean something else here.
func (d *DownTrack) write(p *packet) { d.writeAt(p, time.Now().UnixNano()) }

// writeAt is write at now, in unix nanoseconds (a test's clock).
func (d *DownTrack) writeAt(p *packet, now int64) {
	b := d.bound.Load()
	if b == nil || d.closed {
		return
	}
	payload, ok := rewriteForSubscriber(&d.header, p.data(), b)
	if !ok {
		return
	}
	// Before the first delivery, a keyframe the transport cannot carry yet
	// must not start the layer: it would be lost (deliverable.go).
	if d.selector != nil && !d.delivering && !d.selector.deliverable() {
		return
	}
	if d.selector != nil {
		if !d.selector.forward(&d.header, p.layer, payload, now) {
			return
		}
		payload = d.selector.rewritePayload(payload)
	}
	// Zero bytes without an error: the transport is not up yet.
	if n, err := b.writer.WriteRTP(&d.header, payload); err != nil || n == 0 {
		return
	}
	defer d.pad(b, &d.header, now)
	if !d.delivering {
		d.delivering = true
		// A new subscriber cannot decode anything before the next
		// keyframe; asking at Bind would be too early, as pion binds
		// before the connection is up and that keyframe would be lost.
		// A simulcast selector has just started at one (deliverable.go).
		if d.selector == nil {
			d.requestKeyframe()
		}
	}
	d.sent.add(len(payload))
	d.stats.packetsForwarded.Add(1)
	d.stats.bytesForwarded.Add(uint64(len(payload)))
}

// readRTCP relays the subscriber's keyframe requests to the publisher and
// answers its NACKs from the track's cache. It also keeps pion's
// interceptors fed, which only see RTCP that someone reads. It ends when
// the sender stops.
func (d *DownTrack) readRTCP(sender *webrtc.RTPSender) {
	buf := make([]byte, maxPacketSize)
	for {
		n, _, err := sender.Read(buf)
		if err != nil {
			return
		}
		pkts, err := rtcp.Unmarshal(buf[:n])
		if err != nil {
			continue
		}
		for _, pkt := range pkts {
			switch pkt := pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.requestKeyframe()
			case *rtcp.TransportLayerNack:
				d.nacks.handle(pkt, d.bound.Load())
			}
		}
	}
}

// close ends forwarding: it waits for a write in progress, returns every
// queued packet to the pool, and makes later deliveries (a read loop's
// snapshot may still hold d) write nothing.
func (d *DownTrack) close() {
	d.writeMu.Lock()
	defer d.writeMu.Unlock()
	if d.closed {
		return
	}
	d.closed = true
	for p := d.queue.pop(); p != nil; p = d.queue.pop() {
		p.release()
	}
	if d.selector != nil {
		d.selector.view(-1)
	}
}
