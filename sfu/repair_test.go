package sfu

import (
	"context"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v3"
)

func await(ctx context.Context, t testing.TB, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-ctx.Done():
		t.Fatalf("timed out waiting for %s", what)
	}
}

// With 5% random loss of RTP and RTCP on the publisher's leg and on each
// subscriber's, every subscriber ends up with every packet: downlink
// losses are resent from the server's cache, uplink losses are NACKed to
// the publisher once for everyone. The publisher sees only the uplink's
// share of NACKs, not every subscriber's.
func TestLossIsRepairedAndPublisherSeesFewNACKs(t *testing.T) {
	const (
		loss        = 0.05
		subscribers = 3
		packets     = 1000 // 2 s of a 4 Mbit/s video stream
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	l := newLab(t, 0)
	pub := l.publish(loss, 2*time.Millisecond) // 4 Mbit/s
	track := pub.waitTrack(ctx, t)

	subs := make([]*labSubscriber, subscribers)
	for i := range subs {
		subs[i] = l.subscribeTo(ctx, track, loss)
	}

	// Count only from here: a few packets ahead of what is being sent.
	from := uint16(pub.next.Load() + 10)
	for _, s := range subs {
		s.log.window(from, packets)
	}
	before := l.engine.Stats()
	pubNACKsBefore := pub.tap.nacksIn.Load()
	subNACKsBefore := make([]uint64, subscribers)
	for i, s := range subs {
		subNACKsBefore[i] = s.tap.nacksOut.Load()
	}
	l.lossOn.Store(true)
	for i, s := range subs {
		select {
		case <-s.log.complete:
		case <-ctx.Done():
			t.Fatalf("subscriber %d: %d of %d packets; missing %v", i, s.log.received(), packets, s.log.missing())
		}
	}
	l.lossOn.Store(false)

	after := l.engine.Stats()
	pubNACKs := pub.tap.nacksIn.Load() - pubNACKsBefore
	var subNACKs uint64
	l.mu.Lock()
	dropped := map[string]int{}
	for k, v := range l.dropped {
		dropped[k] = v
	}
	l.mu.Unlock()
	for i, s := range subs {
		n := s.tap.nacksOut.Load() - subNACKsBefore[i]
		subNACKs += n
		t.Logf("subscriber %d: %d/%d packets (%.1f%%), %d media packets dropped on its leg, %d NACKed seqs sent",
			i, s.log.received(), packets, 100*float64(s.log.received())/packets, dropped[s.ip], n)
	}
	t.Logf("publisher leg: %d media packets dropped; publisher received %d NACKed seqs; subscribers sent %d", dropped[pub.ip], pubNACKs, subNACKs)
	t.Logf("server: %d NACKed seqs, %d resent from cache, %d not in cache",
		after.NACKedPackets-before.NACKedPackets, after.PacketsRetransmitted-before.PacketsRetransmitted, after.RetransmitMisses-before.RetransmitMisses)

	if after.PacketsRetransmitted == before.PacketsRetransmitted {
		t.Error("the server resent nothing from its cache")
	}
	if dropped[pub.ip] == 0 {
		t.Error("no loss was injected on the publisher's leg")
	}
	// Uplink losses are asked for once for all subscribers; downlink ones
	// never reach the publisher. Forwarding NACKs would show the publisher
	// at least as many as the subscribers sent.
	if pubNACKs*2 > subNACKs {
		t.Errorf("publisher received %d NACKed seqs, subscribers sent %d: want far fewer at the publisher", pubNACKs, subNACKs)
	}
}

// Fifty subscribers joining at once, each sending a PLI when its track
// starts as a browser does, cost the publisher a few PLIs, and each of
// them gets a keyframe.
func TestJoinStormCostsPublisherFewPLIs(t *testing.T) {
	const subscribers = 50
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	l := newLab(t, 0)
	// 50 packets/s: fifty subscribers of a heavier stream would load the
	// machine, not the keyframe logic.
	pub := l.publish(0, 20*time.Millisecond)
	track := pub.waitTrack(ctx, t)

	subs := make([]*labSubscriber, subscribers)
	for i := range subs {
		subs[i] = l.subscribe(0, true)
	}
	start := time.Now()
	errs := make(chan error, subscribers)
	for _, s := range subs {
		go func() { errs <- s.server.AddTrack(track) }()
	}
	for range subs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range subs {
		select {
		case <-s.log.keyframe:
		case <-ctx.Done():
			var states []string
			for _, s := range subs {
				states = append(states, s.pc.ConnectionState().String())
			}
			t.Fatalf("subscriber %d got no keyframe; subscriber connection states: %v", i, states)
		}
	}
	elapsed := time.Since(start)
	plis := pub.tap.plisIn.Load()
	// Requests go out at least keyframeInterval apart, so however many
	// subscribers ask, a span of elapsed holds at most this many (the
	// last one may be the trailing request just after it).
	bound := uint64(elapsed/keyframeInterval) + 2
	t.Logf("%d subscribers joined in %v: publisher received %d PLIs (bound %d; subscribers sent %d)",
		subscribers, elapsed.Round(time.Millisecond), plis, bound, subscribers)
	if plis == 0 || plis > bound {
		t.Errorf("publisher received %d PLIs, want 1..%d", plis, bound)
	}
}

// An RTCP BYE for the track's SSRC ends the track at once, while the
// publisher's peer connection stays up.
func TestByeEndsTrack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l := newLab(t, 0)
	pub := l.publish(0, 20*time.Millisecond)
	track := pub.waitTrack(ctx, t)

	if err := pub.pc.WriteRTCP([]rtcp.Packet{&rtcp.Goodbye{Sources: []uint32{track.ssrc}, Reason: "stop"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case ended := <-pub.ended:
		if ended != track {
			t.Fatalf("ended %s, want %s", ended.ID(), track.ID())
		}
	case <-ctx.Done():
		t.Fatal("the track did not end after BYE")
	}
	if s := pub.pc.ConnectionState(); s != webrtc.PeerConnectionStateConnected {
		t.Errorf("publisher connection is %s: the BYE, not a closed connection, must end the track", s)
	}
}

// A subscriber that never asks still gets a keyframe soon after its first
// packet: the server asks once media actually flows to it, not when pion
// binds the track (before the connection is up, so that keyframe would be
// lost).
func TestNewSubscriberGetsKeyframeWithoutAsking(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// A real network's delay: the handshakes take several round trips,
	// longer than a PLI and the keyframe's way back.
	l := newLab(t, 25*time.Millisecond)
	pub := l.publish(0, 20*time.Millisecond)
	track := pub.waitTrack(ctx, t)
	sub := l.subscribeTo(ctx, track, 0)
	first := time.Now()
	await(ctx, t, sub.log.keyframe, "a keyframe at the subscriber")
	t.Logf("keyframe %v after the first packet", time.Since(first).Round(time.Millisecond))
}
