package turnserver

import (
	"net"
	"testing"
	"time"
)

// TestRelayReachesOnlyTheICEPorts: an address of this host is not enough;
// a client must not reach its other services (DNS, metrics, databases on
// 127.0.0.1) through the relay, only the ports the SFU listens on.
func TestRelayReachesOnlyTheICEPorts(t *testing.T) {
	ice, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ice.Close()
	other, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	icePort := uint16(ice.LocalAddr().(*net.UDPAddr).Port)

	s, err := Start(Config{
		UDPListen: "127.0.0.1:0", Realm: "test", Host: "127.0.0.1", RelayIP: net.IPv4(127, 0, 0, 1),
		Secret: []byte("secret"), TTL: time.Hour, PeerPorts: []PortRange{{icePort, icePort}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	creds := s.ICEServers("p_1", time.Time{})[0]
	relayed, err := allocate(t, s, creds.Username, creds.Credential.(string))
	if err != nil {
		t.Fatal(err)
	}

	// The refused packet goes first: once the ICE port has its packet, the
	// relay has handled (and dropped) the other one.
	_, _ = relayed.WriteTo([]byte("probe"), other.LocalAddr())
	if _, err := relayed.WriteTo([]byte("media"), ice.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_ = ice.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, _, err := ice.ReadFrom(buf); err != nil || string(buf[:n]) != "media" {
		t.Fatalf("ICE port read %q, %v", buf[:n], err)
	}
	_ = other.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, _, err := other.ReadFrom(buf); err == nil {
		t.Fatalf("the relay delivered %q to a port of this host that is not an ICE port", buf[:n])
	}
}
