package abuse

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/switchyard-sfu/switchyard/config"
	"github.com/switchyard-sfu/switchyard/signal"
)

// closedWithin reads from c until the server closes it, or fails after d.
func closedWithin(t *testing.T, c net.Conn, d time.Duration, what string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Errorf("%s: still open after %s", what, d)
	}
}

// Sockets that never join, requests whose headers or body never finish,
// and idle keep-alive connections are all closed by the server; the
// per-address WebSocket cap refuses the surplus.
func TestIdleAndSlowSocketsAreClosed(t *testing.T) {
	h := start(t, func(c *config.Config) {
		c.HTTP.JoinTimeout = time.Second
		c.HTTP.ReadHeaderTimeout = time.Second
		c.HTTP.ReadTimeout = 2 * time.Second
		c.HTTP.IdleTimeout = time.Second
		c.HTTP.MaxWebSocketsPerIP = 20
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main") // two sockets of the 20
	addr := h.srv.Addr().String()
	ctl.attack("idle and slow sockets", func() {
		var unjoined []*websocket.Conn
		refused := 0
		for range 30 {
			ws, resp, err := websocket.DefaultDialer.DialContext(ctx, h.url, nil)
			if err != nil {
				if resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
					t.Fatalf("dial: %v", err)
				}
				refused++
				continue
			}
			unjoined = append(unjoined, ws)
		}
		if len(unjoined) != 18 || refused != 12 {
			t.Errorf("per-address cap 20 with 2 in use: %d opened, %d refused; want 18 and 12", len(unjoined), refused)
		}
		var slow []net.Conn
		dial := func(prefix string) net.Conn {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.WriteString(c, prefix)
			slow = append(slow, c)
			return c
		}
		headers := dial("GET / HTTP/1.1\r\nHost: x\r\n")                                                       // headers never end
		body := dial("POST /v1/leave HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{\"participant_id\":") // body never ends
		idle := dial("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")                                               // then idle keep-alive
		for _, ws := range unjoined {
			closedWithin(t, ws.UnderlyingConn(), 5*time.Second, "unjoined WebSocket")
			_ = ws.Close()
		}
		closedWithin(t, headers, 5*time.Second, "unfinished headers")
		closedWithin(t, body, 5*time.Second, "unfinished body")
		closedWithin(t, idle, 5*time.Second, "idle keep-alive")
		for _, c := range slow {
			_ = c.Close()
		}
	})
}

// Beacon guessing: an unknown id and a wrong secret get the same answer,
// and guesses past the per-address rate get 429.
func TestBeaconGuessingLearnsNothingAndIsRateLimited(t *testing.T) {
	h := start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main")
	victim := h.joined(ctx, "main", "victim")
	m, _, err := victim.WaitType(ctx, 0, signal.TypeJoined)
	if err != nil {
		t.Fatal(err)
	}
	var joined signal.Joined
	if err := m.Decode(&joined); err != nil {
		t.Fatal(err)
	}
	url := "http://" + h.srv.Addr().String() + "/v1/leave"
	post := func(id, secret string) (int, string) {
		body, _ := json.Marshal(map[string]string{"participant_id": id, "leave_secret": secret})
		resp, err := http.Post(url, "application/json", strings.NewReader(string(body)))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	statuses := map[int]int{}
	ctl.attack("beacon guessing", func() {
		unknownCode, unknownBody := post("p_NOSUCHPARTICIPANT", "guess")
		wrongCode, wrongBody := post(joined.ParticipantID, "guess")
		if unknownCode != wrongCode || unknownBody != wrongBody {
			t.Errorf("unknown id → %d %q, wrong secret → %d %q: an id oracle", unknownCode, unknownBody, wrongCode, wrongBody)
		}
		for i := range 200 {
			code, _ := post(fmt.Sprintf("p_GUESS%d", i), "guess")
			statuses[code]++
		}
		http.DefaultClient.CloseIdleConnections() // the attacker's keep-alive conns are its own
	})
	t.Logf("200 guesses: %v", statuses)
	if statuses[http.StatusTooManyRequests] < 150 {
		t.Errorf("only %d of 200 guesses refused 429", statuses[http.StatusTooManyRequests])
	}
	if victim.Messages()[len(victim.Messages())-1].Type == signal.TypeLeft {
		t.Error("a guessed beacon made the victim leave")
	}
}

// A page on another host (DNS rebinding sends our Host header with its
// Origin) cannot open a WebSocket once http.hosts names ours.
func TestForgedHostAndOriginAreRefused(t *testing.T) {
	h := start(t, func(c *config.Config) { c.HTTP.Hosts = []string{"meet.example.com"} })
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main")
	try := func(host, origin string) int {
		hdr := http.Header{"Origin": {origin}}
		d := websocket.Dialer{NetDial: func(string, string) (net.Conn, error) { return net.Dial("tcp", h.srv.Addr().String()) }}
		ws, resp, err := d.DialContext(ctx, "ws://"+host+"/v1/rtc", hdr)
		if err == nil {
			_ = ws.Close()
			return http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	ctl.attack("forged Host/Origin", func() {
		for _, c := range []struct {
			host, origin string
			want         int
		}{
			{"evil.example", "http://evil.example", http.StatusForbidden}, // rebinding: Host and Origin agree
			{"meet.example.com", "http://evil.example", http.StatusForbidden},
			{"meet.example.com", "https://meet.example.com", http.StatusSwitchingProtocols},
		} {
			if got := try(c.host, c.origin); got != c.want {
				t.Errorf("Host %s, Origin %s: %d, want %d", c.host, c.origin, got, c.want)
			}
		}
	})
}

// Odd names are refused; chat with control characters is refused and
// never reaches the control.
func TestOddNamesAndChatContentAreRefused(t *testing.T) {
	h := start(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*waitLimit)
	defer cancel()
	ctl := startControl(ctx, h, "main")
	attacker := h.dial(ctx)
	fromCtl := len(ctl.sub.Messages())
	ctl.attack("odd names and chat content", func() {
		from := len(attacker.Messages())
		if err := attacker.SendRaw(websocket.TextMessage, []byte(`{"type":"join","room":"main","name":"bad\xff"}`)); err != nil {
			t.Fatal(err)
		}
		flush(ctx, t, attacker)
		if errorCodes(attacker, from)[signal.CodeBadMessage] != 1 || countType(attacker, from, signal.TypeJoined) != 0 {
			t.Error("a name with invalid UTF-8 was not refused")
		}
		for _, name := range []string{"   ", "\u3164", "\u200b\u2800", "a\u202egnp.exe"} {
			if _, err := attacker.Join(ctx, "main", name); err == nil || !strings.Contains(err.Error(), signal.CodeBadMessage) {
				t.Errorf("name %q: %v, want bad-message", name, err)
			}
		}
		if _, err := attacker.Join(ctx, "main", "ok"); err != nil {
			t.Fatal(err)
		}
		from = len(attacker.Messages())
		for _, text := range []string{"\x1b[2J cleared", "nul\x00", "\u202eevil", "c1\u009b"} {
			if err := attacker.Send(signal.Chat{Type: signal.TypeChat, Text: text}); err != nil {
				t.Fatal(err)
			}
		}
		flush(ctx, t, attacker)
		if n := errorCodes(attacker, from)[signal.CodeBadMessage]; n != 4 {
			t.Errorf("%d of 4 chat messages refused", n)
		}
		flush(ctx, t, ctl.sub)
		attacker.Close()
	})
	for _, m := range ctl.sub.Messages()[fromCtl:] {
		var relay signal.ChatRelay
		if m.Type == signal.TypeChat && m.Decode(&relay) == nil && relay.Name != "control-pub" {
			t.Errorf("control received %q", relay.Text)
		}
	}
}
