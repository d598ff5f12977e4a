package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v3"
	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/internal/whipclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// validOffer is a real pion offer, complete with candidates.
func validOffer(t *testing.T, h *harness) string {
	t.Helper()
	pc, err := h.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return offer.SDP
}

func httpDo(ctx context.Context, t *testing.T, method, url, contentType, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestWHIPBadInputGetsTheRight4xxAndDisturbsNobody(t *testing.T) {
	h := startServer(t, authConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	ann, ja := h.joinAs(ctx, "main", "ann", everything)
	defer publishMedia(ctx, t, ann, ja.ParticipantID)()
	bob, _ := h.joinAs(ctx, "main", "bob", everything)
	offer := validOffer(t, h)
	good := mint(t, testSecret, "main", "obs", publishOnly, time.Hour)
	live, err := whipclient.Publish(ctx, h.api, h.httpURL("/v1/whip/main"), good)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	whipURL := h.httpURL("/v1/whip/main")
	unknown := h.httpURL("/v1/whip/main/NOSUCHSESSION")
	_, i, err := bob.WaitFor(ctx, 0, func(m testclient.Message) bool {
		var pj signal.ParticipantJoined
		return m.Type == signal.TypeParticipantJoined && m.Decode(&pj) == nil && pj.Participant.ID == live.ParticipantID
	})
	if err != nil {
		t.Fatal(err)
	}
	before := i + 1

	cases := []struct {
		name, method, url, ctype, token, body string
		status                                int
		code                                  string
	}{
		{"wrong content type", "POST", whipURL, "application/json", good, offer, 415, "bad-content-type"},
		{"no content type", "POST", whipURL, "", good, offer, 415, "bad-content-type"},
		{"malformed SDP", "POST", whipURL, "application/sdp", good, "this is not SDP", 400, "bad-sdp"},
		{"SDP without media", "POST", whipURL, "application/sdp", good, "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", 400, "bad-sdp"},
		{"SDP without fingerprint", "POST", whipURL, "application/sdp", good, strings.ReplaceAll(offer, "a=fingerprint:", "a=x-fp:"), 400, "bad-sdp"},
		{"too large", "POST", whipURL, "application/sdp", good, offer + strings.Repeat("a=x-pad:0123456789\r\n", 4000), 413, "too-large"},
		{"missing token", "POST", whipURL, "application/sdp", "", offer, 401, "token-missing"},
		{"invalid token", "POST", whipURL, "application/sdp", "not.a.token", offer, 401, "token-invalid"},
		{"expired token", "POST", whipURL, "application/sdp", mint(t, testSecret, "main", "obs", publishOnly, -time.Hour), offer, 401, "token-invalid"},
		{"token for another room", "POST", whipURL, "application/sdp", mint(t, testSecret, "other", "obs", publishOnly, time.Hour), offer, 403, "token-wrong-room"},
		{"token without publish", "POST", whipURL, "application/sdp", mint(t, testSecret, "main", "obs", auth.Permissions{Subscribe: true}, time.Hour), offer, 403, "permission-denied"},
		{"WHEP token without subscribe", "POST", h.httpURL("/v1/whep/main"), "application/sdp", good, offer, 403, "permission-denied"},
		{"bad room name", "POST", h.httpURL("/v1/whip/bad%20room"), "application/sdp", good, offer, 400, "bad-room"},
		{"DELETE unknown session", "DELETE", unknown, "", "", "", 404, "no-such-session"},
		{"PATCH unknown session", "PATCH", unknown, "application/trickle-ice-sdpfrag", "", "a=ice-ufrag:x\r\n", 404, "no-such-session"},
		{"DELETE a WHIP session as WHEP", "DELETE", strings.Replace(live.Location.String(), "/whip/", "/whep/", 1), "", "", "", 404, "no-such-session"},
		{"PATCH wrong content type", "PATCH", live.Location.String(), "application/sdp", "", "a=candidate:1 1 udp 1 127.0.0.1 9 typ host\r\n", 415, "bad-content-type"},
		{"PATCH garbage fragment", "PATCH", live.Location.String(), "application/trickle-ice-sdpfrag", "", "hello\r\n", 400, "bad-sdp"},
		{"PATCH bad candidate", "PATCH", live.Location.String(), "application/trickle-ice-sdpfrag", "", "a=mid:0\r\na=candidate:nonsense\r\n", 400, "bad-sdp"},
	}
	for _, c := range cases {
		status, body := httpDo(ctx, t, c.method, c.url, c.ctype, c.token, c.body)
		var e struct{ Type, Code, Message string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || status != c.status || e.Code != c.code || e.Type != "error" || e.Message == "" {
			t.Errorf("%s: %d %s, want %d with code %s and a message", c.name, status, body, c.status, c.code)
		}
	}
	// A good trickle PATCH on the live session is accepted.
	if status, body := httpDo(ctx, t, "PATCH", live.Location.String(), "application/trickle-ice-sdpfrag", "",
		"a=mid:0\r\na=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host\r\n"); status != http.StatusNoContent {
		t.Errorf("good PATCH: %d %s, want 204", status, body)
	}

	// Nobody else was disturbed: Bob heard no joins or leaves, and the
	// live WHIP session and Ann's media still work.
	for _, m := range bob.Messages()[before:] {
		if m.Type == signal.TypeParticipantJoined || m.Type == signal.TypeParticipantLeft {
			t.Errorf("bad requests disturbed the room: Bob heard %s", m.Raw)
		}
	}
	collect(ctx, t, "bob", bob, atLeast(10, ja.ParticipantID))
	if n := h.srv.whip.Sessions(); n != 1 {
		t.Errorf("%d WHIP sessions, want the one live", n)
	}
	if err := live.Delete(ctx); err != nil {
		t.Fatal(err)
	}
}
