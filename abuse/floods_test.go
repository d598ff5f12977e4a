package abuse

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/signal"
)

// A participant toggling mute as fast as it can reaches the others at
// limits.message_rate, not at its own pace; the rest is refused with
// rate-limited.
func TestMuteFloodIsRateLimited(t *testing.T) {
	h := start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main")
	attacker := h.joined(ctx, "main", "attacker")
	track := publishing(ctx, t, attacker, "attacker")
	const toggles = 3000
	fromCtl, fromAtt := len(ctl.sub.Messages()), len(attacker.Messages())
	var elapsed time.Duration
	ctl.attack("mute flood", func() {
		start := time.Now()
		for i := range toggles {
			muted := i%2 == 0
			if err := attacker.Send(signal.Mute{Type: signal.TypeMute, Track: track, Muted: &muted}); err != nil {
				t.Fatal(err)
			}
		}
		flush(ctx, t, attacker)
		elapsed = time.Since(start)
		flush(ctx, t, ctl.pub) // the control's own messages, relayed after the flood's
		flush(ctx, t, ctl.sub)
		attacker.Close() // its leave is part of what must return to baseline
	})
	relayed := countType(ctl.sub, fromCtl, signal.TypeTrackMuted)
	limited := errorCodes(attacker, fromAtt)[signal.CodeRateLimited]
	replies := 20 + int(elapsed.Seconds()*10) + 10 // the refusals' own limit (signal.replyRate)
	allowed := h.cfg.Limits.MessageBurst + int(elapsed.Seconds()*float64(h.cfg.Limits.MessageRate)) + h.cfg.Limits.MessageRate
	t.Logf("mute flood: %d toggles in %s, %d relayed to the control, %d refused rate-limited", toggles, elapsed, relayed, limited)
	if relayed > allowed {
		t.Errorf("control heard %d track-muted, limit allows %d", relayed, allowed)
	}
	if limited == 0 || limited > replies {
		t.Errorf("%d rate-limited errors, want between 1 and %d", limited, replies)
	}
}

// Subscription and offer floods are refused past their rate the same way.
func TestSubscriptionAndOfferFloodsAreRateLimited(t *testing.T) {
	h := start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main")
	attacker := h.joined(ctx, "main", "attacker")
	fromAtt := len(attacker.Messages())
	const n = 1000
	ctl.attack("subscription+offer flood", func() {
		for i := range n {
			if err := attacker.Send(signal.Subscription{Type: signal.TypeSubscription, Track: "t_none", Width: i, Height: i}); err != nil {
				t.Fatal(err)
			}
			if err := attacker.Send(signal.SDP{Type: signal.TypeOffer, PC: signal.PCPublish, SDP: "v=0\r\n"}); err != nil {
				t.Fatal(err)
			}
		}
		flush(ctx, t, attacker)
		attacker.Close() // its leave is part of what must return to baseline
	})
	codes := errorCodes(attacker, fromAtt)
	t.Logf("subscription+offer flood: replies by code %v", codes)
	// Handled ones fail on their own (unknown track, bad SDP): at most a
	// burst of each, and the refusals' replies are limited too.
	if handled := codes[signal.CodeUnknownTrack] + codes[signal.CodeBadSDP] + codes[signal.CodeWrongState]; handled > 2*(h.cfg.Limits.MessageBurst+h.cfg.Limits.MessageRate) {
		t.Errorf("%d of %d flood messages were handled, limit allows about %d", handled, 2*n, 2*h.cfg.Limits.MessageBurst)
	}
	if codes[signal.CodeRateLimited] == 0 {
		t.Error("no rate-limited reply")
	}
}

// Joins and room switches on one socket (each costs two peer connections
// and two session-log records) are refused past limits.join_rate.
func TestJoinFloodIsRateLimited(t *testing.T) {
	h := start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main")
	attacker := h.dial(ctx)
	fromAtt := len(attacker.Messages())
	const n = 200
	ctl.attack("join/switch flood", func() {
		for i := range n {
			if err := attacker.Send(signal.Join{Type: signal.TypeJoin, Room: fmt.Sprintf("r%d", i%7), Name: "attacker"}); err != nil {
				t.Fatal(err)
			}
		}
		flush(ctx, t, attacker)
		_ = attacker.CloseSocket()
	})
	joined := countType(attacker, fromAtt, signal.TypeJoined)
	t.Logf("join flood: %d of %d joins admitted", joined, n)
	if joined > h.cfg.Limits.JoinBurst+2 {
		t.Errorf("%d joins admitted, limit allows about %d", joined, h.cfg.Limits.JoinBurst)
	}
}
