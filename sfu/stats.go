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
}

// Stats is a snapshot of the engine's media totals since start.
type Stats struct {
	PacketsReceived  uint64 // RTP packets read from publishers
	PacketsForwarded uint64 // RTP packets written to subscribers
	BytesForwarded   uint64 // RTP payload bytes written to subscribers
	PacketsDropped   uint64 // packets dropped because a subscriber fell behind
	TracksPublished  int64  // tracks currently being received
}

func (c *counters) snapshot() Stats {
	return Stats{
		PacketsReceived:  c.packetsReceived.Load(),
		PacketsForwarded: c.packetsForwarded.Load(),
		BytesForwarded:   c.bytesForwarded.Load(),
		PacketsDropped:   c.packetsDropped.Load(),
		TracksPublished:  c.tracksPublished.Load(),
	}
}
