package sfu

import (
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// retransmitSource finds the cached packet behind a sequence number a
// subscriber NACKed. Plain forwarding keeps the publisher's numbers, so
// the track's own history answers directly (historySource). A forwarder
// that rewrites sequence numbers and timestamps per subscriber (simulcast
// layer switching) supplies its own, mapping out back to the layer and
// source number it was made from; the fix it returns (timestamp offset,
// VP8 descriptor offsets) makes the copy match what was first sent.
type retransmitSource interface {
	// lookup returns the packet holding a reference the caller releases,
	// or nil when it is not kept (never received, or too old).
	lookup(out uint16) (p *packet, fix rewriteFix)
}

// historySource is the identity mapping onto one track's history.
type historySource struct{ h *packetHistory }

func (s historySource) lookup(out uint16) (*packet, rewriteFix) { return s.h.get(out), rewriteFix{} }

// paddingSource is a retransmitSource that also sent padding of its own
// (probes, probe.go): a NACKed padding seq is answered with padding again.
// Left unanswered, the receiver counted it lost for good (its
// packetsLost) and went on NACKing it.
type paddingSource interface {
	padded(out uint16) (ts uint32, ok bool)
}

// minResendInterval stops a packet being resent again for a repeated NACK
// while the first copy may still be on its way. Receivers repeat a NACK
// after about one round trip, so this only catches back-to-back repeats.
const minResendInterval = 20 * time.Millisecond

// resendLogLength is how many recent resends are remembered for that.
const resendLogLength = 256

// Resending twice: on a path that loses packets at random, a resend is
// lost as often as the original, and its repair takes a second round
// trip. At 40 ms each way that is about 200 ms without the frame, which
// Chromium counts as a freeze (issue 15's lab: 2-5 freezes a minute at
// 2 % loss, each one a lost resend; every NACK was answered). A second
// copy right behind the first makes that a loss of both, 1 in 2500 at
// 2 %, for 2 % more traffic. The allocator turns it on while the
// subscriber's loss lies in [resendTwiceLoss, probeLossStop): above
// that, loss is more likely congestion, which extra copies would feed.
// Back-to-back copies share a burst loss; they help against random loss
// only, which is what is left once the layer fits the path.
const resendTwiceLoss = 0.005

// nackResponder answers one subscriber's NACKs from the cache, on the
// original SSRC (RFC 4585 generic NACK; see docs/protocol.md for why not
// RTX). It runs on the subscriber's RTCP goroutine only, so its state
// needs no lock, and it writes beside the fan-out's writes: pion's SRTP
// writer serialises the two.
type nackResponder struct {
	source retransmitSource
	stats  *counters
	sent   *sendCounters // the down track's, for its sender reports

	// twice: send each resend twice (see resendTwiceLoss); set by the
	// allocator, read by the RTCP goroutine.
	twice atomic.Bool

	header  rtp.Header          // scratch for rewriting a cached packet
	payload [maxPacketSize]byte // scratch for its VP8 descriptor
	resent  [resendLogLength]struct {
		seq uint16
		at  time.Time
	}
}

// handle resends every packet nack asks for that is still cached.
func (r *nackResponder) handle(nack *rtcp.TransportLayerNack, b *binding) {
	if r.source == nil || b == nil {
		return
	}
	now := time.Now()
	for _, pair := range nack.Nacks {
		for _, seq := range pair.PacketList() {
			r.stats.nackedPackets.Add(1)
			r.resend(seq, b, now)
		}
	}
}

func (r *nackResponder) resend(seq uint16, b *binding, now time.Time) {
	last := &r.resent[seq%resendLogLength]
	if last.seq == seq && now.Sub(last.at) < minResendInterval {
		return
	}
	p, fix := r.source.lookup(seq)
	if p == nil && r.resendPadding(seq, b) {
		last.seq, last.at = seq, now
		return
	}
	if p == nil {
		// Lost before it reached us, or too old. An uplink loss is being
		// NACKed to the publisher already (pion's generator on the publish
		// PC); its repair is fanned out to every subscriber when it arrives.
		r.stats.retransmitMisses.Add(1)
		return
	}
	defer p.release()
	payload, ok := rewriteForSubscriber(&r.header, p.data(), b)
	if !ok {
		return
	}
	r.header.SequenceNumber = seq
	r.header.Timestamp += fix.tsOffset
	if !fix.vp8.zero() {
		payload, _, _ = mungeVP8(payload, fix.vp8, &r.payload)
	}
	copies := 1
	if r.twice.Load() {
		copies = 2
	}
	for range copies {
		// WriteRTP leaves the header as it was given: the copy is the same.
		if _, err := b.writer.WriteRTP(&r.header, payload); err != nil {
			return
		}
		last.seq, last.at = seq, now
		if r.sent != nil {
			r.sent.add(len(payload))
		}
		r.stats.packetsRetransmitted.Add(1)
	}
}

// resendPadding answers a NACK for one of the source's padding packets
// with the same padding, and reports whether seq was one.
func (r *nackResponder) resendPadding(seq uint16, b *binding) bool {
	ps, ok := r.source.(paddingSource)
	if !ok {
		return false
	}
	ts, ok := ps.padded(seq)
	if !ok {
		return false
	}
	r.header = rtp.Header{Version: 2, Padding: true, SequenceNumber: seq, Timestamp: ts, SSRC: b.ssrc, PayloadType: b.payloadType,
		Extensions: r.header.Extensions[:0]}
	if _, err := b.writer.WriteRTP(&r.header, paddingPayload[:]); err != nil {
		return true
	}
	// Probe padding all the same: its rate stands beside the media's.
	r.stats.probePackets.Add(1)
	return true
}

// rewriteForSubscriber parses raw into h and rewrites what differs per
// subscriber: SSRC and payload type. It drops padding and the publisher's
// header extensions, whose ids were negotiated on another peer connection.
// It returns the payload to send with h.
func rewriteForSubscriber(h *rtp.Header, raw []byte, b *binding) ([]byte, bool) {
	n, err := h.Unmarshal(raw)
	if err != nil {
		return nil, false
	}
	end := len(raw)
	if h.Padding {
		pad := int(raw[end-1])
		if pad == 0 || n+pad > end {
			return nil, false
		}
		end -= pad
		h.Padding = false
		h.PaddingSize = 0
	}
	h.SSRC = b.ssrc
	h.PayloadType = b.payloadType
	h.Extension = false
	h.Extensions = h.Extensions[:0]
	return raw[n:end], true
}
