package turnserver

import (
	"net"

	"github.com/pion/turn/v2"
)

// allows reports whether port is in one of the ranges.
func allows(ranges []PortRange, port int) bool {
	for _, r := range ranges {
		if port >= int(r.Min) && port <= int(r.Max) {
			return true
		}
	}
	return false
}

// portLimitedRelay hands out relay sockets that send only to the allowed
// ports. pion/turn's PermissionHandler sees the peer's IP but not its port,
// so without this an address of this host would open all its UDP services
// (a DNS resolver, statsd, …) to every client holding credentials.
type portLimitedRelay struct {
	turn.RelayAddressGenerator
	ports []PortRange
}

func (g portLimitedRelay) AllocatePacketConn(network string, requestedPort int) (net.PacketConn, net.Addr, error) {
	conn, addr, err := g.RelayAddressGenerator.AllocatePacketConn(network, requestedPort)
	if err != nil {
		return nil, nil, err
	}
	return &portLimitedConn{PacketConn: conn, ports: g.ports}, addr, nil
}

type portLimitedConn struct {
	net.PacketConn
	ports []PortRange
}

// WriteTo drops what is addressed to any other port, quietly: a refused
// peer gets no reply either way, and a log line per packet would let a
// client flood the log.
func (c *portLimitedConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if a, ok := addr.(*net.UDPAddr); !ok || !allows(c.ports, a.Port) {
		return len(p), nil
	}
	return c.PacketConn.WriteTo(p, addr)
}
