package sfu

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
)

// sendCounters are what one down track has sent, for its sender reports.
// RTCP's counts are 32 bits and wrap, as these do.
type sendCounters struct {
	packets atomic.Uint32
	octets  atomic.Uint32
}

func (c *sendCounters) add(payloadBytes int) {
	c.packets.Add(1)
	c.octets.Add(uint32(payloadBytes))
}

// readRTCP handles the publisher's RTCP for one layer of this track (the
// whole track without simulcast) until read fails, i.e. the receiver
// stops. Sender reports are translated for every subscriber forwarded
// that layer; a BYE for the layer's SSRC ends the track at once (a
// browser sends BYE only when the whole sender stops). Reading also feeds
// pion's receiver report interceptor the sender reports it needs for
// LSR/DLSR.
func (t *Track) readRTCP(layer int8, read func() ([]rtcp.Packet, error)) {
	for {
		pkts, err := read()
		if err != nil {
			return
		}
		ssrc := t.layerSSRC(layer)
		for _, pkt := range pkts {
			switch pkt := pkt.(type) {
			case *rtcp.SenderReport:
				if pkt.SSRC == ssrc {
					t.relaySenderReport(layer, pkt)
				}
			case *rtcp.Goodbye:
				if slices.Contains(pkt.Sources, ssrc) {
					t.end()
				}
			}
		}
	}
}

// readReceiverRTCP is readRTCP for a track without simulcast.
func (t *Track) readReceiverRTCP(receiver *webrtc.RTPReceiver) {
	t.readRTCP(0, func() ([]rtcp.Packet, error) {
		pkts, _, err := receiver.ReadRTCP()
		return pkts, err
	})
}

// end stops the read loops without waiting for the peer connection to
// close, so the track is unpublished as soon as the publisher says BYE.
func (t *Track) end() {
	t.ended.Store(true)
	// Wakes a Read blocked on an idle stream; the loop then sees ended.
	_ = t.remote.SetReadDeadline(time.Now())
	if t.sim != nil {
		for i := range t.sim.layers {
			if r := t.sim.layers[i].remote.Load(); r != nil {
				_ = r.SetReadDeadline(time.Now())
			}
		}
	}
}

// relaySenderReport passes the publisher's NTP↔RTP mapping for layer on
// to every subscriber that is forwarded that layer. Forwarding keeps the
// publisher's timestamps up to a per-subscriber offset (simulcast
// switching), so the mapping plus that offset is exactly right for what
// the subscriber receives, and a browser can line audio up with video
// from the same publisher (both map onto the publisher's one clock).
// Reports that the server made up from its own clock (pion's sender
// report interceptor) would carry the network jitter between the two
// tracks' last packets into the lip sync instead. Each layer has its own
// RTP clock origin, so another layer's report would be wrong by the
// difference: a subscriber on no layer (paused) gets none.
func (t *Track) relaySenderReport(layer int8, sr *rtcp.SenderReport) {
	for _, d := range *t.downs.Load() {
		var offset uint32
		if d.selector != nil {
			var ok bool
			if offset, ok = d.selector.timestampOffset(layer); !ok {
				continue
			}
		}
		d.sendSenderReport(sr.NTPTime, sr.RTPTime+offset)
	}
}

// sendSenderReport writes one sender report for this subscriber's stream,
// with the given mapping and what this down track has sent. A forwarder
// that offsets timestamps per subscriber must add its offset to rtpTime.
func (d *DownTrack) sendSenderReport(ntpTime uint64, rtpTime uint32) {
	b := d.bound.Load()
	if b == nil || d.sender == nil {
		return
	}
	transport := d.sender.Transport()
	if transport == nil {
		return
	}
	sr := &rtcp.SenderReport{
		SSRC:        b.ssrc,
		NTPTime:     ntpTime,
		RTPTime:     rtpTime,
		PacketCount: d.sent.packets.Load(),
		OctetCount:  d.sent.octets.Load(),
	}
	// A failed write means the subscriber is going away; its own teardown
	// handles that.
	if _, err := transport.WriteRTCP([]rtcp.Packet{sr}); err == nil {
		d.stats.senderReports.Add(1)
	}
}
