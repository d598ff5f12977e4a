package sfu

import (
	"context"
	"testing"
	"time"
)

// ntpToTime converts a 64-bit NTP timestamp to wall-clock time.
func ntpToTime(ntp uint64) time.Time {
	const ntpToUnix = 2208988800
	secs := int64(ntp>>32) - ntpToUnix
	frac := int64(ntp & 0xFFFFFFFF)
	return time.Unix(secs, frac*int64(time.Second)>>32)
}

// The subscriber gets sender reports for its own SSRC carrying the
// publisher's NTP↔RTP mapping unchanged, which matches the timestamps it
// receives, and counts of what the server sent it; the publisher gets
// receiver reports about its stream.
func TestSenderReportsCarryPublishersMappingAndReceiverReportsFlowBack(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	l := newLab(t, 0)
	pub := l.publish(0, 20*time.Millisecond)
	track := pub.waitTrack(ctx, t)
	sub := l.subscribeTo(ctx, track, 0)
	await(ctx, t, sub.gotSR, "a sender report at the subscriber")

	sub.srMu.Lock()
	got := *sub.srs[0]
	sub.srMu.Unlock()
	if got.SSRC != sub.ssrc.Load() {
		t.Errorf("report for SSRC %d, want the subscriber's stream %d", got.SSRC, sub.ssrc.Load())
	}
	matched := false
	for _, sent := range pub.tap.senderReports() {
		if sent.SSRC == track.ssrc && sent.NTPTime == got.NTPTime && sent.RTPTime == got.RTPTime {
			matched = true
		}
	}
	if !matched {
		t.Errorf("report NTP %x / RTP %d is not a mapping the publisher sent", got.NTPTime, got.RTPTime)
	}
	// Sane: the mapping's wall clock is recent, and its RTP time is what
	// the publisher's media clock read at that moment (same host clock).
	at := ntpToTime(got.NTPTime)
	if age := time.Since(at); age < 0 || age > 10*time.Second {
		t.Errorf("report NTP time %v is %v from now", at, age)
	}
	if want := labTimestamp(pub.start, at); int32(got.RTPTime-want) > 9000 || int32(want-got.RTPTime) > 9000 {
		t.Errorf("report maps %v to RTP %d; the publisher's clock read %d then (more than 100 ms apart)", at, got.RTPTime, want)
	}
	if got.PacketCount == 0 || got.OctetCount < got.PacketCount {
		t.Errorf("report counts %d packets, %d octets: want what was sent", got.PacketCount, got.OctetCount)
	}

	// Receiver reports go the other way, about the publisher's stream.
	await(ctx, t, pub.tap.gotRR, "a receiver report at the publisher")
	pub.tap.mu.Lock()
	rr := pub.tap.rrIn
	pub.tap.mu.Unlock()
	if rr.Reports[0].SSRC != track.ssrc {
		t.Errorf("receiver report about SSRC %d, want the publisher's %d", rr.Reports[0].SSRC, track.ssrc)
	}
	t.Logf("subscriber SR: SSRC %d NTP %v RTP %d packets %d octets %d; reports sent by the server so far: %d",
		got.SSRC, at.Format(time.RFC3339Nano), got.RTPTime, got.PacketCount, got.OctetCount, l.engine.Stats().SenderReports)
}
