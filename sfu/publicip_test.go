package sfu

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v2"
)

// startSTUN runs a pion/turn server on loopback, which answers STUN
// binding requests, and returns its stun: URL.
func startSTUN(t *testing.T) string {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, err := turn.NewServer(turn.ServerConfig{
		Realm:       "test",
		AuthHandler: func(string, string, net.Addr) ([]byte, bool) { return nil, false },
		PacketConnConfigs: []turn.PacketConnConfig{{
			PacketConn:            conn,
			RelayAddressGenerator: &turn.RelayAddressGeneratorStatic{RelayAddress: net.IPv4(127, 0, 0, 1), Address: "127.0.0.1"},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return "stun:" + conn.LocalAddr().String()
}

func TestDetectPublicIPAsksTheSTUNServer(t *testing.T) {
	url := startSTUN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A stuns: URL is skipped, an unparsable one reported, the good one used.
	ip, via, err := DetectPublicIP(ctx, []string{"stuns:127.0.0.1:1", "stun:", url})
	if err != nil {
		t.Fatal(err)
	}
	if !ip.Equal(net.IPv4(127, 0, 0, 1)) || via != url {
		t.Fatalf("detected %v via %s, want 127.0.0.1 via %s", ip, via, url)
	}
}

func TestDetectPublicIPGivesUpWithinItsDeadline(t *testing.T) {
	// A socket that never answers: requests go unanswered, as with a
	// dead or firewalled STUN server.
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 1200*time.Millisecond)
	defer cancel()
	_, _, err = DetectPublicIP(ctx, []string{"stun:" + silent.LocalAddr().String()})
	if err == nil || !strings.Contains(err.Error(), "no answer") {
		t.Fatalf("err = %v, want no answer", err)
	}
	// Retransmits, so a single lost request would not have failed it.
	buf := make([]byte, 1500)
	// The requests are already queued; the deadline only ends the drain.
	_ = silent.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	n := 0
	for {
		if _, _, err := silent.ReadFrom(buf); err != nil {
			break
		}
		n++
	}
	if n < 2 {
		t.Fatalf("the silent server got %d binding requests, want retransmissions", n)
	}
}

func TestDetectPublicIPWithoutUsableServers(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, _, err := DetectPublicIP(ctx, nil); err == nil {
		t.Fatal("no servers: no error")
	}
	if _, _, err := DetectPublicIP(ctx, []string{"stuns:stun.example.com"}); err == nil || !strings.Contains(err.Error(), "only stun:") {
		t.Fatalf("stuns only: err = %v", err)
	}
}
