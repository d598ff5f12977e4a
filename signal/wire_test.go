package signal

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/room"
)

// typesSeen collects the message types the tests here saw the server send.
var typesSeen = map[string]bool{}

// Every room event becomes its wire message with the documented fields.
func TestEveryServerMessage(t *testing.T) {
	s := testSession(t, &fakeRooms{}, Options{ReconnectGrace: 2 * time.Second})
	m := &roomClient{s: s}
	track := room.TrackInfo{ID: "t1", Kind: "audio", StreamID: "p1", Codec: "audio/opus", Muted: true}
	mid := "0"
	cases := []struct {
		name string
		call func()
		want map[string]any // fields that must be there, besides type
		typ  string
	}{
		{"joined", func() {
			m.Joined(room.JoinInfo{Room: "r", ParticipantID: "p1", LeaveSecret: "s",
				ICEServers: []webrtc.ICEServer{{URLs: []string{"turn:x"}, Username: "u", Credential: "c"}}})
		}, map[string]any{"room": "r", "participant_id": "p1", "leave_secret": "s", "ping_interval_ms": 1000.0,
			"ping_timeout_ms": 3000.0, "reconnect_grace_ms": 2000.0}, TypeJoined},
		{"participant-joined", func() { m.ParticipantJoined(room.ParticipantInfo{ID: "p2", Name: "bob"}) }, nil, TypeParticipantJoined},
		{"participant-left", func() { m.ParticipantLeft("p2", room.ReasonPingTimeout) },
			map[string]any{"participant_id": "p2", "reason": "ping-timeout"}, TypeParticipantLeft},
		{"track-published", func() { m.TrackPublished("p2", track) }, map[string]any{"participant_id": "p2"}, TypeTrackPublished},
		{"track-unpublished", func() { m.TrackUnpublished("p2", track) },
			map[string]any{"participant_id": "p2", "track_id": "t1", "kind": "audio"}, TypeTrackUnpublished},
		{"offer", func() { m.Offer("sdp-o") }, map[string]any{"pc": PCSubscribe, "sdp": "sdp-o"}, TypeOffer},
		{"answer", func() { m.Answer("sdp-a") }, map[string]any{"pc": PCPublish, "sdp": "sdp-a"}, TypeAnswer},
		{"candidate", func() { m.Candidate(room.PCSubscribe, &webrtc.ICECandidateInit{Candidate: "c", SDPMid: &mid}) },
			map[string]any{"pc": PCSubscribe}, TypeCandidate},
		{"end of candidates", func() { m.Candidate(room.PCPublish, nil) }, map[string]any{"pc": PCPublish, "candidate": nil}, TypeCandidate},
		{"published", func() { m.Published(track, "0") }, map[string]any{"mid": "0"}, TypePublished},
		{"track-muted", func() { m.TrackMuted("p1", track) },
			map[string]any{"participant_id": "p1", "track_id": "t1", "kind": "audio", "muted": true}, TypeTrackMuted},
		{"active-speakers", func() { m.ActiveSpeakers([]room.Speaker{{ParticipantID: "p1", Level: 0.5}}) }, nil, TypeActiveSpeakers},
		{"chat", func() { m.Chat(room.ChatMessage{From: "p1", Name: "ann", Text: "hi", Time: time.Unix(0, 0)}) },
			map[string]any{"from": "p1", "name": "ann", "text": "hi"}, TypeChat},
		{"ice-restart", func() { m.RestartICE(room.PCPublish) }, map[string]any{"pc": PCPublish}, TypeICERestart},
		{"left", func() { m.Left(room.ReasonLeave) }, map[string]any{"reason": "leave"}, TypeLeft},
	}
	for _, c := range cases {
		c.call()
		msgs := sent(t, s)
		if len(msgs) != 1 || msgs[0]["type"] != c.typ {
			t.Errorf("%s: sent %v, want one %s", c.name, msgs, c.typ)
			continue
		}
		typesSeen[c.typ] = true
		for k, v := range c.want {
			if got, ok := msgs[0][k]; !ok || got != v {
				t.Errorf("%s: %s = %v (present %v), want %v", c.name, k, got, ok, v)
			}
		}
	}
	if !m.ended.Load() {
		t.Fatal("left did not end the membership")
	}
}

// Left for a kick or shutdown is followed by the close frame that says so.
func TestLeftClosesTheSocketForKickAndShutdown(t *testing.T) {
	for reason, code := range map[room.Reason]float64{room.ReasonKicked: websocket.ClosePolicyViolation, room.ReasonServerShutdown: websocket.CloseGoingAway} {
		s := testSession(t, &fakeRooms{}, Options{})
		(&roomClient{s: s}).Left(reason)
		msgs := sent(t, s)
		if len(msgs) != 2 || msgs[0]["type"] != TypeLeft || msgs[1]["close"] != code {
			t.Errorf("left %s sent %v, want left then close %v", reason, msgs, code)
		}
	}
}

// Every session is told, including one whose upgrade raced the
// announcement (its client had seen the handshake complete) and one that
// connects later in the drain.
func TestDrainTellsEverySession(t *testing.T) {
	h := &Handler{sessions: map[*session]struct{}{}}
	a, b := testSession(t, &fakeRooms{}, Options{}), testSession(t, &fakeRooms{}, Options{})
	h.sessions[a], h.sessions[b] = struct{}{}, struct{}{}
	h.AnnounceDrain(time.Now().Add(time.Minute))
	late := testSession(t, &fakeRooms{}, Options{})
	h.register(late)
	for _, s := range []*session{a, b, late} {
		msgs := sent(t, s)
		if len(msgs) != 1 || msgs[0]["type"] != TypeServerDraining || msgs[0]["deadline_ms"].(float64) <= 0 {
			t.Fatalf("drain sent %v", msgs)
		}
	}
	typesSeen[TypeServerDraining] = true
}

// The read loop over a real (loopback, in-process) WebSocket: frames too
// large or not text are refused and the session goes on; when the socket
// closes, the participant leaves with socket-closed.
func TestReadLoopRefusesFramesAndLeavesOnClose(t *testing.T) {
	rooms := &fakeRooms{}
	ended := make(chan struct{})
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer close(ended)
		newSession(conn, rooms, Options{PingInterval: time.Minute, PingTimeout: time.Minute, MaxMessageSize: 128}, testLog()).run()
	}))
	defer srv.Close()
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	read := func() map[string]any {
		t.Helper()
		var m map[string]any
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if err := c.ReadJSON(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	if err := c.WriteMessage(websocket.TextMessage, []byte(`{"type":"chat","text":"`+strings.Repeat("x", 500)+`"}`)); err != nil {
		t.Fatal(err)
	}
	if m := read(); m["code"] != CodeTooLarge {
		t.Fatalf("oversized frame answered %v", m)
	}
	codesSeen[CodeTooLarge] = true
	if err := c.WriteMessage(websocket.BinaryMessage, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	if m := read(); m["code"] != CodeBadMessage {
		t.Fatalf("binary frame answered %v", m)
	}
	if err := c.WriteJSON(map[string]string{"type": "join", "room": "r", "name": "ann"}); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteJSON(map[string]string{"type": "chat", "text": "after"}); err != nil {
		t.Fatal(err)
	}
	_ = c.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not end after the client closed")
	}
	if len(rooms.members) != 1 {
		t.Fatalf("%d joins, want 1", len(rooms.members))
	}
	if got := rooms.members[0].calls; len(got) != 2 || got[0] != "chat after" || got[1] != "leave socket-closed" {
		t.Fatalf("participant calls %v, want the chat then leave socket-closed", got)
	}
}

// constants lists the package's exported constants whose names start
// with prefix, read from its source, so a new one cannot go untested.
func constants(t *testing.T, prefix string) map[string]string {
	t.Helper()
	files, _ := filepath.Glob("*.go")
	out := map[string]string{}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			vs, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, prefix) || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					out[id.Name], _ = strconv.Unquote(lit.Value)
				}
			}
			return true
		})
	}
	if len(out) == 0 {
		t.Fatalf("no %s constants found", prefix)
	}
	return out
}

// Every error code and every message type the package defines is
// exercised by a test above: the tables run again here, so this holds
// under -run too.
func TestEveryErrorCodeAndMessageTypeIsTested(t *testing.T) {
	for name, f := range map[string]func(*testing.T){
		"bad messages": TestDispatchRefusesBadMessages, "calls": TestDispatchCallsTheParticipant, "layer errors": TestDispatchMapsEveryLayersErrors,
		"join refusals": TestDispatchJoinRefusals, "tokens": TestErrorCodeOfTokenErrors,
		"rate": TestDispatchRateLimitsPerType, "read loop": TestReadLoopRefusesFramesAndLeavesOnClose,
		"server messages": TestEveryServerMessage, "drain": TestDrainTellsEverySession,
	} {
		t.Run(name, f)
	}
	for name, code := range constants(t, "Code") {
		if !codesSeen[code] {
			t.Errorf("no test sees error code %s (%q)", name, code)
		}
	}
	for name, typ := range constants(t, "Type") {
		if !typesSeen[typ] {
			t.Errorf("no test sees message type %s (%q)", name, typ)
		}
	}
}

// The wire names of a participant and its tracks are signal's (wire.go),
// whatever room calls its fields: every field arrives under its
// documented name, with its value.
func TestParticipantAndTrackWireNames(t *testing.T) {
	s := testSession(t, &fakeRooms{}, Options{})
	m := &roomClient{s: s}
	at := time.Date(2026, 12, 2, 1, 0, 0, 0, time.UTC)
	m.ParticipantJoined(room.ParticipantInfo{ID: "p2", Identity: "u2", Name: "bob", JoinedAt: at, ResumedFrom: "p1",
		Tracks: []room.TrackInfo{{ID: "t1", Kind: "video", StreamID: "p2", Codec: "video/VP8", Muted: true}}})
	msgs := sent(t, s)
	p, _ := msgs[0]["participant"].(map[string]any)
	want := map[string]any{"id": "p2", "identity": "u2", "name": "bob", "joined_at": "2026-12-02T01:00:00Z", "resumed_from": "p1"}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("participant %s = %v, want %v", k, p[k], v)
		}
	}
	tracks, _ := p["tracks"].([]any)
	if len(p) != len(want)+1 || len(tracks) != 1 {
		t.Fatalf("participant carries %v, want exactly %v and tracks", p, want)
	}
	tr, _ := tracks[0].(map[string]any)
	wantTrack := map[string]any{"id": "t1", "kind": "video", "stream_id": "p2", "codec": "video/VP8", "muted": true}
	if len(tr) != len(wantTrack) {
		t.Fatalf("track carries %v, want %v", tr, wantTrack)
	}
	for k, v := range wantTrack {
		if tr[k] != v {
			t.Errorf("track %s = %v, want %v", k, tr[k], v)
		}
	}
	m.ActiveSpeakers([]room.Speaker{{ParticipantID: "p2", Level: 0.75}})
	sp, _ := sent(t, s)[0]["speakers"].([]any)
	if len(sp) != 1 || sp[0].(map[string]any)["participant_id"] != "p2" || sp[0].(map[string]any)["level"] != 0.75 {
		t.Fatalf("active-speakers carries %v", sp)
	}
}
