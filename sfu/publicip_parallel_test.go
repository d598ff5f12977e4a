package sfu

import (
	"context"
	"net"
	"testing"
	"time"
)

// A dead first server (UDP dropped by a firewall, so no ICMP error comes
// back) must not use up the whole deadline: the next one answers.
func TestDetectPublicIPDoesNotWaitOutADeadServer(t *testing.T) {
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	good := startSTUN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ip, via, err := DetectPublicIP(ctx, []string{"stun:" + silent.LocalAddr().String(), good})
	if err != nil {
		t.Fatal(err)
	}
	if !ip.Equal(net.IPv4(127, 0, 0, 1)) || via != good {
		t.Fatalf("detected %v via %s, want 127.0.0.1 via %s", ip, via, good)
	}
}
