package server

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard-sfu/switchyard/turnserver"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// freeAddr returns a loopback address that was free a moment ago, for the
// tests that must name a port in advance to see it released.
func freeAddr(t *testing.T, network string) string {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().String()
	default:
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().String()
	}
}

// portsFree fails the test unless the UDP and TCP addresses can be bound.
func portsFree(t *testing.T, udpAddr, tcpAddr string) {
	t.Helper()
	u, err := net.ListenPacket("udp4", udpAddr)
	if err != nil {
		t.Fatalf("UDP %s still held: %v", udpAddr, err)
	}
	_ = u.Close()
	l, err := net.Listen("tcp4", tcpAddr)
	if err != nil {
		t.Fatalf("TCP %s still held: %v", tcpAddr, err)
	}
	_ = l.Close()
}

func TestShutdownReleasesICEAndTURNPorts(t *testing.T) {
	cfg := testConfig()
	cfg.ICE.UDPListen, cfg.ICE.TCPListen = freeAddr(t, "udp"), freeAddr(t, "tcp")
	cfg.TURN.Enabled = true
	cfg.TURN.UDPListen, cfg.TURN.TCPListen = freeAddr(t, "udp"), freeAddr(t, "tcp")
	srv, err := New(cfg, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if got := srv.Engine().UDPAddrs()[0].String(); got != cfg.ICE.UDPListen {
		t.Fatalf("UDP mux on %s, want %s", got, cfg.ICE.UDPListen)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	portsFree(t, cfg.ICE.UDPListen, cfg.ICE.TCPListen)
	portsFree(t, cfg.TURN.UDPListen, cfg.TURN.TCPListen)
}

func TestFailedStartReleasesICEPorts(t *testing.T) {
	cfg := testConfig()
	cfg.ICE.UDPListen, cfg.ICE.TCPListen = freeAddr(t, "udp"), freeAddr(t, "tcp")
	// A session log that cannot be opened (its directory is a file) fails
	// New after the engine is up.
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg.SessionLog.Path = filepath.Join(notADir, "sessions.jsonl")
	if _, err := New(cfg, Options{Version: "test"}); err == nil {
		t.Fatal("New succeeded with an unusable session log")
	}
	portsFree(t, cfg.ICE.UDPListen, cfg.ICE.TCPListen)
}

func TestStartupLearnsPublicIPFromSTUN(t *testing.T) {
	// The embedded relay answers STUN binding requests: a STUN server on loopback.
	stun, err := turnserver.Start(turnserver.Config{UDPListen: "127.0.0.1:0", Realm: "test", Host: "127.0.0.1", RelayIP: net.IPv4(127, 0, 0, 1), TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer stun.Close()
	url := "stun:" + stun.Addrs()[0].String()

	cfg := testConfig()
	cfg.ICE.STUNServers = []string{url}
	core, logs := observer.New(zap.InfoLevel)
	h := startServerWithLog(t, cfg, zap.New(core))
	detected := logs.FilterMessageSnippet("public IP detected").All()
	if len(detected) != 1 {
		t.Fatalf("log has %d public IP detection lines, want 1", len(detected))
	}
	if ctx := detected[0].ContextMap(); ctx["ip"] != "127.0.0.1" || ctx["stun"] != url {
		t.Fatalf("detection logged %v, want 127.0.0.1 via %s", ctx, url)
	}
	// 127.0.0.1 is this host's own address: no NAT, so nothing is mapped.
	if !strings.Contains(detected[0].Message, "local address") {
		t.Fatalf("detection of a local address logged %q", detected[0].Message)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	_, j := h.joined(ctx, "main", "Ann")
	if len(j.ICEServers) != 1 || j.ICEServers[0].URLs[0] != url {
		t.Fatalf("joined ice_servers %+v, want the STUN server", j.ICEServers)
	}
}

func TestStartupFailsClearlyWhenSTUNDoesNotAnswer(t *testing.T) {
	// Nearly all of it is waiting out the STUN timeout (5 s), on no CPU:
	// it can wait beside the other parallel tests.
	t.Parallel()
	silent, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	cfg := testConfig()
	cfg.ICE.STUNServers = []string{"stun:" + silent.LocalAddr().String()}
	_, err = New(cfg, Options{Version: "test"})
	if err == nil || !strings.Contains(err.Error(), "ice.detect_public_ip") || !strings.Contains(err.Error(), "ice.public_ips") {
		t.Fatalf("err = %v, want one naming ice.detect_public_ip and the way out (ice.public_ips)", err)
	}

	// Turned off, the same configuration starts.
	cfg.ICE.DetectPublicIP = false
	startServer(t, cfg)
}
