package turnserver

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/turn/v2"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// startRelay starts a relay on loopback that may reach peerPorts.
func startRelay(t *testing.T, peerPorts ...PortRange) *Server {
	t.Helper()
	s, err := Start(Config{
		PeerPorts: peerPorts,
		UDPListen: "127.0.0.1:0",
		TCPListen: "127.0.0.1:0",
		Realm:     "test",
		Host:      "127.0.0.1",
		RelayIP:   net.IPv4(127, 0, 0, 1),
		Secret:    []byte("secret"),
		TTL:       time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

// allocate returns a relayed socket from s for username/password.
func allocate(t *testing.T, s *Server, username, password string) (net.PacketConn, error) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := s.Addrs()[0].String()
	c, err := turn.NewClient(&turn.ClientConfig{
		STUNServerAddr: addr, TURNServerAddr: addr, Username: username, Password: password, Realm: "test", Conn: conn,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); _ = conn.Close() })
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relayed, err := c.Allocate()
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = relayed.Close() })
	return relayed, nil
}

func TestICEServersCarryWorkingCredentials(t *testing.T) {
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	port := uint16(peer.LocalAddr().(*net.UDPAddr).Port)
	s := startRelay(t, PortRange{port, port})
	servers := s.ICEServers("p_1", time.Time{})
	if len(servers) != 1 || len(servers[0].URLs) != 2 ||
		servers[0].URLs[0] != "turn:"+s.Addrs()[0].String()+"?transport=udp" ||
		servers[0].URLs[1] != "turn:"+s.Addrs()[1].String()+"?transport=tcp" {
		t.Fatalf("ICE servers %+v", servers)
	}
	password, _ := servers[0].Credential.(string)
	relayed, err := allocate(t, s, servers[0].Username, password)
	if err != nil {
		t.Fatalf("allocation with the given credentials: %v", err)
	}

	// The relay reaches this host…
	if _, err := relayed.WriteTo([]byte("hello"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	_ = peer.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	n, from, err := peer.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("peer read %q, %v", buf[:n], err)
	}
	if from.String() != relayed.LocalAddr().String() {
		t.Fatalf("relayed from %s, want the allocation %s", from, relayed.LocalAddr())
	}
	// …and nothing else: 127.0.0.2 is loopback but no address of this host.
	if _, err := relayed.WriteTo([]byte("hello"), &net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 9}); err == nil {
		t.Fatal("the relay accepted a peer that is not this host")
	}
}

func TestBadCredentialsGetNoAllocation(t *testing.T) {
	s := startRelay(t)
	good := s.ICEServers("p_1", time.Now().Add(time.Minute))[0]
	expired := s.ICEServers("p_1", time.Now().Add(-time.Second))[0]
	expiredPassword, _ := expired.Credential.(string)
	for name, creds := range map[string][2]string{
		"wrong password":    {good.Username, "not-the-password"},
		"expired":           {expired.Username, expiredPassword},
		"other participant": {strings.Replace(good.Username, "p_1", "p_2", 1), good.Credential.(string)},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := allocate(t, s, creds[0], creds[1]); err == nil {
				t.Fatal("allocation succeeded")
			}
		})
	}
}

func TestStartNeedsAHostAndFreesPortsOnError(t *testing.T) {
	if _, err := Start(Config{UDPListen: "127.0.0.1:0", Realm: "x", RelayIP: net.IPv4(127, 0, 0, 1)}); err == nil {
		t.Fatal("no host: no error")
	}
	// A TLS listener without a certificate fails after UDP is open; the
	// UDP port must be closed again (goleak and this rebind check it).
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := udp.LocalAddr().String()
	_ = udp.Close()
	_, err = Start(Config{UDPListen: addr, TLSListen: "127.0.0.1:0", CertFile: "/nonexistent.pem", KeyFile: "/nonexistent.key",
		Realm: "x", Host: "127.0.0.1", RelayIP: net.IPv4(127, 0, 0, 1)})
	if err == nil || !strings.Contains(err.Error(), "/nonexistent.pem") || !strings.Contains(err.Error(), "/nonexistent.key") {
		t.Fatalf("err = %v, want a certificate error naming both files", err)
	}
	again, err := net.ListenPacket("udp4", addr)
	if err != nil {
		t.Fatalf("UDP port still held after the failed start: %v", errors.Unwrap(err))
	}
	_ = again.Close()
}
