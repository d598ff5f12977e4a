package server

import (
	"context"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

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
		{"JSON but not an object", func() error { return c.SendRaw(websocket.TextMessage, []byte(`[1,2]`)) }, signal.CodeBadMessage},
		{"binary frame", func() error { return c.SendRaw(websocket.BinaryMessage, []byte{1, 2, 3}) }, signal.CodeBadMessage},
		{"missing type", func() error { return c.Send(map[string]string{"room": "x"}) }, signal.CodeBadMessage},
		{"unknown type", func() error { return c.Send(map[string]string{"type": "teleport"}) }, signal.CodeUnknownType},
		{"wrong field type", func() error { return c.SendRaw(websocket.TextMessage, []byte(`{"type":"join","room":7}`)) }, signal.CodeBadMessage},
		{"bad room name", func() error { return c.Send(signal.Join{Type: signal.TypeJoin, Room: "no spaces", Name: "M"}) }, signal.CodeBadMessage},
		{"garbage SDP", func() error {
			return c.Send(signal.SDP{Type: signal.TypeOffer, PC: signal.PCPublish, SDP: "v=0\r\nthis is not sdp\r\n"})
		}, signal.CodeBadSDP},
		{"offer on the subscribe pc", func() error {
			return c.Send(signal.SDP{Type: signal.TypeOffer, PC: signal.PCSubscribe, SDP: "v=0"})
		}, signal.CodeBadMessage},
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

func TestRequestsBeforeJoinAreRefused(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c := h.dial(ctx)
	for _, msg := range []any{
		signal.SDP{Type: signal.TypeOffer, PC: signal.PCPublish, SDP: "v=0"},
		signal.Leave{Type: signal.TypeLeave},
	} {
		from := len(c.Messages())
		if err := c.Send(msg); err != nil {
			t.Fatal(err)
		}
		m, _, err := c.WaitType(ctx, from, signal.TypeError)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(m.Raw), signal.CodeNotJoined) {
			t.Fatalf("got %s, want %s", m.Raw, signal.CodeNotJoined)
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

func TestRoomFull(t *testing.T) {
	cfg := testConfig()
	cfg.Room.MaxParticipants = 2
	h := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	h.joined(ctx, "small", "One")
	h.joined(ctx, "small", "Two")
	c := h.dial(ctx)
	if _, err := c.Join(ctx, "small", "Three"); err == nil || !strings.Contains(err.Error(), signal.CodeRoomFull) {
		t.Fatalf("third join: %v, want %s", err, signal.CodeRoomFull)
	}
	if _, err := c.Join(ctx, "other", "Three"); err != nil {
		t.Fatalf("join another room after room-full: %v", err)
	}
}
