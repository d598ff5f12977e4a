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

// readRTCP handles the publisher's RTCP for this track until the receiver
// stops. Sender reports are translated for every subscriber; a BYE for the
// track's SSRC ends the track at once. Reading also feeds pion's receiver
// report interceptor the sender reports it needs for LSR/DLSR.
func (t *Track) readRTCP(receiver *webrtc.RTPReceiver) {
	for {
		pkts, _, err := receiver.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt := pkt.(type) {
			case *rtcp.SenderReport:
				if pkt.SSRC == t.ssrc {
					t.relaySenderReport(pkt)
				}
			case *rtcp.Goodbye:
				if slices.Contains(pkt.Sources, t.ssrc) {
					t.end()
				}
			}
		}
	}
}

// end stops the read loop without waiting for the peer connection to
// close, so the track is unpublished as soon as the publisher says BYE.
func (t *Track) end() {
	t.ended.Store(true)
	// Wakes a Read blocked on an idle stream; the loop then sees ended.
	_ = t.remote.SetReadDeadline(time.Now())
}

// relaySenderReport passes the publisher's NTP↔RTP mapping on to every
// subscriber. Forwarding keeps the publisher's timestamps, so its mapping
// is exactly right for what subscribers receive, and a browser can line
// audio up with video from the same publisher (both map onto the
// publisher's one clock). Reports that the server made up from its own
// clock (pion's sender report interceptor) would carry the network jitter
// between the two tracks' last packets into the lip sync instead.
func (t *Track) relaySenderReport(sr *rtcp.SenderReport) {
	for _, d := range *t.downs.Load() {
		d.sendSenderReport(sr.NTPTime, sr.RTPTime)
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
