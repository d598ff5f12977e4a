package sfu

import (
	"net"
	"testing"
	"time"
)

// A client that opens a TCP connection to the ICE-TCP port and sends
// nothing (a port scanner, a half-open client) must not hold up Close:
// pion's TCP mux waits for that connection's first read, up to 30 s.
func TestEngineCloseDoesNotWaitForSilentICETCPClients(t *testing.T) {
	engine, err := NewEngine(EngineConfig{Loopback: true, UDP4Only: true, UDPListen: "127.0.0.1:0", TCPListen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	silent, err := net.Dial("tcp", engine.TCPAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	// Half an RFC 4571 frame: the mux has accepted and is waiting for the rest.
	if _, err := silent.Write([]byte{0, 100}); err != nil {
		t.Fatal(err)
	}

	closed := make(chan error, 1)
	go func() { closed <- engine.Close() }()
	// The bound is for a failing run only; a correct Close returns at once.
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close still waiting for a silent ICE-TCP connection after 10s")
	}
	_ = silent.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Fatal("the silent connection is still open after Close")
	}
}
