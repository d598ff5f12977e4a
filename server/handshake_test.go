package server

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
	"github.com/switchyard-sfu/switchyard/internal/testclient"
	"github.com/switchyard-sfu/switchyard/signal"
)

// With auth on, a token on the signaling URL is checked before the
// upgrade: a bad one is a 401 naming the code the join would get, and no
// WebSocket exists. Without one the upgrade proceeds unless
// auth.require_socket_token is set; either way the join is still checked.
func TestSocketTokenIsCheckedAtTheHandshake(t *testing.T) {
	for _, require := range []bool{false, true} {
		cfg := authConfig()
		cfg.Auth.RequireSocketToken = require
		h := startServer(t, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		good := mint(t, testSecret, "r1", "alice", everything, waitLimit)
		cases := []struct {
			name, token string
			code        string // "" = upgraded
		}{
			{"no token", "", map[bool]string{true: signal.CodeTokenMissing}[require]},
			{"garbage", "not-a-jwt", signal.CodeTokenMalformed},
			{"wrong key", mint(t, strings.Repeat("k", 32), "r1", "alice", everything, waitLimit), signal.CodeTokenBadSignature},
			{"expired", mint(t, testSecret, "r1", "alice", everything, -waitLimit), signal.CodeTokenExpired},
			{"good, for another room", mint(t, testSecret, "elsewhere", "alice", everything, waitLimit), ""},
			{"good", good, ""},
		}
		for _, c := range cases {
			u := h.url
			if c.token != "" {
				u += "?" + signal.SocketTokenParam + "=" + url.QueryEscape(c.token)
			}
			ws, resp, err := websocket.DefaultDialer.DialContext(ctx, u, nil)
			if c.code == "" {
				if err != nil {
					t.Errorf("require=%v %s: handshake refused: %v", require, c.name, err)
					continue
				}
				_ = ws.Close()
				continue
			}
			if err == nil {
				_ = ws.Close()
				t.Errorf("require=%v %s: upgraded, want 401 %s", require, c.name, c.code)
				continue
			}
			if resp == nil || resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
				t.Errorf("require=%v %s: got %v (%v), want 401 with a challenge", require, c.name, resp, err)
				continue
			}
			// gorilla keeps up to 1 KiB of the refused response's body.
			var body strings.Builder
			buf := make([]byte, 1024)
			n, _ := resp.Body.Read(buf)
			body.Write(buf[:n])
			if !strings.HasPrefix(body.String(), c.code+":") {
				t.Errorf("require=%v %s: body %q, want it to start with %s", require, c.name, body.String(), c.code)
			}
		}

		// The join-time check stays: a socket opened with a good token
		// still needs one in its join, for the room asked.
		c := h.dialURL(ctx, h.url+"?"+signal.SocketTokenParam+"="+url.QueryEscape(good))
		if _, err := c.JoinToken(ctx, "r2", "x", good); err == nil {
			t.Errorf("require=%v: joined r2 with a token for r1", require)
		}
		if _, err := c.JoinToken(ctx, "r1", "x", good); err != nil {
			t.Errorf("require=%v: join with the handshake's good token: %v", require, err)
		}
		cancel()
	}
}

// dialURL is dial for a signaling URL of the test's choosing.
func (h *harness) dialURL(ctx context.Context, u string) *testclient.Client {
	h.t.Helper()
	c, err := testclient.Dial(ctx, h.api, u)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(c.Close)
	return c
}
