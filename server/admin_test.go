package server

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/adminapi"
	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/room"
	"github.com/switchyard-sfu/switchyard/signal"
)

var adminPerms = auth.Permissions{Admin: true}

// adminCall sends an admin request and returns the status and JSON body.
func (h *harness) adminCall(ctx context.Context, method, path, token, body string) (int, map[string]any) {
	h.t.Helper()
	var reader io.Reader
	if body != "" {
		reader = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+h.srv.Addr().String()+path, reader)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		h.t.Fatalf("%s %s: status %d, body not JSON: %v", method, path, resp.StatusCode, err)
	}
	if resp.StatusCode == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
		h.t.Fatalf("%s %s: 401 without WWW-Authenticate", method, path)
	}
	return resp.StatusCode, out
}

// joinAs joins roomName with a token for identity and perms.
func (h *harness) joinAs(ctx context.Context, roomName, identity string, perms auth.Permissions) (*testclient.Client, signal.Joined) {
	h.t.Helper()
	c := h.dial(ctx)
	j, err := c.JoinToken(ctx, roomName, "", mint(h.t, testSecret, roomName, identity, perms, time.Hour))
	if err != nil {
		h.t.Fatal(err)
	}
	return c, j
}

func TestAdminAPIRefusesCallersWithoutAnAdminToken(t *testing.T) {
	h := startServer(t, authConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	h.joinAs(ctx, "r", "ann", everything)
	kick := "/v1/admin/rooms/r/participants/ann/kick"
	cases := []struct {
		name, method, path, token string
		status                    int
		code                      string
	}{
		{"no token", "GET", "/v1/admin/rooms", "", http.StatusUnauthorized, "unauthorized"},
		{"garbage token", "GET", "/v1/admin/rooms", "xyz", http.StatusUnauthorized, "unauthorized"},
		{"forged token", "POST", kick, mint(t, "another-secret-also-32-bytes-long!!", auth.AnyRoom, "op", adminPerms, time.Hour), http.StatusUnauthorized, "unauthorized"},
		{"expired token", "POST", kick, mint(t, testSecret, auth.AnyRoom, "op", adminPerms, -time.Minute), http.StatusUnauthorized, "unauthorized"},
		{"participant token", "GET", "/v1/admin/rooms", mint(t, testSecret, "r", "ann", everything, time.Hour), http.StatusForbidden, "forbidden"},
		{"participant token kick", "POST", kick, mint(t, testSecret, "r", "ann", everything, time.Hour), http.StatusForbidden, "forbidden"},
		{"admin of another room", "POST", kick, mint(t, testSecret, "other", "op", adminPerms, time.Hour), http.StatusForbidden, "forbidden"},
		{"admin of another room closing", "POST", "/v1/admin/rooms/r/close", mint(t, testSecret, "other", "op", adminPerms, time.Hour), http.StatusForbidden, "forbidden"},
	}
	for _, c := range cases {
		status, body := h.adminCall(ctx, c.method, c.path, c.token, "")
		if status != c.status || body["code"] != c.code {
			t.Errorf("%s: %d %v, want %d %s", c.name, status, body, c.status, c.code)
		}
	}
	if _, n := h.srv.Rooms().Counts(); n != 1 {
		t.Fatalf("%d participants after refused calls, want ann still there", n)
	}
	// A room admin sees only its room.
	status, body := h.adminCall(ctx, "GET", "/v1/admin/rooms", mint(t, testSecret, "other", "op", adminPerms, time.Hour), "")
	if status != http.StatusOK || len(body["rooms"].([]any)) != 0 {
		t.Fatalf("room admin of other lists %d %v, want no rooms", status, body)
	}
}

func TestAdminAPIIsDisabledWhenAuthIsOff(t *testing.T) {
	h := startServer(t, testConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	status, body := h.adminCall(ctx, "GET", "/v1/admin/rooms", mint(t, testSecret, auth.AnyRoom, "op", adminPerms, time.Hour), "")
	if status != http.StatusForbidden || body["code"] != "admin-disabled" {
		t.Fatalf("admin call with auth off: %d %v, want 403 admin-disabled", status, body)
	}
}

// TestAdminKickReachesTheOthersAsFastAsALeave kicks and leaves in turn on
// one server, measuring from the request to the participant-left the
// other participant receives.
func TestAdminKickReachesTheOthersAsFastAsALeave(t *testing.T) {
	h := startServer(t, authConfig())
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	admin := mint(t, testSecret, auth.AnyRoom, "op", adminPerms, time.Hour)
	watcher, _ := h.joinAs(ctx, "r", "watcher", everything)

	const rounds = 20
	var kicks, leaves []time.Duration
	for i := range rounds * 2 {
		kick := i%2 == 0
		guest, jg := h.joinAs(ctx, "r", "guest", everything)
		from := len(watcher.Messages())
		start := time.Now()
		if kick {
			status, body := h.adminCall(ctx, "POST", "/v1/admin/rooms/r/participants/"+jg.ParticipantID+"/kick", admin, "")
			if status != http.StatusOK || !slices.Equal(body["kicked"].([]any), []any{jg.ParticipantID}) {
				t.Fatalf("kick: %d %v", status, body)
			}
		} else if err := guest.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
			t.Fatal(err)
		}
		m, _, err := watcher.WaitType(ctx, from, signal.TypeParticipantLeft)
		if err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		var left signal.ParticipantLeft
		want := room.ReasonLeave
		if kick {
			want = room.ReasonKicked
		}
		if err := m.Decode(&left); err != nil || left.ParticipantID != jg.ParticipantID || left.Reason != string(want) {
			t.Fatalf("watcher got %s, want %s left with %s", m.Raw, jg.ParticipantID, want)
		}
		// The leaver hears why; a kicked one also loses its socket.
		own, _, err := guest.WaitType(ctx, 0, signal.TypeLeft)
		if err != nil || !strings.Contains(string(own.Raw), string(want)) {
			t.Fatalf("guest got %s (%v), want left %s", own.Raw, err, want)
		}
		if kick {
			if _, _, err := guest.WaitType(ctx, 0, "socket-closed"); err != nil {
				t.Fatal(err)
			}
			kicks = append(kicks, took)
		} else {
			leaves = append(leaves, took)
		}
		event, err := h.recorder.waitLeft(ctx, jg.ParticipantID)
		if err != nil || event.Reason != want {
			t.Fatalf("observer: %+v %v, want reason %s", event, err, want)
		}
		guest.Close()
	}
	slices.Sort(kicks)
	slices.Sort(leaves)
	t.Logf("request → participant-left at the watcher over %d rounds each: kick median %v (max %v), leave median %v (max %v)",
		rounds, kicks[rounds/2], kicks[rounds-1], leaves[rounds/2], leaves[rounds-1])
	status, body := h.adminCall(ctx, "POST", "/v1/admin/rooms/r/participants/nobody/kick", admin, "")
	if status != http.StatusNotFound || body["code"] != "not-found" {
		t.Fatalf("kicking nobody: %d %v, want 404 not-found", status, body)
	}
}

func TestAdminListsMutesAndClosesRooms(t *testing.T) {
	h := startServer(t, authConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	admin := mint(t, testSecret, auth.AnyRoom, "op", adminPerms, time.Hour)
	ann, ja := h.joinAs(ctx, "r", "ann", everything)
	bob, jb := h.joinAs(ctx, "r", "bob", everything)
	defer publishMedia(ctx, t, ann, ja.ParticipantID)()
	collect(ctx, t, jb.ParticipantID, bob, atLeast(5, ja.ParticipantID))

	status, body := h.adminCall(ctx, "GET", "/v1/admin/rooms", admin, "")
	var list struct{ Rooms []adminapi.Room }
	data, _ := json.Marshal(body)
	if err := json.Unmarshal(data, &list); err != nil || status != http.StatusOK {
		t.Fatalf("list: %d %s %v", status, data, err)
	}
	if len(list.Rooms) != 1 || len(list.Rooms[0].Participants) != 2 || list.Rooms[0].Participants[0].Identity != "ann" ||
		len(list.Rooms[0].Participants[0].Tracks) != 2 {
		t.Fatalf("list = %s, want r with ann (2 tracks) and bob", data)
	}
	video := list.Rooms[0].Participants[0].Tracks[1]
	if video.Kind != "video" {
		t.Fatalf("second track is %s, want video (audio sorts first)", video.Kind)
	}

	// Mute by identity: both Ann and Bob are told, as for Ann's own mute.
	mute := "/v1/admin/rooms/r/participants/ann/tracks/" + video.ID + "/mute"
	fromA, fromB := len(ann.Messages()), len(bob.Messages())
	if status, body := h.adminCall(ctx, "POST", mute, admin, ""); status != http.StatusOK || body["muted"] != true {
		t.Fatalf("mute: %d %v", status, body)
	}
	waitTrackMuted(ctx, t, ann, fromA, video.ID, true)
	waitTrackMuted(ctx, t, bob, fromB, video.ID, true)
	fromA, fromB = len(ann.Messages()), len(bob.Messages())
	if status, body := h.adminCall(ctx, "POST", mute, admin, `{"muted":false}`); status != http.StatusOK || body["muted"] != false {
		t.Fatalf("unmute: %d %v", status, body)
	}
	waitTrackMuted(ctx, t, ann, fromA, video.ID, false)
	waitTrackMuted(ctx, t, bob, fromB, video.ID, false)
	if status, body := h.adminCall(ctx, "POST", "/v1/admin/rooms/r/participants/ann/tracks/nope/mute", admin, ""); status != http.StatusNotFound {
		t.Fatalf("muting an unknown track: %d %v, want 404", status, body)
	}
	if status, body := h.adminCall(ctx, "POST", mute, admin, `{"muted":"yes"}`); status != http.StatusBadRequest {
		t.Fatalf("bad mute body: %d %v, want 400", status, body)
	}

	// Close: both leave with room-closed, each told of the other.
	fromA, fromB = len(ann.Messages()), len(bob.Messages())
	if status, body := h.adminCall(ctx, "POST", "/v1/admin/rooms/r/close", admin, ""); status != http.StatusOK || body["participants_removed"] != 2.0 {
		t.Fatalf("close: %d %v", status, body)
	}
	for _, c := range []struct {
		client *testclient.Client
		from   int
	}{{ann, fromA}, {bob, fromB}} {
		m, _, err := c.client.WaitType(ctx, c.from, signal.TypeLeft)
		if err != nil || !strings.Contains(string(m.Raw), string(room.ReasonRoomClosed)) {
			t.Fatalf("got %s (%v), want left room-closed", m.Raw, err)
		}
	}
	// Ann left first (join order), so Bob was told before his own leave.
	m, _, err := bob.WaitType(ctx, fromB, signal.TypeParticipantLeft)
	var left signal.ParticipantLeft
	if err != nil || m.Decode(&left) != nil || left.ParticipantID != ja.ParticipantID || left.Reason != string(room.ReasonRoomClosed) {
		t.Fatalf("bob got %s (%v), want participant-left %s room-closed", m.Raw, err, ja.ParticipantID)
	}
	if rooms, n := h.srv.Rooms().Counts(); rooms != 0 || n != 0 {
		t.Fatalf("after close: %d rooms, %d participants", rooms, n)
	}
	if status, _ := h.adminCall(ctx, "POST", "/v1/admin/rooms/r/close", admin, ""); status != http.StatusNotFound {
		t.Fatalf("closing a gone room: %d, want 404", status)
	}
}

// waitTrackMuted waits for c to be told, after message from, that track
// is now muted (or not).
func waitTrackMuted(ctx context.Context, t *testing.T, c *testclient.Client, from int, track string, muted bool) {
	t.Helper()
	_, _, err := c.WaitFor(ctx, from, func(m testclient.Message) bool {
		var tm signal.TrackMuted
		return m.Type == signal.TypeTrackMuted && m.Decode(&tm) == nil && tm.TrackID == track && tm.Muted == muted
	})
	if err != nil {
		t.Fatalf("never told that %s is muted=%v: %v", track, muted, err)
	}
}

func TestPublicRoomListNeedsAnAdminTokenOnceAuthIsOn(t *testing.T) {
	h := startServer(t, authConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	h.joinAs(ctx, "secret-room", "ann", everything)
	if status, body := h.adminCall(ctx, "GET", "/v1/rooms", "", ""); status != http.StatusUnauthorized {
		t.Fatalf("/v1/rooms without a token: %d %v, want 401", status, body)
	}
	status, body := h.adminCall(ctx, "GET", "/v1/rooms", mint(t, testSecret, auth.AnyRoom, "op", adminPerms, time.Hour), "")
	if status != http.StatusOK || len(body["rooms"].([]any)) != 1 {
		t.Fatalf("/v1/rooms with an admin token: %d %v", status, body)
	}
}
