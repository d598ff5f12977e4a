package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/auth"
	"github.com/switchyard-sfu/switchyard/internal/servertest"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/server"
	"github.com/switchyard-sfu/switchyard/signal"
	"go.uber.org/zap/zaptest"
)

const cliSecret = "cli-test-secret-at-least-32-bytes-long"

func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(nil, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestTokenCommandPrintsAVerifiableToken(t *testing.T) {
	t.Setenv("SWITCHYARD_AUTH_SECRET", cliSecret) // read as the server reads it
	code, out, errOut := runCLI("token", "--room", "r1", "--identity", "ann", "--name", "Ann B", "--ttl", "5m", "--can-publish=false")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	a, err := auth.New([]byte(cliSecret), nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := a.VerifyJoin(strings.TrimSpace(out), "r1")
	if err != nil {
		t.Fatal(err)
	}
	want := auth.Permissions{Subscribe: true, Data: true}
	if g.Identity != "ann" || g.Name != "Ann B" || g.Permissions != want || time.Until(g.Expires) > 5*time.Minute {
		t.Fatalf("grant %+v, want ann/Ann B/%+v expiring within 5m", g, want)
	}

	t.Setenv("SWITCHYARD_AUTH_SECRET", "")
	if code, _, errOut := runCLI("token", "--room", "r1", "--identity", "ann"); code != 2 || !strings.Contains(errOut, "auth.secret") {
		t.Fatalf("without a key: exit %d, %q; want 2 naming auth.secret", code, errOut)
	}
	if code, _, errOut := runCLI("token", "--auth.secret", cliSecret, "--room", "r1"); code != 2 || !strings.Contains(errOut, "--identity") {
		t.Fatalf("without --identity: exit %d, %q", code, errOut)
	}
}

func TestAdminCommandsCallTheAPI(t *testing.T) {
	cfg := servertest.Loopback()
	cfg.Auth.Secret = cliSecret
	srv, err := server.New(cfg, server.Options{Log: zaptest.NewLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	servertest.Start(t, srv, 5*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	url := "http://" + srv.Addr().String()
	_, token, _ := runCLI("token", "--auth.secret", cliSecret, "--room", "r", "--identity", "ann")
	api, err := testclient.NewAPI()
	if err != nil {
		t.Fatal(err)
	}
	ann, err := testclient.Dial(ctx, api, "ws"+strings.TrimPrefix(url, "http")+"/v1/rtc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ann.Close)
	joined, err := ann.JoinToken(ctx, "r", "", strings.TrimSpace(token))
	if err != nil {
		t.Fatal(err)
	}

	// No --token: the CLI mints one from the configured key.
	code, out, errOut := runCLI("admin", "rooms", "--url", url, "--auth.secret", cliSecret)
	if code != 0 || !strings.Contains(out, joined.ParticipantID) || !strings.Contains(out, `"identity": "ann"`) {
		t.Fatalf("admin rooms: exit %d\n%s\n%s", code, out, errOut)
	}
	// A participant's token is not an admin token.
	code, _, errOut = runCLI("admin", "kick", "--url", url, "--token", strings.TrimSpace(token), "--room", "r", "--participant", "ann")
	if code != 1 || !strings.Contains(errOut, "403") {
		t.Fatalf("kick with a participant token: exit %d, %q; want 1 and 403", code, errOut)
	}
	if code, _, errOut := runCLI("admin", "mute", "--url", url, "--auth.secret", cliSecret, "--room", "r", "--participant", "ann", "--track", "none"); code != 1 || !strings.Contains(errOut, "404") {
		t.Fatalf("mute of an unknown track: exit %d, %q; want 1 and 404", code, errOut)
	}
	code, out, errOut = runCLI("admin", "kick", "--url", url, "--auth.secret", cliSecret, "--room", "r", "--participant", "ann")
	if code != 0 || !strings.Contains(out, joined.ParticipantID) {
		t.Fatalf("admin kick: exit %d\n%s\n%s", code, out, errOut)
	}
	m, _, err := ann.WaitType(ctx, 0, signal.TypeLeft)
	if err != nil || !strings.Contains(string(m.Raw), "kicked") {
		t.Fatalf("ann got %s (%v), want left kicked", m.Raw, err)
	}
	if code, _, errOut := runCLI("admin", "close-room", "--url", url, "--auth.secret", cliSecret, "--room", "r"); code != 1 || !strings.Contains(errOut, "404") {
		t.Fatalf("closing an empty room: exit %d, %q; want 1 and 404", code, errOut)
	}
	if code, _, errOut := runCLI("admin", "kick", "--url", url, "--auth.secret", cliSecret); code != 2 || !strings.Contains(errOut, "--room") {
		t.Fatalf("kick without --room: exit %d, %q", code, errOut)
	}
	if code, _, _ := runCLI("admin", "frobnicate"); code != 2 {
		t.Fatalf("unknown admin command: exit %d, want 2", code)
	}
}

func TestLocalURL(t *testing.T) {
	for listen, want := range map[string]string{
		":7880":          "http://127.0.0.1:7880",
		"0.0.0.0:80":     "http://127.0.0.1:80",
		"[::]:7880":      "http://127.0.0.1:7880",
		"192.0.2.3:7880": "http://192.0.2.3:7880",
		"localhost:7880": "http://localhost:7880",
	} {
		if got := localURL(listen); got != want {
			t.Errorf("localURL(%q) = %q, want %q", listen, got, want)
		}
	}
}
