// Package sfu is Switchyard's media core: peer connections, receiving
// published tracks, fanning their RTP out to subscribers, and relaying
// keyframe requests. It knows nothing of rooms or WebSockets; its owner
// learns what happens through the callbacks it passes in (package room
// wraps them in its media seam, room/media.go).
//
// # The packet path
//
// One goroutine per published stream reads and, over UDP, writes to the
// subscribers itself: a packet wakes no goroutine per subscriber. Between
// reading and writing a packet is a pooled, refcounted buffer shared by
// reference, never copied:
//
//	publisher.go  NewPublisher: pion OnTrack → newTrack (track.go), or one
//	              Track per simulcast layer group (simulcast.go)
//	track.go      Track.readLoop → readPackets: getPacket (packet.go),
//	              remote.Read, Track.forwardable (trackstate.go: mute,
//	              keyframe detection), noteLayerPacket (simulcast bitrates)
//	track.go      Track.fanOut: one ref per subscriber plus the NACK
//	              history (history.go); load the immutable subscriber
//	              slice (atomic.Pointer, copy-on-write in addDownTrack);
//	              beyond inlineFanOut subscribers, fanPool.share hands
//	              fixed parts of it to the engine's helpers (fanpool.go,
//	              one per core beyond the first; a helper a queue behind
//	              drops for its part)
//	track.go      Track.deliverAll → DownTrack.deliver (downtrack.go):
//	              written at once unless the subscriber connection is
//	              queued (connwriter.go: an ICE-TCP pair, or slowWrite
//	              met), its ring holds packets, or another read loop is
//	              writing; else packetRing.push (ring.go) and
//	              connWriter.schedule. A full ring drops for that
//	              subscriber only (packetsDropped)
//	connwriter.go connWriter.loop, one per subscriber connection:
//	              DownTrack.drain writes what its rings hold
//	downtrack.go  DownTrack.writeAt, under the down track's write lock:
//	              rewriteForSubscriber (retransmit.go: SSRC, payload type,
//	              extensions), layerSelector.forward (selector.go,
//	              rewriter.go: the simulcast layer's seq/timestamp),
//	              WriteRTP, padding probes (probe.go); the first packet
//	              delivered asks for a keyframe (a simulcast layer
//	              waits until the track is bound and the connection up,
//	              then asks: deliverable.go)
//
// RTCP comes back the other way: DownTrack.readRTCP turns a subscriber's
// PLI/FIR into requestKeyframe (selector.go → keyframe.go, rate-limited
// per track) and answers its NACKs from the history (retransmit.go);
// reports.go reads the publisher's RTCP (sender reports, BYE); bwe.go, allocator.go
// and layerfeedback.go pick each subscriber's simulcast layer from the
// send-side estimate (interceptors.go) and the size it shows the video at.
//
// Below WriteRTP the packet is pion's until it reaches the socket:
//
//	chainwriter.go chainWriter.WriteRTP: into pion's interceptor chain
//	              (TWCC stamp, congestion controller, SRTP) with pooled
//	              attributes, no allocation of ours
//	egress.go     egressConn.WriteTo, under the ICE UDP mux: queue the
//	              packet; the writer that finds the socket idle sends the
//	              queue with sendmmsg, up to 32 per call
//
// # The leave path
//
// sfu never decides that someone left; it reports and obeys:
//
//	peer.go        OnConnectionStateChange failed/closed → PeerEvents.Failed,
//	               at most once and never after Close (room turns it into
//	               pc-failed or pc-closed)
//	track.go       the publisher's stream ends (or its RTCP BYE arrives,
//	               reports.go) → readLoop's deferred
//	               PublisherEvents.TrackEnded (room withdraws the track)
//	subscriber.go  Subscriber.RemoveTrack: drop the DownTrack from the
//	               Track's slice, stop its sender, close it (returning
//	               queued packets to the pool), renegotiate
//	peer.go        Close: idempotent; ends every read and write loop of
//	               the connection, reporting nothing
package sfu
