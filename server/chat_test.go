package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/signal"
)

// waitChat waits on c for a chat relay with text.
func waitChat(ctx context.Context, t *testing.T, c *testclient.Client, from int, text string) (signal.ChatRelay, int) {
	t.Helper()
	var relay signal.ChatRelay
	m, i, err := c.WaitFor(ctx, from, func(m testclient.Message) bool {
		return m.Type == signal.TypeChat && m.Decode(&relay) == nil && relay.Text == text
	})
	if err != nil {
		t.Fatalf("chat %.20q did not arrive: %v", text, err)
	}
	_ = m.Decode(&relay)
	return relay, i
}

// TestChatReachesTheRoomWithinLimits: chat reaches everyone in the room
// (sender included) with sender, name and time, and nobody elsewhere;
// empty, oversized and too-fast messages get errors; the sender's session
// goes on and it can chat again once the bucket refills.
func TestChatReachesTheRoomWithinLimits(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	a, ja := h.joined(ctx, "main", "Ann")
	b, jb := h.joined(ctx, "main", "Bob")
	other, _ := h.joined(ctx, "elsewhere", "Oz")

	before := time.Now().UTC()
	if err := a.Send(signal.Chat{Type: signal.TypeChat, Text: "hello <b>Bob</b>"}); err != nil {
		t.Fatal(err)
	}
	relay, _ := waitChat(ctx, t, b, 0, "hello <b>Bob</b>")
	if relay.From != ja.ParticipantID || relay.Name != "Ann" || relay.Time.Before(before.Add(-time.Second)) || relay.Time.After(time.Now().Add(time.Second)) {
		t.Fatalf("Bob got %+v, want from %s named Ann at about now", relay, ja.ParticipantID)
	}
	waitChat(ctx, t, a, 0, "hello <b>Bob</b>")

	// Exactly the limit, in multi-byte characters, passes; one more does not.
	atLimit := strings.Repeat("é", room.MaxChatLength)
	if err := a.Send(signal.Chat{Type: signal.TypeChat, Text: atLimit}); err != nil {
		t.Fatal(err)
	}
	waitChat(ctx, t, b, 0, atLimit)
	expectError(ctx, t, a, signal.Chat{Type: signal.TypeChat, Text: atLimit + "x"}, signal.CodeChatTooLong)
	expectError(ctx, t, a, signal.Chat{Type: signal.TypeChat, Text: "  \n "}, signal.CodeBadMessage)
	expectError(ctx, t, a, map[string]any{"type": "chat", "text": 42}, signal.CodeBadMessage)

	// A burst: the bucket (2 of 10 tokens already spent, refilling at 5 a
	// second) lets about 8 through, the rest get rate-limited.
	const burst = 30
	fromA := len(a.Messages())
	for i := range burst {
		if err := a.Send(signal.Chat{Type: signal.TypeChat, Text: strings.Repeat("!", i+1)}); err != nil {
			t.Fatal(err)
		}
	}
	// Replies come in order: wait for the answer to the last one.
	last := strings.Repeat("!", burst)
	limited := 0
	_, _, err := a.WaitFor(ctx, fromA, func(m testclient.Message) bool {
		var relay signal.ChatRelay
		var e signal.Error
		switch {
		case m.Type == signal.TypeError && m.Decode(&e) == nil && e.Code == signal.CodeRateLimited:
			limited++
		case m.Type == signal.TypeError:
			t.Errorf("unexpected error %s", m.Raw)
		case m.Type == signal.TypeChat && m.Decode(&relay) == nil && relay.Text == last:
			return true
		}
		return limited+countAfter(a, fromA, ja.ParticipantID) == burst
	})
	if err != nil {
		t.Fatal(err)
	}
	relayed := burst - limited
	if limited == 0 || relayed > room.ChatBurst {
		t.Fatalf("%d of a burst of %d relayed, %d rate-limited; want at most %d relayed", relayed, burst, limited, room.ChatBurst)
	}
	t.Logf("burst of %d: %d relayed, %d rate-limited", burst, relayed, limited)

	// Ann's session goes on: Bob's chat reaches her, and hers gets through
	// again once her bucket has refilled.
	if err := b.Send(signal.Chat{Type: signal.TypeChat, Text: "still there?"}); err != nil {
		t.Fatal(err)
	}
	waitChat(ctx, t, a, 0, "still there?")
	retry := time.NewTicker(time.Second / room.ChatRate)
	defer retry.Stop()
	for {
		from := len(a.Messages())
		if err := a.Send(signal.Chat{Type: signal.TypeChat, Text: "yes"}); err != nil {
			t.Fatal(err)
		}
		m, _, err := a.WaitFor(ctx, from, func(m testclient.Message) bool { return m.Type == signal.TypeChat || m.Type == signal.TypeError })
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == signal.TypeChat {
			break
		}
		<-retry.C
	}
	waitChat(ctx, t, b, 0, "yes")

	if n := countAfter(other, 0, ja.ParticipantID) + countAfter(other, 0, jb.ParticipantID); n != 0 {
		t.Fatalf("a participant of another room received %d chat messages", n)
	}
}

// countAfter counts chat relays from sender in c's messages from index from.
func countAfter(c *testclient.Client, from int, sender string) int {
	n := 0
	for _, m := range c.Messages()[from:] {
		var relay signal.ChatRelay
		if m.Type == signal.TypeChat && m.Decode(&relay) == nil && relay.From == sender {
			n++
		}
	}
	return n
}
