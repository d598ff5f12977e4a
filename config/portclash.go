package config

import (
	"net"
	"strconv"
)

// socket is one address the server will bind, named by its key.
type socket struct {
	key, proto, addr string
}

// checkPortClashes reports two listeners on the same protocol and port
// whose hosts overlap: startup would fail with "address already in use"
// naming neither key. Malformed addresses are left to checkListen.
func (c Config) checkPortClashes(p *problems) {
	sockets := []socket{
		{"listen", "TCP", c.Listen},
		{"ice.udp_listen", "UDP", c.ICE.UDPListen},
		{"ice.tcp_listen", "TCP", c.ICE.TCPListen},
		{"tls.listen", "TCP", c.TLS.Listen},
	}
	if c.TURN.Enabled {
		sockets = append(sockets,
			socket{"turn.udp_listen", "UDP", c.TURN.UDPListen},
			socket{"turn.tcp_listen", "TCP", c.TURN.TCPListen},
			socket{"turn.tls_listen", "TCP", c.TURN.TLSListen})
	}
	for i, b := range sockets {
		for _, a := range sockets[:i] {
			if port, ok := clash(a, b); ok {
				p.add("%s: %q uses %s port %d, as %s %q does; give one of them another port",
					b.key, b.addr, b.proto, port, a.key, a.addr)
				break
			}
		}
	}
}

// clash reports whether a and b would bind the same port, and which.
func clash(a, b socket) (uint64, bool) {
	if a.proto != b.proto || a.addr == "" || b.addr == "" {
		return 0, false
	}
	aHost, aPort, errA := splitPort(a.addr)
	bHost, bPort, errB := splitPort(b.addr)
	if errA != nil || errB != nil || aPort == 0 || aPort != bPort {
		return 0, false
	}
	return aPort, anyHost(aHost) || anyHost(bHost) || sameHost(aHost, bHost)
}

func splitPort(addr string) (string, uint64, error) {
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.ParseUint(portText, 10, 16)
	return host, port, err
}

// anyHost is a host that binds every address ("", 0.0.0.0, ::).
func anyHost(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || (ip != nil && ip.IsUnspecified())
}

func sameHost(a, b string) bool {
	ipA, ipB := net.ParseIP(a), net.ParseIP(b)
	if ipA != nil && ipB != nil {
		return ipA.Equal(ipB)
	}
	return a == b
}
