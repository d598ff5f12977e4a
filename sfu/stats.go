package sfu

import "sync/atomic"

// counters are engine-wide totals, updated per packet with single atomic
// adds; metrics read them without stopping the media path.
type counters struct {
	packetsForwarded atomic.Uint64
	bytesForwarded   atomic.Uint64
	packetsDropped   atomic.Uint64
	packetsReceived  atomic.Uint64
	tracksPublished  atomic.Int64

	nackedPackets        atomic.Uint64
	packetsRetransmitted atomic.Uint64
	retransmitMisses     atomic.Uint64
	keyframeRequests     atomic.Uint64
	senderReports        atomic.Uint64

	probes            atomic.Uint64
	probePackets      atomic.Uint64
	layerSwitchesUp   atomic.Uint64
	layerSwitchesDown atomic.Uint64
	// layerViewers counts simulcast subscriptions by the layer forwarded
	// (index layer+1; 0: paused after having had one). layerView keeps it.
	layerViewers [maxLayers + 1]atomic.Int64
}

// Stats is a snapshot of the engine's media totals since start.
type Stats struct {
	PacketsReceived  uint64 // RTP packets read from publishers
	PacketsForwarded uint64 // RTP packets written to subscribers
	BytesForwarded   uint64 // RTP payload bytes written to subscribers
	PacketsDropped   uint64 // packets dropped because a subscriber fell behind
	TracksPublished  int64  // tracks currently being received

	NACKedPackets        uint64 // packets subscribers asked to be resent
	PacketsRetransmitted uint64 // of those, resent from the server's cache
	RetransmitMisses     uint64 // of those, not in the cache (uplink loss or too old)
	KeyframeRequests     uint64 // PLIs sent to publishers
	SenderReports        uint64 // RTCP sender reports sent to subscribers

	Probes            uint64 // times a subscriber started probing for a higher layer
	ProbePackets      uint64 // padding-only packets sent to probe subscribers' bandwidth
	LayerSwitchesUp   uint64 // simulcast layer switches to a higher layer, at the keyframe
	LayerSwitchesDown uint64 // simulcast layer switches to a lower layer, at the keyframe
	// SubscriptionsByLayer counts simulcast subscriptions by the layer
	// being forwarded, lowest first; SubscriptionsPaused those paused
	// because the estimate cannot carry even the lowest.
	SubscriptionsByLayer [maxLayers]int64
	SubscriptionsPaused  int64

	// The ICE UDP mux's batched sends (egress.go): packets handed to the
	// kernel, sendmmsg calls that carried them, writes that waited for
	// room in the send queue, packets the kernel refused.
	EgressPackets uint64
	EgressBatches uint64
	EgressWaits   uint64
	EgressFailed  uint64
}

// LayerNames are the simulcast layers' names (rids), lowest first, as
// Stats.SubscriptionsByLayer lists them.
func LayerNames() []string { return simulcastRIDs[:] }

func (c *counters) snapshot() Stats {
	s := Stats{
		PacketsReceived:  c.packetsReceived.Load(),
		PacketsForwarded: c.packetsForwarded.Load(),
		BytesForwarded:   c.bytesForwarded.Load(),
		PacketsDropped:   c.packetsDropped.Load(),
		TracksPublished:  c.tracksPublished.Load(),

		NACKedPackets:        c.nackedPackets.Load(),
		PacketsRetransmitted: c.packetsRetransmitted.Load(),
		RetransmitMisses:     c.retransmitMisses.Load(),
		KeyframeRequests:     c.keyframeRequests.Load(),
		SenderReports:        c.senderReports.Load(),

		Probes:            c.probes.Load(),
		ProbePackets:      c.probePackets.Load(),
		LayerSwitchesUp:   c.layerSwitchesUp.Load(),
		LayerSwitchesDown: c.layerSwitchesDown.Load(),

		SubscriptionsPaused: c.layerViewers[0].Load(),
	}
	for i := range maxLayers {
		s.SubscriptionsByLayer[i] = c.layerViewers[i+1].Load()
	}
	return s
}
