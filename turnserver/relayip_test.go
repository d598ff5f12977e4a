package turnserver

import (
	"net"
	"strings"
	"testing"
)

// A relay IP that is not this host's (say the public IP behind NAT) made
// every allocation fail while the server ran as if all were well.
func TestStartRefusesARelayIPThatIsNotLocal(t *testing.T) {
	_, err := Start(Config{UDPListen: "127.0.0.1:0", Realm: "x", Host: "127.0.0.1",
		RelayIP: net.IPv4(192, 0, 2, 1)}) // TEST-NET-1: never a local address
	if err == nil || !strings.Contains(err.Error(), "192.0.2.1") {
		t.Fatalf("err = %v, want one naming the relay IP", err)
	}
}
