package server

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/sessionlog"
	"github.com/switchyard-sfu/switchyard/signal"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

const testSecret = "test-secret-that-is-at-least-32-bytes-long"

func authConfig() config.Config {
	cfg := testConfig()
	cfg.Auth.Secret = testSecret
	return cfg
}

// mint signs a token with key for identity in roomName, valid for ttl
// from now (negative: already expired).
func mint(t *testing.T, key, roomName, identity string, perms auth.Permissions, ttl time.Duration) string {
	t.Helper()
	now := time.Now()
	if ttl < 0 { // issue in the past so it is expired now, beyond the leeway
		now = now.Add(ttl - auth.Leeway - 2*time.Second)
		ttl = time.Second
	}
	a, err := auth.New([]byte(key), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	token, err := a.Issue(auth.Grant{Room: roomName, Identity: identity, Name: strings.ToUpper(identity), Permissions: perms}, ttl)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

var (
	everything    = auth.Permissions{Publish: true, Subscribe: true, Data: true}
	subscribeOnly = auth.Permissions{Subscribe: true}
	publishOnly   = auth.Permissions{Publish: true}
)

func TestJoinTokenIsCheckedAndEachFailureHasItsCode(t *testing.T) {
	h := startServer(t, authConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	cases := []struct {
		name  string
		token string
		code  string // "" means the join succeeds
	}{
		{"valid", mint(t, testSecret, "r1", "ann", everything, time.Hour), ""},
		{"missing", "", signal.CodeTokenMissing},
		{"malformed", "not.a.jwt", signal.CodeTokenMalformed},
		{"expired", mint(t, testSecret, "r1", "ann", everything, -time.Minute), signal.CodeTokenExpired},
		{"wrong signature", mint(t, "another-secret-also-32-bytes-long!!", "r1", "ann", everything, time.Hour), signal.CodeTokenBadSignature},
		{"wrong room", mint(t, testSecret, "r2", "ann", everything, time.Hour), signal.CodeTokenWrongRoom},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client := h.dial(ctx)
			// The name sent is ignored with auth on: the token names the holder.
			joined, err := client.JoinToken(ctx, "r1", "Mallory", c.token)
			if c.code == "" {
				if err != nil {
					t.Fatal(err)
				}
				want := signal.Permissions{Publish: true, Subscribe: true, Data: true}
				if joined.Identity != "ann" || joined.Permissions != want {
					t.Fatalf("joined identity %q permissions %+v, want ann %+v", joined.Identity, joined.Permissions, want)
				}
				if list := h.srv.Rooms().Rooms(); len(list) != 1 || list[0].Participants[0].Name != "ANN" || list[0].Participants[0].Identity != "ann" {
					t.Fatalf("rooms = %+v, want ANN (ann) in r1", list)
				}
				client.Close()
				return
			}
			var refused *testclient.RefusedError
			if !errors.As(err, &refused) || refused.Code != c.code || refused.Ref != signal.TypeJoin {
				t.Fatalf("join: %v, want error %s", err, c.code)
			}
			// No session: the client is in no room and can still try again.
			if err := client.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := client.WaitFor(ctx, 0, func(m testclient.Message) bool {
				return m.Type == signal.TypeError && strings.Contains(string(m.Raw), signal.CodeNotJoined)
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, n := h.srv.Rooms().Counts(); n != 0 {
		t.Fatalf("%d participants after the cases, want 0", n)
	}
}

func TestSubscribeOnlyParticipantCannotPublishButReceives(t *testing.T) {
	h := startServer(t, authConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	viewer := h.dial(ctx)
	jv, err := viewer.JoinToken(ctx, "r", "", mint(t, testSecret, "r", "viewer", subscribeOnly, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if jv.Permissions.Publish || !jv.Permissions.Subscribe {
		t.Fatalf("joined permissions %+v, want subscribe only", jv.Permissions)
	}
	_, err = viewer.Publish(ctx, jv.ParticipantID)
	if err == nil || !strings.Contains(err.Error(), `"code":"`+signal.CodePermissionDenied+`"`) {
		t.Fatalf("publish by a subscribe-only participant: %v, want %s", err, signal.CodePermissionDenied)
	}

	speaker := h.dial(ctx)
	js, err := speaker.JoinToken(ctx, "r", "", mint(t, testSecret, "r", "speaker", everything, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer publishMedia(ctx, t, speaker, js.ParticipantID)()
	collect(ctx, t, jv.ParticipantID, viewer, atLeast(5, js.ParticipantID))
	if info := h.srv.Rooms().Rooms(); len(info) != 1 || len(info[0].Participants) != 2 || len(info[0].Participants[0].Tracks) != 0 {
		t.Fatalf("rooms = %+v, want the viewer with no tracks", info)
	}
}

func TestParticipantWithoutSubscribeIsNeverSentTracks(t *testing.T) {
	h := startServer(t, authConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	deaf := h.dial(ctx)
	if _, err := deaf.JoinToken(ctx, "r", "", mint(t, testSecret, "r", "deaf", publishOnly, time.Hour)); err != nil {
		t.Fatal(err)
	}
	listener := h.dial(ctx)
	jl, err := listener.JoinToken(ctx, "r", "", mint(t, testSecret, "r", "listener", subscribeOnly, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	speaker := h.dial(ctx)
	js, err := speaker.JoinToken(ctx, "r", "", mint(t, testSecret, "r", "speaker", everything, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer publishMedia(ctx, t, speaker, js.ParticipantID)()
	// The listener's media proves the tracks were forwarded to everyone
	// allowed; the deaf participant was handled in the same pass.
	collect(ctx, t, jl.ParticipantID, listener, atLeast(5, js.ParticipantID))
	if _, _, err := deaf.WaitType(ctx, 0, signal.TypeTrackPublished); err != nil {
		t.Fatal(err) // it still hears who publishes what
	}
	for _, m := range deaf.Messages() {
		if m.Type == signal.TypeOffer {
			t.Fatalf("a participant without subscribe permission was sent a subscribe offer: %s", m.Raw)
		}
	}
	select {
	case p := <-deaf.Packets:
		t.Fatalf("a participant without subscribe permission received a %s packet", p.Kind)
	default:
	}
}

func TestAuthOffIsLoggedAsAWarning(t *testing.T) {
	for _, on := range []bool{false, true} {
		core, logs := observer.New(zap.InfoLevel)
		cfg := testConfig()
		if on {
			cfg.Auth.Secret = testSecret
		}
		srv, err := New(cfg, Options{Log: zap.New(core)})
		if err != nil {
			t.Fatal(err)
		}
		warned := logs.FilterLevelExact(zap.WarnLevel).FilterMessageSnippet("AUTH IS OFF").Len() == 1
		if warned == on {
			t.Errorf("auth on=%v: warning logged=%v", on, warned)
		}
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

func TestSessionLogRecordsTheTokenIdentity(t *testing.T) {
	cfg := authConfig()
	cfg.SessionLog.Path = filepath.Join(t.TempDir(), "sessions.jsonl")
	h := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	c := h.dial(ctx)
	j, err := c.JoinToken(ctx, "r", "", mint(t, testSecret, "r", "ann", everything, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Send(signal.Leave{Type: signal.TypeLeave}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.recorder.waitLeft(ctx, j.ParticipantID); err != nil {
		t.Fatal(err)
	}
	records, _, err := sessionlog.ReadFile(cfg.SessionLog.Path)
	if err != nil {
		t.Fatal(err)
	}
	if len(records) != 2 || records[0].Identity != "ann" || records[1].Identity != "ann" || records[0].Name != "ANN" {
		t.Fatalf("records = %+v, want a join and a leave of ANN with identity ann", records)
	}
}

func TestChatNeedsTheDataPermission(t *testing.T) {
	h := startServer(t, authConfig())
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	mute := h.dial(ctx)
	if _, err := mute.JoinToken(ctx, "r", "", mint(t, testSecret, "r", "mute", auth.Permissions{Publish: true, Subscribe: true}, time.Hour)); err != nil {
		t.Fatal(err)
	}
	talker := h.dial(ctx)
	if _, err := talker.JoinToken(ctx, "r", "", mint(t, testSecret, "r", "talker", everything, time.Hour)); err != nil {
		t.Fatal(err)
	}
	expectError(ctx, t, mute, signal.Chat{Type: signal.TypeChat, Text: "may I?"}, signal.CodePermissionDenied)
	// The refusal ended nothing: the same participant still hears chat.
	if err := talker.Send(signal.Chat{Type: signal.TypeChat, Text: "you may listen"}); err != nil {
		t.Fatal(err)
	}
	waitChat(ctx, t, mute, 0, "you may listen")
	for _, m := range talker.Messages() {
		var relay signal.ChatRelay
		if m.Type == signal.TypeChat && m.Decode(&relay) == nil && relay.Text == "may I?" {
			t.Fatal("chat from a participant without the data permission was relayed")
		}
	}
}
