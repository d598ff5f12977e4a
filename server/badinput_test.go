package server

import (
	"context"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// Bad input through the real stack: one malformed message, the three
// that only the real sfu refuses (SDP, state, candidate), and the
// configured size limit. Every other malformed or misdirected message is
// in signal's TestDispatchRefusesBadMessages and
// TestReadLoopRefusesFramesAndLeavesOnClose; this test proves the session
// and the room go on after them.
func TestBadInputGetsAnErrorAndTheSessionGoesOn(t *testing.T) {
	cfg := testConfig()
	h := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()

	bystander, jb := h.joined(ctx, "main", "Bystander")
	c, jc := h.joined(ctx, "main", "Mallory")

	cases := []struct {
		name string
		send func() error
		code string
	}{
		{"not JSON", func() error { return c.SendRaw(websocket.TextMessage, []byte("{not json")) }, signal.CodeBadMessage},
		{"garbage SDP", func() error {
			return c.Send(signal.SDP{Type: signal.TypeOffer, PC: signal.PCPublish, SDP: "v=0\r\nthis is not sdp\r\n"})
		}, signal.CodeBadSDP},
		{"answer nobody asked for", func() error {
			return c.Send(signal.SDP{Type: signal.TypeAnswer, PC: signal.PCSubscribe, SDP: "v=0\r\n"})
		}, signal.CodeWrongState},
		{"bad candidate", func() error {
			return c.Send(signal.Candidate{Type: signal.TypeCandidate, PC: signal.PCPublish, Candidate: &signal.ICECandidate{Candidate: "candidate:garbage"}})
		}, signal.CodeBadCandidate},
		{"oversized message", func() error {
			big := `{"type":"join","room":"main","name":"` + strings.Repeat("x", int(cfg.Signaling.MaxMessageSize)) + `"}`
			return c.SendRaw(websocket.TextMessage, []byte(big))
		}, signal.CodeTooLarge},
	}
	for _, tc := range cases {
		from := len(c.Messages())
		if err := tc.send(); err != nil {
			t.Fatalf("%s: send: %v", tc.name, err)
		}
		m, _, err := c.WaitFor(ctx, from, func(m testclient.Message) bool { return m.Type == signal.TypeError || m.Type == "socket-closed" })
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var e signal.Error
		if err := m.Decode(&e); err != nil || e.Code != tc.code || e.Message == "" {
			t.Errorf("%s: got %s, want error code %s", tc.name, m.Raw, tc.code)
		}
	}

	// The session survived all of it: a real publish still works, and the
	// bystander saw nothing until Mallory's own leave.
	if _, err := c.Publish(ctx, jc.ParticipantID); err != nil {
		t.Fatalf("publish after bad input: %v", err)
	}
	if err := c.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
		t.Fatal(err)
	}
	left, i, err := bystander.WaitType(ctx, 0, signal.TypeParticipantLeft)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(left.Raw), `"reason":"leave"`) {
		t.Fatalf("bystander saw %s, want Mallory's own leave", left.Raw)
	}
	for _, m := range bystander.Messages()[:i] {
		if m.Type == signal.TypeError || m.Type == signal.TypeParticipantLeft {
			t.Fatalf("bystander %s was disturbed: %s", jb.ParticipantID, m.Raw)
		}
	}
}

func TestHugeMessageClosesOnlyThatSocket(t *testing.T) {
	cfg := testConfig()
	h := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	bystander, _ := h.joined(ctx, "main", "Bystander")
	c, jc := h.joined(ctx, "main", "Mallory")

	from := len(bystander.Messages())
	huge := make([]byte, 17*cfg.Signaling.MaxMessageSize)
	_ = c.SendRaw(websocket.TextMessage, huge) // the server may close before we finish
	left, _, err := bystander.WaitType(ctx, from, signal.TypeParticipantLeft)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(left.Raw), jc.ParticipantID) {
		t.Fatalf("bystander saw %s, want %s to leave", left.Raw, jc.ParticipantID)
	}
	if _, n := h.srv.Rooms().Counts(); n != 1 {
		t.Fatalf("%d participants, want the bystander only", n)
	}
}
