package sfu

import (
	"net"
	"testing"
)

// A listener that cannot open must fail NewEngine cleanly and release the
// ones opened before it.
func TestEngineThatCannotListenReleasesWhatItOpened(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	probe, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udpAddr := probe.LocalAddr().String()
	probe.Close()

	_, err = NewEngine(EngineConfig{Loopback: true, UDP4Only: true, UDPListen: udpAddr, TCPListen: busy.Addr().String()})
	if err == nil {
		t.Fatal("NewEngine succeeded with its ICE-TCP port taken")
	}
	again, err := net.ListenPacket("udp4", udpAddr)
	if err != nil {
		t.Fatalf("the UDP port stayed open after the failed NewEngine: %v", err)
	}
	again.Close()
}
