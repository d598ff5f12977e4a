package sfu

import (
	"slices"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
)

// layerRTCPGate starts reading each simulcast layer's RTCP (sender
// reports, BYE; see Track.readRTCP) as soon as that is safe in pion
// v3.3.6. RTPReceiver.ReadSimulcast walks the receiver's per-rid entries,
// in the offer's rid order, up to the one asked for without a lock, while
// pion fills in the entry of a rid that starts later under its own lock
// (the same unsynchronised setup that makes us refuse RTX). So a layer's
// reader starts only once every rid listed before it has arrived: those
// entries never change again, and OnTrack's goroutine orders their setup
// before our read. A layer behind a rid that never arrives relays no
// sender reports; its media is unaffected.
//
// Guarded by layerGroups.mu.
type layerRTCPGate struct {
	arrived []string // rids whose OnTrack ran, known or not
	reading []string // rids whose reader runs
}

// startReaders starts the readers that have become safe.
func (g *layerRTCPGate) startReaders(t *Track, receiver *webrtc.RTPReceiver) {
	for _, remote := range receiver.Tracks() {
		rid := remote.RID()
		if !slices.Contains(g.arrived, rid) {
			return // this rid and every later one must wait
		}
		layer, known := layerIndex(rid)
		if !known || slices.Contains(g.reading, rid) {
			continue
		}
		g.reading = append(g.reading, rid)
		go t.readRTCP(layer, func() ([]rtcp.Packet, error) {
			pkts, _, err := receiver.ReadSimulcastRTCP(rid)
			return pkts, err
		})
	}
}
